// The link form: the one flow behind the toolbar popup and the in-page panel
//. It owns the rules — which task and landing page come first, what
// each landing mode asks for, when a link is made at once, creating, copying,
// errors, and dropping answers to a choice the partner has since changed —
// and builds the form with createElement/textContent only. Its look is
// link-form.css.
//
// The two surfaces differ only where the contract says, through the options
// of createLinkForm: the popup starts from the partner's programs and adds
// Advanced reporting info (`extras`); the panel starts from the campaigns of
// the page it sits on (`campaigns`), uses that page in manual mode and makes
// a default-mode link as soon as it opens (`page.onPage`).
//
// This module imports nothing and touches no browser API when imported: the
// panel loads it into web pages from a per-session random address
// (web_accessible_resources with use_dynamic_url), where relative imports do
// not resolve, and node --test imports its rules directly. So its words come
// in as `i18n`, the lib/i18n.js module its caller loaded (the popup imports
// it, the content script loads it like this one): every sentence is
// `i18n.t(key, ...)` from _locales, amounts and lists are formatted with Intl
// in the messages' language.

// --- the rules (pure) --------------------------------------------------------

/** The origin and path of a URL ("same page" ignores query, fragment and a trailing slash). */
export function samePage(a, b) {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname.replace(/\/$/, "") === y.pathname.replace(/\/$/, "");
  } catch {
    return false;
  }
}

/** Domains in words: "shop.com", "a.com or b.com", "a.com, b.com, or c.com" (the language's way of saying "or"). */
export function domainsText(domains, i18n) {
  const list = (Array.isArray(domains) ? domains : []).filter(Boolean);
  if (!list.length) return i18n.t("link_form_campaign_domains");
  return i18n.formatList(list, "disjunction");
}

/** The campaign preselected: the first that allows links, or null when none does. */
export function pickCampaign(campaigns) {
  return (Array.isArray(campaigns) ? campaigns : []).find((campaign) => campaign.link_available) || null;
}

/** Tasks in the order the form lists them: those assigned to the partner first, then the rest as the API sent them. */
export function orderTasks(tasks) {
  const list = Array.isArray(tasks) ? tasks : [];
  return [...list.filter((task) => task.assigned_to_me), ...list.filter((task) => !task.assigned_to_me)];
}

function defaultPage(options) {
  return (options.landing_pages || []).find((page) => page.id === options.default_landing_page_id) || null;
}

/**
 * The task preselected from tasks in form order: the one whose own landing
 * page is the page the partner is on (when the form knows one), else the first.
 */
export function pickTask(ordered, pageUrl) {
  if (!Array.isArray(ordered) || !ordered.length) return null;
  if (pageUrl) {
    const here = ordered.find((task) => {
      const page = defaultPage(task.link_options || {});
      return page && samePage(page.url, pageUrl);
    });
    if (here) return here;
  }
  return ordered[0];
}

/**
 * What the landing-page part of the form shows for a task, by the campaign's mode:
 *
 * - `{kind: "this-page", url}`: manual mode in the panel, on a page of the
 *   campaign's allowed domains: the page itself (followed when its address
 *   changes without a reload);
 * - `{kind: "url", domains, suggestion, offDomains}`: manual mode otherwise:
 *   a URL field; `suggestion` is the current tab's page when it may be the
 *   landing URL ("Use this page"), `offDomains` says the panel's page may not;
 * - `{kind: "choose", pages, selectedId}`: one of the advertiser's pages, the
 *   one the partner is on when it is one of them, else the default;
 * - `{kind: "default", page}`: the default page, nothing to choose.
 *
 * `here` is {landingUrl, pageAllowed} for the page the partner is on (the
 * panel's page, or the popup's current tab) when it is a page of this
 * campaign, else null; `onPage` is true in the panel.
 */
