/*! Tasklink landing tag: keeps the partner click id from the landing URL in a first-party cookie.
 * <script src="https://YOUR-TASKLINK-ADDRESS/tag.js" data-param="clickid" data-days="30" async></script>
 * Then at checkout: Tasklink.clickId() in the page, or the "tasklink_click" cookie on your server. */
(function (window, document) {
  "use strict";
  var COOKIE = "tasklink_click";
  // Our click ids are 36 URL-safe base64 characters; older ones 30. Anything else is not ours.
  var PLAUSIBLE = /^(?:[A-Za-z0-9_-]{36}|[A-Za-z0-9_-]{30})$/;
  var DAY = 86400;

  // currentScript is the tag itself while it runs (also with async or defer); look it up by address otherwise.
  var tag = document.currentScript || document.querySelector('script[src*="/tag.js"]');
  var param = (tag && tag.getAttribute("data-param")) || "clickid";
  var days = parseInt((tag && tag.getAttribute("data-days")) || "", 10);
  if (!(days >= 1 && days <= 3650)) days = 30; // the campaigns' default attribution window

  function plausible(value) {
    return typeof value === "string" && PLAUSIBLE.test(value) ? value : null;
  }

  function fromUrl() {
    var found = null;
    try {
      var values = new URLSearchParams(window.location.search).getAll(param);
      for (var i = 0; i < values.length; i++) found = plausible(values[i]) || found;
    } catch (e) { /* a browser without URLSearchParams: nothing to keep */ }
    return found;
  }

  function fromCookie() {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(COOKIE + "=") === 0) return plausible(parts[i].slice(COOKIE.length + 1));
    }
    return null;
  }

  // The newest click wins: a landing with a new click id replaces the kept one and
  // starts its own attribution window; a visit without one keeps what is there.
  var arrived = fromUrl();
  if (arrived) {
    document.cookie = COOKIE + "=" + arrived + "; Max-Age=" + days * DAY + "; Path=/; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
  }

  var api = window.Tasklink || {};
  /** The kept click id, or null when this visitor came through no partner link in the window. */
  api.clickId = function () { return fromCookie(); };
  api.cookieName = COOKIE;
  window.Tasklink = api;
})(window, document);
