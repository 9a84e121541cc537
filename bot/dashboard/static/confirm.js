// A form with data-confirm (deleting a post, ending an offer) asks first with the browser's
// confirmation dialog: the change cannot be undone from the dashboard.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    }
  });
})();