export function landingPlan(options, here, onPage) {
  const pages = options.landing_pages || [];
  if (options.mode === "manual") {
    const usable = here && here.pageAllowed && here.landingUrl ? here.landingUrl : null;
    if (onPage && usable) return { kind: "this-page", url: usable };
    return { kind: "url", domains: options.allowed_domains || [], suggestion: usable, offDomains: Boolean(onPage && here && !usable) };
  }
  if (options.mode === "choose") {
    const atHere = here && here.landingUrl ? pages.find((page) => samePage(page.url, here.landingUrl)) : null;
    const chosen = atHere || defaultPage(options) || pages[0] || null;
    return { kind: "choose", pages, selectedId: chosen ? chosen.id : null };
  }
  return { kind: "default", page: defaultPage(options) };
}

/**
 * The landing part of the link request from the plan and what the partner
 * entered: {ok: true, fields} or {ok: false, error}. An empty URL field is a
 * sentence, never a silent link to the default page.
 */
export function landingRequest(plan, input, i18n) {
  if (plan.kind === "this-page") return { ok: true, fields: { landingUrl: input.pageUrl || plan.url } };
  if (plan.kind === "url") {
    const url = String(input.typedUrl ?? "").trim();
    if (!url) {
      return { ok: false, error: { kind: "invalid", field: "landing", message: i18n.t("link_form_enter_url", domainsText(plan.domains, i18n)) } };
    }
    return { ok: true, fields: { landingUrl: url } };
  }
  if (plan.kind === "choose") {
    const id = Number(input.chosenId);
    if (!Number.isSafeInteger(id) || id < 1) return { ok: false, error: { kind: "invalid", field: "landing", message: i18n.t("link_form_pick_landing") } };
    return { ok: true, fields: { landingPageId: id } };
  }
  return { ok: true, fields: {} }; // default mode: the API fills in the campaign's default page
}

/** Is a link made as soon as the form opens? Only in the panel, in default mode, when links are possible. */
export function createsAtOnce(plan, task, onPage) {
  return Boolean(onPage && plan && plan.kind === "default" && task && task.link_options && task.link_options.link_available);
}

/** The button an error offers, or null: a way to the options page when signing in or the API address is the fix. */
export function optionsAction(error, i18n) {
  if (!error) return null;
  if (error.kind === "signed_out") return i18n.t("link_form_open_options_sign_in");
  if (error.kind === "api_down") return i18n.t("link_form_open_options");
  return null;
}

/** Errors after which the form cannot be used until something outside it changes. */
export function isBlocking(error) {
  return Boolean(error && (error.kind === "signed_out" || error.kind === "api_down"));
}

/** What Copy says: the full link goes to the clipboard, reporting info included. */
export function copiedMessage(link, done, i18n) {
  if (!done) return i18n.t("link_form_copy_failed");
  return i18n.t(link && link.url !== link.display_url ? "link_form_copied_full" : "link_form_copied");
}

/**
 * A campaign's payout terms in one line, amounts exactly as the API sent them
 * (decimal strings in the campaign's currency, never turned into floats, only
 * written the language's way by Intl): "Pays $5.00 per sale · 30-day window".
 * Short enough for one line of the form; `termsWindowText` says what the
 * window means (`withWindow` false leaves the window out, for a place that
 * says it in full).
 */
export function termsText(terms, { withWindow = true } = {}, i18n) {
  if (!terms || typeof terms !== "object") return "";
  let pays;
  if (terms.payout_model === "cpc") pays = i18n.t("terms_cpc", i18n.formatMoney(terms.amount, terms.currency));
  else if (terms.payout_model === "cpa") pays = i18n.t("terms_cpa", i18n.formatMoney(terms.amount, terms.currency));
  else if (terms.payout_model === "revshare") pays = i18n.t("terms_revshare", i18n.formatPercent(terms.percent), terms.currency);
  else return "";
  if (terms.pays === false) return i18n.t("terms_pays_nothing");
  const days = Number(terms.attribution_window_days);
  return withWindow && Number.isSafeInteger(days) && days > 0 ? i18n.t("terms_with_window", pays, i18n.formatNumber(days)) : pays;
}

