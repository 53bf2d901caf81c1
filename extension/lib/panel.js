// The in-page panel: a "Create link" button on a campaign page that opens the
// link form (lib/link-form.js) for the campaigns of the page.
//
// Its UI lives in a *closed* shadow root on a host element styled
// `all: initial`, fixed, at the top z-index: the page's styles cannot reach
// it, and the page's scripts can neither read it (no shadowRoot to follow,
// nothing in the page's DOM) nor drive it (every button acts only on trusted
// events, that is a person's click or key).
//
// Like lib/link-form.js this module imports nothing: the content script loads
// it from a per-session random address and hands it the form module and
// lib/i18n.js (its words come from _locales, like every other screen's).

const HOST_ID = "tasklink-extension-root";

/** The Tasklink mark (the icon's chain link), drawn as SVG without any markup string. */
function mark(doc) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = doc.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "mark");
  const group = doc.createElementNS(ns, "g");
  group.setAttribute("transform", "rotate(-45 12 12)");
  for (const x of [3.5, 11.5]) {
    const rect = doc.createElementNS(ns, "rect");
    for (const [name, value] of [["x", x], ["y", 9], ["width", 9], ["height", 6], ["rx", 3], ["fill", "none"], ["stroke", "currentColor"], ["stroke-width", 2]]) {
      rect.setAttribute(name, String(value));
    }
    group.append(rect);
  }
  svg.append(group);
  return svg;
}

/**
 * Mount the button and panel. Options:
 * - `document`, `location`: the page's;
 * - `form`: the lib/link-form.js module;
 * - `styles`: CSS texts (link-form.css, panel.css);
 * - `ask`: the message function, `MSG`: the message types;
 * - `i18n`: the lib/i18n.js module;
 * - `matches`: the page's campaigns from the service worker (lib/match.js shape).
 */
export function mountPanel({ document: doc, location, form, styles, ask, MSG, matches, i18n }) {
  const { t } = i18n;
  const h = (tag, props, children) => form.el(doc, tag, props, children);

  const host = doc.createElement("div");
  host.id = HOST_ID;
  for (const [name, value] of [
    ["all", "initial"], ["position", "fixed"], ["right", "16px"], ["bottom", "16px"],
    ["z-index", "2147483647"], ["display", "block"],
  ]) host.style.setProperty(name, value, "important");
  const shadow = host.attachShadow({ mode: "closed" });
  shadow.adoptedStyleSheets = styles.map((text) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    return sheet;
  });

  // The page's campaigns, kept current: a single-page site may change its address without a reload.
  let current = { href: location.href, matches };
  async function here(campaignId) {
    if (location.href !== current.href) {
      const href = location.href;
      const answer = await ask(MSG.PAGE_MATCH, { url: href });
      // Rules match by host, which such a change cannot alter; the worker cleans the URL.
      if (answer.ok && answer.data.campaigns.length) current = { href, matches: answer.data.campaigns };
    }
    const match = current.matches.find((m) => m.campaignId === campaignId);
    return match ? { landingUrl: match.landingUrl, pageAllowed: match.pageAllowed } : null;
  }

  const linkForm = form.createLinkForm({
    document: doc,
    source: form.messageSource(ask, MSG),
    campaigns: matches.map((m) => ({ id: m.campaignId, name: m.campaignName, link_available: true })),
    page: { onPage: true, here },
    idPrefix: "tasklink",
    i18n,
  });

  const launcher = h("button", { class: "launcher", type: "button", title: t("panel_launcher_title") }, [
    mark(doc),
    h("span", { text: t("panel_launcher") }),
  ]);
  const closeButton = h("button", { class: "close", type: "button", "aria-label": t("panel_close"), text: "×" });
  const panel = h("section", { class: "panel", hidden: true, role: "region", "aria-label": t("panel_region") }, [
    h("div", { class: "head" }, [mark(doc), h("h2", { text: t("panel_heading") }), closeButton]),
    h("div", { class: "body" }, [linkForm.element]),
  ]);
  shadow.append(h("div", { class: "wrap" }, [launcher, panel]));
  (doc.body || doc.documentElement).append(host);

  async function open() {
    launcher.hidden = true;
    panel.hidden = false;
    closeButton.focus();
    // Loaded once; a failed load (signed out, API down) is tried again on the next open.
    if (!linkForm.ready()) await linkForm.start({ createAtOnce: true });
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.focus();
  }

  form.onTrusted(launcher, "click", open);
  form.onTrusted(closeButton, "click", close);
  form.onTrusted(panel, "keydown", (event) => { if (event.key === "Escape") close(); });
}
