// The Content page's broadcasts: while one is being sent, its progress (sent, failed, left,
// rate) is fetched again every five seconds, as its message in chat is edited.
(function () {
  "use strict";
  var box = document.getElementById("broadcasts");
  if (!box || box.dataset.live !== "1") return;
  var timer = window.setInterval(function () {
    fetch(box.dataset.source, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html; // rendered and escaped by the server
        if (!box.querySelector(".card")) window.clearInterval(timer);
      })
      .catch(function () {
        window.clearInterval(timer);
      });
  }, 5000);
})();