/** The attribution window in a sentence: "Sales count within 30 days of the click." */
export function termsWindowText(terms, i18n) {
  const days = Number(terms && terms.attribution_window_days);
  if (!Number.isSafeInteger(days) || days < 1) return "";
  return i18n.t(i18n.pluralKey("terms_window", days), i18n.formatNumber(days));
}

/** What the QR box says the code opens: the full link, reporting info included, like Copy. */
export function qrNote(link, i18n) {
  return i18n.t(link && link.url !== link.display_url ? "link_form_qr_note_full" : "link_form_qr_note");
}

/** The name a downloaded code is saved under: "tasklink-link-42.png". */
export function qrFileName(link, format) {
  return `tasklink-link-${Number(link && link.id) || "new"}.${format === "svg" ? "svg" : "png"}`;
}

/** The bytes of a {mediaType, base64} answer as a Blob. */
export function pictureBlob({ mediaType, base64 }) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: mediaType });
}

/**
 * A stale-answer guard: `const ticket = guard.next()` before asking; after the
 * answer, `guard.isLatest(ticket)` is false when a newer question was asked
 * meanwhile (the partner picked something else), and the answer is dropped.
 */
export function latestOnly() {
  let last = 0;
  return { next: () => ++last, isLatest: (ticket) => ticket === last };
}

/** Copy text: the async clipboard first, else `fallbackCopy(text)` (a selection and execCommand). */
export async function copyText(text, { clipboard, fallbackCopy } = {}) {
  try {
    if (!clipboard) throw new Error("no clipboard");
    await clipboard.writeText(text);
    return true;
  } catch {
    try {
      return Boolean(fallbackCopy && fallbackCopy(text));
    } catch {
      return false;
    }
  }
}

/**
 * `ask(type, payload)` for a surface: a message to the service worker whose
 * answer is always {ok, data} or {ok: false, error}; a reloaded extension or
 * a dead worker becomes `lost`, a sentence too.
 */
export function makeAsk(sendMessage, lost) {
  const failure = { ok: false, error: { kind: "internal", message: lost } };
  return async function ask(type, payload = {}) {
    try {
      return (await sendMessage({ type, ...payload })) || failure;
    } catch {
      return failure;
    }
  };
}

/** The form's questions to the service worker, by message type (lib/messages.js, passed in). */
export function messageSource(ask, MSG) {
  return {
    programs: () => ask(MSG.PROGRAMS_LIST),
    campaigns: (programId) => ask(MSG.CAMPAIGNS_LIST, { programId }),
    tasks: (campaignId) => ask(MSG.CAMPAIGN_TASKS, { campaignId }),
    createLink: (request) => ask(MSG.LINK_CREATE, request),
    qr: (linkId, format) => ask(MSG.LINK_QR, { linkId, format }),
    openOptions: () => ask(MSG.OPTIONS_OPEN),
  };
}

// --- building blocks ---------------------------------------------------------

