// Popup: the dashboard-widget flow — the link form (lib/link-form.js, shared
// with the in-page panel) starting from the partner's programs, with Advanced
// reporting info — plus the partner's recent links and, when some campaign
// sites have not been allowed, a way to allow them. Two more views: the
// partner's earnings for a chosen period, and the advertisers' invitations to
// accept or decline (their rules in lib/earnings.js). Every call goes through
// the service worker, which holds the token. Every word comes from _locales
// (lib/i18n.js); the API's own sentences are shown as they arrive.

import {
  answeredText, COLUMNS, invitationsLabel, linkLabel, PERIODS, periodDays, totalText,
} from "./lib/earnings.js";
import {
  createLinkForm, el, isBlocking, makeAsk, messageSource, onTrusted, termsText, termsWindowText,
} from "./lib/link-form.js";
import * as i18n from "./lib/i18n.js";
import { linkCounts, linkState } from "./lib/linkstate.js";
import { MSG } from "./lib/messages.js";
import { cleanReporting, REPORTING_FIELDS, reportingPairs } from "./lib/reporting.js";
import { requestSiteAccess } from "./lib/sites.js";

const { t } = i18n;
const $ = (id) => document.getElementById(id);
const h = (tag, props, children) => el(document, tag, props, children);
i18n.localize(document);
const ask = makeAsk((message) => chrome.runtime.sendMessage(message), t("popup_no_answer"));

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
    return pairs.length ? t("reporting_copy_note", i18n.formatList(pairs.map(([label, value]) => t("reporting_pair", label, value)))) : "";
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
  const hosts = i18n.formatListParts(answer.data.hosts).map((part) => (part.type === "element" ? h("strong", { text: part.value }) : part.value));
  $("site-access-text").replaceChildren(...i18n.tParts("site_access_text", h("span", {}, hosts)));
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
    list.replaceChildren(h("li", { class: "muted small", text: t("recent_error") }));
    return;
  }
  const links = answer.data.links || [];
  if (!links.length) {
    list.replaceChildren(h("li", { class: "muted small", text: t("recent_empty") }));
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
        h("div", { class: "small muted one-line", text: t("recent_kind_landing", t(link.kind === "regular" ? "link_kind_regular" : "link_kind_short"), landing), title: link.landing_url }),
        state.text ? h("div", { class: state.stoppedByAdvertiser ? "small stopped" : "small muted", text: state.text }) : null,
        h("div", { class: "counts" }, linkCounts(link).map((text) => h("span", { class: "pill", text }))),
      ]);
    }),
  );
  fadeWhenMore();
}

// --- views -------------------------------------------------------------------------

const VIEWS = { link: "view-link", earnings: "view-earnings", invitations: "view-invitations" };
const loaded = { earnings: false, invitations: false };
// A blocking error (signed out, API down) narrows the popup to the link form's message; the other views keep their width.
const shown = { view: "link", linkBlocked: false };

function showView(name) {
  shown.view = name;
  for (const [view, id] of Object.entries(VIEWS)) {
    $(id).hidden = view !== name;
    $(`tab-${view}`).setAttribute("aria-selected", String(view === name));
  }
  document.body.classList.toggle("narrow", name === "link" && shown.linkBlocked);
  if (name === "earnings" && !loaded.earnings) loadEarnings();
  if (name === "invitations" && !loaded.invitations) loadInvitations();
}

// --- earnings ---------------------------------------------------------------------

const earningsTicket = { last: 0 };

function earningsMessage(text) {
  $("earnings-status").textContent = text;
}

async function loadEarnings() {
  loaded.earnings = true;
  const ticket = ++earningsTicket.last;
  const period = periodDays($("period").value);
  $("period-days").textContent = i18n.formatDayRange(period.from, period.to);
  $("earnings-error").hidden = true;
  $("earnings-totals").replaceChildren();
  $("earnings-table").replaceChildren();
  earningsMessage(t("earnings_loading"));
  const answer = await ask(MSG.EARNINGS_GET, period);
  if (ticket !== earningsTicket.last) return; // another period was chosen meanwhile
  earningsMessage("");
  if (!answer.ok) {
    $("earnings-error-text").textContent = answer.error.message;
    $("earnings-error").hidden = false;
    return;
  }
  const { campaigns, totals } = answer.data;
  if (!campaigns.length) {
    earningsMessage(t("earnings_empty"));
    return;
  }
  $("earnings-totals").replaceChildren(...totals.map((total) => h("div", { class: "total", text: totalText(total) })));
  const row = (cls, first, figures) => h("tr", { class: cls }, [
    h("td", {}, first),
    ...COLUMNS.map((column) => h("td", { text: column.cell(figures) })),
  ]);
  const body = [];
  for (const campaign of campaigns) {
    body.push(row("campaign", [campaign.campaign_name, " ", h("span", { class: "currency", text: campaign.currency })], campaign));
    for (const link of campaign.links) {
      const label = linkLabel(link);
      body.push(row("link", [
        h("div", { class: "one-line", text: label.title, title: label.title }),
        h("div", { class: "small muted one-line mono", text: label.where, title: label.full }),
      ], link));
    }
  }
  $("earnings-table").replaceChildren(h("table", { class: "earnings" }, [
    h("thead", {}, [h("tr", {}, [
      h("th", { text: t("earnings_col_campaign_link") }),
      ...COLUMNS.map((column) => h("th", { text: column.head(), title: column.title ? column.title() : undefined })),
    ])]),
    h("tbody", {}, body),
  ]));
}

