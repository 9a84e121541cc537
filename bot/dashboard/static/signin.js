// The Mini App's first page: hand Telegram's initData to the server, which checks its
// signature and age and sets the session cookie; then go where it says.
(function () {
  "use strict";
  var status = document.getElementById("status");
  var data = window.growthbotTelegram && window.growthbotTelegram.initData;
  if (!data && window.Telegram && window.Telegram.WebApp) {
    data = window.Telegram.WebApp.initData;
  }
  if (!data && status.dataset.signedIn === "1") {
    window.location.replace("/dashboard/groups");
    return;
  }
  if (!data) {
    status.textContent = status.dataset.elsewhere;
    return;
  }
  var body = new URLSearchParams();
  body.set("init_data", data);
  fetch("/dashboard/auth", {
    method: "POST",
    body: body,
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  })
    .then(function (response) {
      return response.json().then(function (json) {
        if (response.ok && json.next) {
          window.location.replace(json.next);
        } else {
          status.textContent = json.message || status.dataset.refused;
          status.setAttribute("role", "alert");
        }
      });
    })
    .catch(function () {
      status.textContent = status.dataset.refused;
    });
})();
