// Telegram's Mini App glue, without loading telegram-web-app.js from telegram.org: the
// theme (tgWebAppThemeParams in the URL fragment Telegram opens the app with) becomes the
// --tg-theme-* CSS variables the stylesheet reads, kept for the pages visited after the
// first; and the client is told the app is ready and may take the full height.
(function () {
  "use strict";
  var KEY = "gb-theme";
  var params = new URLSearchParams(window.location.hash.slice(1));
  var theme = null;
  try {
    var raw = params.get("tgWebAppThemeParams");
    if (raw) {
      theme = JSON.parse(raw);
      window.sessionStorage.setItem(KEY, raw);
    } else if (window.sessionStorage.getItem(KEY)) {
      theme = JSON.parse(window.sessionStorage.getItem(KEY));
    }
  } catch (e) {
    theme = null;
  }
  if (window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.themeParams) {
    theme = window.Telegram.WebApp.themeParams;
  }
  if (theme && typeof theme === "object") {
    var root = document.documentElement;
    Object.keys(theme).forEach(function (name) {
      var value = String(theme[name]);
      if (/^#[0-9a-fA-F]{3,8}$/.test(value)) {
        root.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), value);
      }
    });
    root.classList.add("in-telegram");
  }
  function post(event, data) {
    var body = JSON.stringify({ eventType: event, eventData: data || {} });
    try {
      if (window.TelegramWebviewProxy) {
        window.TelegramWebviewProxy.postEvent(event, JSON.stringify(data || {}));
      } else if (window.external && window.external.notify) {
        window.external.notify(body);
      } else if (window.parent !== window) {
        window.parent.postMessage(body, "https://web.telegram.org");
      }
    } catch (e) {
      /* not inside Telegram: a desktop browser */
    }
  }
  window.growthbotTelegram = { post: post, initData: params.get("tgWebAppData") };
  document.addEventListener("DOMContentLoaded", function () {
    post("web_app_ready");
    post("web_app_expand");
  });
})();
