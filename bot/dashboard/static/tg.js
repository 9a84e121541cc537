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
  // WCAG relative luminance and contrast, to keep text colours readable on the theme's
  // background: Telegram's light theme has links and hints below 4.5:1 on white.
  function rgb(hex) {
    var h = hex.replace("#", "");
    if (h.length === 3) h = h.replace(/(.)/g, "$1$1");
    return [0, 2, 4].map(function (i) { return parseInt(h.substr(i, 2), 16); });
  }
  function luminance(c) {
    var v = c.map(function (x) {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function contrast(a, b) {
    var x = luminance(rgb(a)), y = luminance(rgb(b));
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function readable(color, bg, text) {
    // blend the colour toward the text colour until it reads at 4.5:1 on the background
    var c = rgb(color), t = rgb(text), out = color;
    for (var step = 0; step <= 10 && contrast(out, bg) < 4.5; step += 1) {
      var mixed = c.map(function (v, i) { return Math.round(v + (t[i] - v) * step / 10); });
      out = "#" + mixed.map(function (v) { return ("0" + v.toString(16)).slice(-2); }).join("");
    }
    return out;
  }
  var HEX = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
  if (theme && typeof theme === "object") {
    var root = document.documentElement;
    var bg = HEX.test(theme.bg_color || "") ? theme.bg_color : "#ffffff";
    var text = HEX.test(theme.text_color || "") ? theme.text_color : "#000000";
    var secondary = HEX.test(theme.secondary_bg_color || "") ? theme.secondary_bg_color : bg;
    Object.keys(theme).forEach(function (name) {
      var value = String(theme[name]);
      if (!HEX.test(value)) return;
      if (/^(link|hint|subtitle_text|destructive_text|accent_text)_color$/.test(name)) {
        value = readable(readable(value, bg, text), secondary, text);
      }
      root.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), value);
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
    // at 360 px the tabs scroll: keep the current page's tab in view
    var current = document.querySelector(".tabs [aria-current='page']");
    if (current && current.scrollIntoView) current.scrollIntoView({ block: "nearest", inline: "center" });
    post("web_app_ready");
    post("web_app_expand");
  });
})();