// --- invitations -------------------------------------------------------------------

function setInvitationCount(count) {
  $("tab-invitations").textContent = invitationsLabel(count);
}

async function loadInvitations() {
  loaded.invitations = true;
  const list = $("invitations");
  $("invitations-error").hidden = true;
  list.replaceChildren();
  $("invitations-status").textContent = t("invitations_loading");
  const answer = await ask(MSG.INVITATIONS_LIST);
  $("invitations-status").textContent = "";
  if (!answer.ok) {
    $("invitations-error-text").textContent = answer.error.message;
    $("invitations-error").hidden = false;
    return;
  }
  renderInvitations(answer.data.invitations || []);
}

function renderInvitations(invitations) {
  setInvitationCount(invitations.length);
  const list = $("invitations");
  if (!invitations.length) {
    $("invitations-status").textContent = t("invitations_empty");
    list.replaceChildren();
    return;
  }
  list.replaceChildren(...invitations.map((invitation) => {
    const accept = h("button", { type: "button", class: "primary", text: t("invitation_accept") });
    const decline = h("button", { type: "button", class: "secondary", text: t("invitation_decline") });
    const problem = h("p", { class: "small stopped", role: "alert" });
    const item = h("li", {}, [
      h("strong", { text: invitation.campaign_name }),
      h("span", { class: "small muted", text: t("invitation_program", invitation.program_name) }),
      h("span", { class: "small", text: t("invitation_terms", termsText(invitation.terms, { withWindow: false }, i18n), termsWindowText(invitation.terms, i18n)) }),
      h("div", { class: "actions" }, [accept, decline]),
      problem,
    ]);
    const answer = async (yes) => {
      accept.disabled = decline.disabled = true;
      problem.textContent = "";
      const result = await ask(MSG.INVITATION_ANSWER, { campaignId: invitation.campaign_id, accept: yes });
      if (!result.ok) {
        problem.textContent = result.error.message;
        accept.disabled = decline.disabled = false;
        return;
      }
      $("invitations-done").textContent = answeredText(invitation, result.data.membership);
      $("invitations-done").hidden = false;
      renderInvitations(invitations.filter((other) => other !== invitation));
      if (result.data.membership === "active") linkForm.reload();
    };
    onTrusted(accept, "click", () => answer(true));
    onTrusted(decline, "click", () => answer(false));
    return item;
  }));
}

// --- start ------------------------------------------------------------------------

let linkForm = { reload: () => {} };

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
    i18n,
    onCreated: () => loadRecent(),
    onError: (error) => {
      if (!isBlocking(error)) return;
      $("side").hidden = true;
      shown.linkBlocked = true;
      if (shown.view === "link") document.body.classList.add("narrow");
    },
  });
  $("form-slot").append(form.element);
  if (!current.ok || !current.data.signedIn) {
    form.showError({ kind: "signed_out", message: t("popup_signed_out") });
    return;
  }
  $("who").textContent = current.data.partner.name;
  $("side").hidden = false;
  $("tabs").hidden = false;
  document.body.classList.add("tabbed");
  $("period").replaceChildren(...PERIODS.map((p) => h("option", { value: p.value, text: p.label(), selected: p.value === "30" })));
  $("period").addEventListener("change", () => loadEarnings());
  onTrusted($("earnings-retry"), "click", () => loadEarnings());
  onTrusted($("invitations-retry"), "click", () => loadInvitations());
  for (const view of Object.keys(VIEWS)) onTrusted($(`tab-${view}`), "click", () => showView(view));
  // After accepting, the new campaign's programs appear in the form.
  linkForm = { reload: () => { form.start(); } };
  // The invitations count shows on its tab from the start.
  const invitations = ask(MSG.INVITATIONS_LIST).then((answer) => {
    if (answer.ok) setInvitationCount((answer.data.invitations || []).length);
  });
  const wanted = new URLSearchParams(location.search).get("view");
  if (wanted in VIEWS && wanted !== "link") showView(wanted);
  await Promise.all([form.start(), loadRecent(), checkSiteAccess(), invitations]);
}

main();
