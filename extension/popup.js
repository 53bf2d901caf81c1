// Popup: the dashboard-widget flow — the link form (lib/link-form.js, shared
// with the in-page panel) starting from the partner's programs, with Advanced
// reporting info — plus the partner's recent links and, when some campaign
// sites have not been allowed, a way to allow them. Every call goes through
// the service worker, which holds the token.

import { createLinkForm, el, isBlocking, makeAsk, messageSource, onTrusted } from "./lib/link-form.js";
import { linkCounts, linkState } from "./lib/linkstate.js";
import { MSG } from "./lib/messages.js";
import { cleanReporting, REPORTING_FIELDS, reportingPairs } from "./lib/reporting.js";
import { requestSiteAccess } from "./lib/sites.js";

const $ = (id) => document.getElementById(id);
const h = (tag, props, children) => el(document, tag, props, children);
const ask = makeAsk((message) => chrome.runtime.sendMessage(message), "Tasklink did not answer. Close and reopen this window.");

// Advanced (Sub ID 1–3, Shared ID): the popup's addition to the form.
const advanced = {
  element: $("advanced"),
  collect() {
    const typed = Object.fromEntries(REPORTING_FIELDS.map((name) => [name, $(name).value]));
    const { errors } = cleanReporting(typed);
    if (errors.length) return { error: { kind: "invalid", message: errors.join(" ") } };
    return { fields: { reporting: typed } };
  },
  note(link) {
    const pairs = reportingPairs(link);
    return pairs.length ? `Copy adds your reporting info: ${pairs.map(([label, value]) => `${label} ${value}`).join(", ")}.` : "";
  },
};

// --- site access ----------------------------------------------------------------

const access = { missing: [] };

async function checkSiteAccess() {
  const answer = await ask(MSG.SITE_ACCESS);
  const missing = answer.ok ? answer.data.missing : [];
  access.missing = missing;
  $("site-access").hidden = !missing.length;
  if (!missing.length) return;
  $("site-access-text").replaceChildren(
    "Create link appears only on campaign sites you allow. Not allowed yet: ",
    h("strong", { text: answer.data.hosts.join(", ") }),
    ".",
  );
  $("allow-sites").hidden = false;
  fadeWhenMore();
}

onTrusted($("allow-sites"), "click", () => {
  requestSiteAccess(chrome.permissions, access.missing).then(({ granted, message }) => {
    $("site-access-status").textContent = message;
    if (granted) {
      $("allow-sites").hidden = true;
      $("site-access-text").replaceChildren();
    }
  });
});

// --- recent links ---------------------------------------------------------------

/** The list scrolls inside its column when long: its last visible entry fades while more is below. */
function fadeWhenMore() {
  const list = $("recent");
  list.classList.toggle("more", list.scrollTop + list.clientHeight < list.scrollHeight - 1);
}
$("recent").addEventListener("scroll", fadeWhenMore);

async function loadRecent() {
  const answer = await ask(MSG.LINKS_RECENT, { limit: 5 });
  const list = $("recent");
  if (!answer.ok) {
    list.replaceChildren(h("li", { class: "muted small", text: "Your recent links could not be loaded." }));
    return;
  }
  const links = answer.data.links || [];
  if (!links.length) {
    list.replaceChildren(h("li", { class: "muted small", text: "No links yet. Create your first one here." }));
    return;
  }
  list.replaceChildren(
    ...links.map((link) => {
      let landing = link.landing_url;
      try {
        const url = new URL(link.landing_url);
        landing = url.host + url.pathname;
      } catch {
        // keep the stored text
      }
      const state = linkState(link);
      return h("li", {}, [
        h("div", { class: "mono small one-line", text: link.display_url, title: link.display_url }),
        h("div", { class: "small muted one-line", text: `${link.kind === "regular" ? "Regular" : "Short"} → ${landing}`, title: link.landing_url }),
        state.text ? h("div", { class: state.stoppedByAdvertiser ? "small stopped" : "small muted", text: state.text }) : null,
        h("div", { class: "counts" }, linkCounts(link).map((text) => h("span", { class: "pill", text }))),
      ]);
    }),
  );
  fadeWhenMore();
}

// --- start ------------------------------------------------------------------------

async function main() {
  onTrusted($("open-options"), "click", () => ask(MSG.OPTIONS_OPEN));
  // The current tab, when it shows a page of one of the partner's campaigns: "Use this page".
  const tabPages = ask(MSG.TAB_PAGE).then((answer) => (answer.ok ? answer.data.pages : []));
  const current = await ask(MSG.SESSION_GET);
  const form = createLinkForm({
    document,
    source: messageSource(ask, MSG),
    page: { onPage: false, here: async (campaignId) => (await tabPages).find((p) => p.campaignId === campaignId) || null },
    extras: advanced,
    idPrefix: "lf",
    onCreated: () => loadRecent(),
    onError: (error) => {
      if (!isBlocking(error)) return;
      $("side").hidden = true;
      document.body.classList.add("narrow");
    },
  });
  $("form-slot").append(form.element);
  if (!current.ok || !current.data.signedIn) {
    form.showError({ kind: "signed_out", message: "You are not signed in to Tasklink. Sign in on the options page to create links." });
    return;
  }
  $("who").textContent = current.data.partner.name;
  $("side").hidden = false;
  await Promise.all([form.start(), loadRecent(), checkSiteAccess()]);
}

main();
