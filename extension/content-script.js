// Tasklink content script: a thin loader. The service worker registers it on
// the domains of the partner's campaigns only (chrome.scripting, from the
// match rules). It asks the worker whether this page belongs to a campaign
// that allows links (the worker matches locally and asks the server nothing),
// and only then loads the panel (lib/panel.js) and the link form it shares
// with the popup (lib/link-form.js), with their words (lib/i18n.js).
//
// The modules come from chrome.runtime.getURL, which here gives a per-session
// random address (web_accessible_resources with use_dynamic_url), so no site
// can probe for the extension by a fixed URL.
(() => {
  "use strict";

  if (window.top !== window) return;
  // Once per page, also when the worker injects it again after site access is granted.
  // (This global lives in the content script's isolated world, not the page's.)
  const LOADED = Symbol.for("tasklink.content-script");
  if (globalThis[LOADED]) return;
  globalThis[LOADED] = true;

  const url = (path) => chrome.runtime.getURL(path);
  const text = async (path) => (await fetch(url(path))).text();

  async function load() {
    const [{ MSG }, form, i18n] = await Promise.all([
      import(url("lib/messages.js")), import(url("lib/link-form.js")), import(url("lib/i18n.js")),
    ]);
    const ask = form.makeAsk((message) => chrome.runtime.sendMessage(message), i18n.t("panel_lost"));
    const answer = await ask(MSG.PAGE_MATCH, { url: location.href });
    if (!answer.ok || !answer.data.campaigns.length) return;
    const [{ mountPanel }, ...styles] = await Promise.all([import(url("lib/panel.js")), text("link-form.css"), text("panel.css")]);
    mountPanel({ document, location, form, styles, ask, MSG, matches: answer.data.campaigns, i18n });
  }

  // A page Tasklink cannot load into stays exactly as it was.
  load().catch(() => {});
})();