/** createElement with properties, attributes and children; text only through textContent. */
export function el(doc, tag, props = {}, children = []) {
  const node = doc.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/**
 * Run `handler` for a person's click (or key) only: a page script that got
 * hold of a button could dispatch a synthetic event, which is not trusted.
 */
export function onTrusted(node, type, handler) {
  node.addEventListener(type, (event) => {
    if (!event.isTrusted) return;
    handler(event);
  });
}

function fill(doc, select, items, { label, value = (item) => item.id, disabled = () => false, selected = () => false }) {
  select.replaceChildren(
    ...items.map((item) => el(doc, "option", { value: String(value(item)), text: label(item), disabled: disabled(item), selected: selected(item) })),
  );
}

// --- the form ----------------------------------------------------------------

/**
 * Build the form. Options:
 * - `document`: where to build it;
 * - `source`: {programs, campaigns, tasks, createLink, qr, openOptions} → answers (see messageSource);
 * - `campaigns`: the campaigns to offer (panel: the page's, API shape), or
 *   undefined to start from the partner's programs (popup);
 * - `page`: {onPage, here(campaignId) → Promise<{landingUrl, pageAllowed} | null>};
 * - `extras`: {element, collect() → {fields} | {error}, note(link) → text} (the popup's Advanced);
 * - `idPrefix`: ids of the form's controls (unique in the popup's document);
 * - `onCreated(link)`, `onError(error)`: hooks;
 * - `i18n`: the lib/i18n.js module (its words and formats).
 *
 * Returns {element, start({createAtOnce}), ready(), showError(error)}.
 */
export function createLinkForm({ document: doc, source, campaigns, page = { onPage: false, here: async () => null }, extras = null, idPrefix = "lf", onCreated = () => {}, onError = () => {}, i18n }) {
  const { t } = i18n;
  const fromPrograms = !Array.isArray(campaigns);
  const state = { campaigns: fromPrograms ? [] : campaigns, campaign: null, tasks: [], task: null, plan: null, here: null, link: null, busy: false, ready: false };
  const guards = { campaigns: latestOnly(), tasks: latestOnly(), qr: latestOnly() };
  const id = (name) => `${idPrefix}-${name}`;
  const h = (tag, props, children) => el(doc, tag, props, children);
  const label = (name, text) => h("label", { class: "label", for: id(name), text });

  // Program (popup), campaign, task: one row each, label then control.
  const programSelect = h("select", { id: id("program") });
  const campaignSelect = h("select", { id: id("campaign") });
  const campaignName = h("span", { class: "value", id: id("campaign-name"), hidden: true });
  // What the chosen campaign pays, where the link is made.
  const campaignTerms = h("span", { class: "muted small terms", id: id("terms"), hidden: true });
  const taskSelect = h("select", { id: id("task") });
  const taskNote = h("span", { class: "muted", hidden: true });
  const landingBox = h("div", { class: "landing", id: id("landing"), role: "group", "aria-labelledby": id("landing-label") });
  const shortRadio = h("input", { type: "radio", name: id("kind"), value: "short", checked: true });
  const regularRadio = h("input", { type: "radio", name: id("kind"), value: "regular" });
  const preference = h("div", { class: "seg", role: "group", "aria-label": t("link_form_preference") }, [
    h("label", {}, [shortRadio, t("link_kind_short")]),
    h("label", {}, [regularRadio, t("link_kind_regular")]),
  ]);
  const createButton = h("button", { class: "primary create", type: "button", text: t("link_form_create") });

  const programRow = [label("program", t("link_form_program")), programSelect];
  const fields = h("div", { class: "fields" }, [
    ...(fromPrograms ? programRow : []),
    label("campaign", t("link_form_campaign")), h("div", { class: "control" }, [campaignSelect, campaignName, campaignTerms]),
    label("task", t("link_form_task")), h("div", { class: "control" }, [taskSelect, taskNote]),
    h("span", { class: "label", id: id("landing-label"), text: t("link_form_landing") }), landingBox,
    h("span", { class: "label", text: t("link_form_preference") }), preference,
    extras && extras.element ? h("div", { class: "extras" }, [extras.element]) : null,
  ]);

  const loading = h("p", { class: "loading muted", role: "status", hidden: true });
  const errorText = h("span");
  const optionsButton = h("button", { class: "secondary", type: "button", hidden: true });
  const errorBox = h("div", { class: "error", role: "alert", hidden: true }, [errorText, optionsButton]);

  const linkField = h("textarea", { class: "link", id: id("link"), readOnly: true, rows: 1, spellcheck: false, "aria-label": t("link_form_shareable") });
  const copyButton = h("button", { class: "secondary", type: "button", text: t("link_form_copy") });
  const qrButton = h("button", { class: "secondary", type: "button", text: t("link_form_qr"), title: t("link_form_qr_title"), "aria-expanded": "false", "aria-controls": id("qr") });
  const copied = h("span", { class: "copied", role: "status" });
  const resultNote = h("p", { class: "muted small" });

  // The QR code: drawn by the API (fetched by the service worker), shown on a canvas, which no
  // page's Content-Security-Policy can block the way it can block an <img> in the panel.
  const qrStatus = h("p", { class: "small", role: "status" });
  const qrCanvas = h("canvas", { class: "qr-code", role: "img", hidden: true });
  const qrNoteText = h("p", { class: "muted small", hidden: true });
  const svgButton = h("button", { class: "secondary", type: "button", text: t("link_form_download_svg") });
  const pngButton = h("button", { class: "secondary", type: "button", text: t("link_form_download_png") });
  const qrActions = h("div", { class: "qr-actions", hidden: true }, [svgButton, pngButton]);
  const qrBox = h("div", { class: "qr", id: id("qr"), hidden: true }, [qrCanvas, h("div", { class: "qr-side" }, [qrStatus, qrNoteText, qrActions])]);

  const result = h("section", { class: "result", hidden: true, "aria-label": t("link_form_your_link") }, [
    h("label", { class: "label", for: id("link"), text: t("link_form_shareable") }),
    h("div", { class: "link-row" }, [linkField, copyButton, qrButton]),
    copied,
    resultNote,
    qrBox,
  ]);

  const element = h("div", { class: "link-form" }, [loading, fields, createButton, errorBox, result]);
  fields.hidden = true;
  createButton.hidden = true;

  // --- showing things --------------------------------------------------------

  function showError(error) {
    const action = optionsAction(error, i18n);
    errorText.textContent = (error && error.message) || t("common_something_wrong");
    optionsButton.textContent = action || "";
    optionsButton.hidden = !action;
    errorBox.hidden = false;
    loading.hidden = true;
    if (isBlocking(error)) {
      fields.hidden = true;
      createButton.hidden = true;
      clearResult();
    }
    onError(error);
  }

  function clearError() {
    errorBox.hidden = true;
    errorText.textContent = "";
  }

  function say(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  function clearResult() {
    result.hidden = true;
    linkField.value = "";
    copied.textContent = "";
    resultNote.textContent = "";
    state.link = null;
    hideQr();
  }

  function showResult(link) {
    state.link = link;
    linkField.value = link.display_url || link.url;
    copied.textContent = "";
    say(resultNote, extras && extras.note && extras.note(link));
    result.hidden = false;
    // The whole link, however long (a regular link's token, a five-digit port): the field grows to it.
    linkField.style.height = "auto";
    linkField.style.height = `${linkField.scrollHeight + 2}px`;
    result.scrollIntoView({ block: "nearest" });
  }

  function showLoading(text) {
    loading.textContent = text;
    loading.hidden = !text;
  }

  function setBusy(busy) {
    state.busy = busy;
    createButton.textContent = t(busy ? "link_form_creating" : "link_form_create");
    for (const control of fields.querySelectorAll("select, input, button, textarea")) control.disabled = busy;
    updateCreate();
  }

  function updateCreate() {
    const task = state.task;
    createButton.disabled = state.busy || !task || !task.link_options || !task.link_options.link_available;
  }

  // --- the lists -------------------------------------------------------------

  async function loadPrograms() {
    showLoading(t("link_form_loading_campaigns"));
    const answer = await source.programs();
    if (!answer.ok) return showError(answer.error);
    const programs = answer.data.programs || [];
    if (!programs.length) return showError({ kind: "empty", message: t("link_form_no_program") });
    fill(doc, programSelect, programs, { label: (program) => program.name });
    return loadCampaigns();
  }

  async function loadCampaigns() {
    const ticket = guards.campaigns.next();
    guards.tasks.next(); // whatever tasks were on their way belong to the old program
    const answer = await source.campaigns(programSelect.value);
    if (!guards.campaigns.isLatest(ticket)) return false;
    if (!answer.ok) return showError(answer.error);
    state.campaigns = answer.data.campaigns || [];
    // Campaigns that cannot have links are listed, disabled, with the reason.
    fill(doc, campaignSelect, state.campaigns, {
      label: (c) => (c.link_available ? c.name : t("link_form_campaign_disabled", c.name, c.reason || t("link_form_unavailable_reason"))),
      disabled: (c) => !c.link_available,
    });
    showLoading("");
    fields.hidden = false;
    createButton.hidden = false;
    state.campaign = pickCampaign(state.campaigns);
    if (!state.campaign) {
      campaignSelect.selectedIndex = -1;
      setTasks([]);
      showError({ kind: "link_unavailable", message: t("link_form_no_campaign") });
      return false;
    }
    campaignSelect.value = String(state.campaign.id);
    return loadTasks();
  }

  function renderCampaigns() {
    const single = state.campaigns.length === 1;
    campaignSelect.hidden = single;
    campaignName.hidden = !single;
    campaignName.textContent = single ? state.campaigns[0].name : "";
    if (!single) fill(doc, campaignSelect, state.campaigns, { label: (c) => c.name, selected: (c) => c === state.campaign });
  }

  function setTasks(tasks) {
    state.tasks = orderTasks(tasks);
    state.task = null;
    state.plan = null;
    taskNote.textContent = "";
    taskNote.hidden = true;
    taskSelect.hidden = false;
    fill(doc, taskSelect, state.tasks, { label: (task) => task.title });
    landingBox.replaceChildren();
    updateCreate();
  }

  async function loadTasks() {
    clearError();
    clearResult();
    const campaign = state.campaign;
    say(campaignTerms, termsText(campaign && campaign.terms, {}, i18n));
    campaignTerms.title = termsWindowText(campaign && campaign.terms, i18n);
    const ticket = guards.tasks.next();
    setTasks([]);
    taskSelect.hidden = true;
    taskNote.hidden = false;
    taskNote.textContent = t("link_form_loading_tasks");
    const [answer, here] = await Promise.all([source.tasks(campaign.id), page.here(campaign.id)]);
    // The partner picked another campaign meanwhile: that newer request renders, not this one.
    if (!guards.tasks.isLatest(ticket)) return false;
    if (!answer.ok) {
      taskNote.textContent = "";
      showError(answer.error);
      return false;
    }
    setTasks(answer.data.tasks || []);
    state.here = here;
    if (!state.tasks.length) {
      taskSelect.hidden = true;
      showError({ kind: "no_tasks", message: t("link_form_no_task") });
      return false;
    }
    state.task = pickTask(state.tasks, here && here.landingUrl);
    taskSelect.value = String(state.task.id);
    renderLanding();
    return true;
  }

  // --- the landing page ------------------------------------------------------

  let landingInput = () => ({});

  /** A URL shown whole, wrapping after its slashes and separators rather than inside words. */
  function urlBox(text) {
    const box = h("div", { class: "url" });
    setUrl(box, text);
    return box;
  }

  function setUrl(box, text) {
    const parts = String(text || "").split(/(?<=[/?&=])/);
    box.replaceChildren(...parts.flatMap((part, index) => (index ? [doc.createElement("wbr"), part] : [part])));
  }

  function renderLanding() {
    const task = state.task;
    const options = task.link_options;
    clearError();
    updateCreate();
    if (!options.link_available) showError({ kind: "link_unavailable", message: options.reason || t("link_form_task_unavailable") });
    const plan = landingPlan(options, state.here, page.onPage);
    state.plan = plan;
    if (plan.kind === "this-page") {
      const shown = urlBox(plan.url);
      landingBox.replaceChildren(h("span", { class: "value", text: t("link_form_this_page") }), shown);
      landingInput = async () => {
        // A single-page site may have changed its address since: ask again.
        const now = await page.here(state.campaign.id);
        const url = now && now.pageAllowed && now.landingUrl ? now.landingUrl : plan.url;
        setUrl(shown, url);
        return { pageUrl: url };
      };
    } else if (plan.kind === "url") {
      const input = h("input", { type: "url", id: id("landing-url"), "aria-label": t("link_form_url_label"), spellcheck: false, placeholder: t("link_form_url_placeholder") });
      const hint = h("span", { class: "muted small grow", text: t("link_form_any_page_on", domainsText(plan.domains, i18n)) });
      const row = h("div", { class: "hint" }, [hint]);
      if (plan.suggestion) {
        const use = h("button", { class: "link-button", type: "button", text: t("link_form_use_this_page"), title: plan.suggestion });
        onTrusted(use, "click", () => {
          input.value = plan.suggestion;
          clearError();
          clearResult();
        });
        row.append(use);
      }
      onTrusted(input, "keydown", (event) => {
        if (event.key === "Enter") create();
      });
      input.addEventListener("input", () => clearResult());
      landingBox.replaceChildren(
        ...(plan.offDomains ? [h("p", { class: "muted small", text: t("link_form_off_domains", domainsText(plan.domains, i18n)) })] : []),
        input,
        row,
      );
      landingInput = () => ({ typedUrl: input.value });
    } else if (plan.kind === "choose") {
      const select = h("select", { id: id("landing-page"), "aria-label": t("link_form_landing") });
      fill(doc, select, plan.pages, { label: (p) => p.name, selected: (p) => p.id === plan.selectedId });
      const shown = urlBox("");
      const sync = () => setUrl(shown, (plan.pages.find((p) => String(p.id) === select.value) || {}).url || "");
      select.addEventListener("change", () => { sync(); clearResult(); });
      sync();
      landingBox.replaceChildren(select, shown);
      landingInput = () => ({ chosenId: select.value });
    } else {
      landingBox.replaceChildren(
        h("span", { class: "value", text: plan.page ? plan.page.name : t("link_form_default_page") }),
        ...(plan.page ? [urlBox(plan.page.url)] : []),
      );
      landingInput = () => ({});
    }
  }

  // --- creating and copying --------------------------------------------------

  async function create() {
    const task = state.task;
    if (state.busy || !task || !state.plan || !task.link_options.link_available) return;
    clearError();
    clearResult();
    const landing = landingRequest(state.plan, await landingInput(), i18n);
    if (!landing.ok) {
      showError(landing.error);
      const field = landingBox.querySelector("input, select");
      if (field) field.focus();
      return;
    }
    const extra = extras && extras.collect ? extras.collect() : { fields: {} };
    if (extra.error) return showError(extra.error);
    setBusy(true);
    const answer = await source.createLink({
      taskId: task.id,
      kind: regularRadio.checked ? "regular" : "short",
      ...landing.fields,
      ...extra.fields,
    });
    setBusy(false);
    if (!answer.ok) return showError(answer.error);
    showResult(answer.data);
    onCreated(answer.data);
  }

  function fallbackCopy(text) {
    // Inside the form (so inside the panel's shadow root), never in the page's own DOM.
    const scratch = h("textarea", { class: "scratch", readOnly: true, "aria-hidden": "true" });
    scratch.value = text;
    element.append(scratch);
    scratch.select();
    const done = doc.execCommand("copy");
    scratch.remove();
    return done;
  }

  async function copy() {
    if (!state.link) return;
    const view = doc.defaultView;
    const done = await copyText(state.link.url, { clipboard: view && view.navigator && view.navigator.clipboard, fallbackCopy });
    copied.textContent = copiedMessage(state.link, done, i18n); // a live region: it stays in place, empty or not
  }

  // --- the QR code -------------------------------------------------------------

  const qr = { png: null }; // the shown code's PNG (a Blob), downloaded as it is

  function hideQr() {
    guards.qr.next(); // a code still on its way belongs to a link no longer shown
    qrBox.hidden = true;
    qrButton.setAttribute("aria-expanded", "false");
    qrStatus.textContent = "";
    qrStatus.removeAttribute("class");
    qrCanvas.hidden = true;
    qrNoteText.hidden = true;
    qrActions.hidden = true;
    qr.png = null;
  }

  function qrFailed(error) {
    qrStatus.className = "small qr-error";
    qrStatus.textContent = (error && error.message) || t("link_form_qr_failed");
  }

  async function showQr() {
    const link = state.link;
    if (!link) return;
    const ticket = guards.qr.next();
    qrBox.hidden = false;
    qrButton.setAttribute("aria-expanded", "true");
    qrStatus.className = "small muted";
    qrStatus.textContent = t("link_form_qr_drawing");
    qrCanvas.hidden = true;
    qrActions.hidden = true;
    qrNoteText.hidden = true;
    const answer = await source.qr(link.id, "png");
    if (!guards.qr.isLatest(ticket)) return;
    if (!answer.ok) return qrFailed(answer.error);
    try {
      const png = pictureBlob(answer.data);
      const image = await doc.defaultView.createImageBitmap(png);
      if (!guards.qr.isLatest(ticket)) return;
      qrCanvas.width = image.width;
      qrCanvas.height = image.height;
      qrCanvas.getContext("2d").drawImage(image, 0, 0);
      qr.png = png;
    } catch {
      return qrFailed(null);
    }
    qrCanvas.setAttribute("aria-label", t("link_form_qr_label", link.url));
    qrCanvas.hidden = false;
    qrStatus.textContent = "";
    qrStatus.removeAttribute("class");
    qrNoteText.textContent = qrNote(link, i18n);
    qrNoteText.hidden = false;
    qrActions.hidden = false;
    // With the code open the popup is taller than the 600 px Chrome gives it: bring the code into view.
    if (typeof qrBox.scrollIntoView === "function") qrBox.scrollIntoView({ block: "nearest" });
  }

  function saveBlob(blob, name) {
    const view = doc.defaultView;
    const href = view.URL.createObjectURL(blob);
    // Inside the form (in the panel: the closed shadow root), never in the page's own DOM.
    const anchor = h("a", { href, download: name, hidden: true });
    element.append(anchor);
    anchor.click();
    anchor.remove();
    view.setTimeout(() => view.URL.revokeObjectURL(href), 30000);
  }

  async function download(format) {
    const link = state.link;
    if (!link) return;
    if (format === "png" && qr.png) return saveBlob(qr.png, qrFileName(link, "png"));
    const button = format === "svg" ? svgButton : pngButton;
    button.disabled = true;
    const answer = await source.qr(link.id, format);
    button.disabled = false;
    if (state.link !== link) return;
    if (!answer.ok) return qrFailed(answer.error);
    saveBlob(pictureBlob(answer.data), qrFileName(link, format));
  }

  // --- wiring ------------------------------------------------------------------

  programSelect.addEventListener("change", () => { clearError(); loadCampaigns(); });
  campaignSelect.addEventListener("change", () => {
    state.campaign = state.campaigns.find((c) => String(c.id) === campaignSelect.value) || state.campaign;
    loadTasks();
  });
  taskSelect.addEventListener("change", () => {
    state.task = state.tasks.find((t) => String(t.id) === taskSelect.value) || state.task;
    clearResult();
    renderLanding();
  });
  for (const radio of [shortRadio, regularRadio]) radio.addEventListener("change", clearResult);
  onTrusted(createButton, "click", create);
  onTrusted(copyButton, "click", copy);
  onTrusted(qrButton, "click", () => (qrBox.hidden ? showQr() : hideQr()));
  onTrusted(svgButton, "click", () => download("svg"));
  onTrusted(pngButton, "click", () => download("png"));
  onTrusted(optionsButton, "click", () => source.openOptions());

  return {
    element,

    /** Load the lists; in the panel, a default-mode link is then made at once. Resolves true when a task is ready. */
    async start({ createAtOnce = false } = {}) {
      clearError();
      if (fromPrograms) return Boolean(await loadPrograms());
      fields.hidden = false;
      createButton.hidden = false;
      state.campaign = state.campaigns[0] || null;
      renderCampaigns();
      if (!state.campaign) return false;
      const ready = await loadTasks();
      state.ready = ready;
      if (ready && createAtOnce && createsAtOnce(state.plan, state.task, page.onPage)) await create();
      return ready;
    },

    /** Has a task been loaded (so opening the panel again need not load it again)? */
    ready: () => state.ready,

    showError,
  };
}
