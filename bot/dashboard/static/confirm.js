// A form with data-confirm (deleting a post, ending an offer) asks first: the change cannot
// be undone from the dashboard. Telegram's own dialog inside the Mini App when its script
// is there; the browser's otherwise.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) {
      return;
    }
    if (form.dataset.confirmed === "1") {
      return;
    }
    event.preventDefault();
    var go = function () {
      form.dataset.confirmed = "1";
      form.submit();
    };
    var app = window.Telegram && window.Telegram.WebApp;
    if (app && app.showConfirm) {
      app.showConfirm(form.dataset.confirm, function (ok) {
        if (ok) go();
      });
    } else if (window.confirm(form.dataset.confirm)) {
      go();
    }
  });
})();
