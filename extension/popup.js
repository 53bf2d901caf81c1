// Popup: the dashboard-widget flow (program → campaign → task, Advanced
// reporting info, Create, Copy) and the partner's recent links. Every call
// goes through the service worker, which holds the token.

import { cleanReporting, REPORTING_FIELDS, reportingPairs } from "./lib/reporting.js";
import { MSG } from "./lib/messages.js";
import { linkCounts, linkState } from "./lib/linkstate.js";

const $ = (id) => document.getElementById(id);
const state = { campaigns: [], tasks: [], link: null };
// Each list load gets a number; an answer to an older choice is dropped, so a
// slow response never overwrites what the partner picked since.
const latest = { campaigns: 0, tasks: 0 };

async function ask(type, payload = {}) {
  try {
    return (await chrome.runtime.sendMessage({ type, ...payload })) || { ok: false, error: { kind: "internal", message: "Tasklink did not answer. Close and reopen this window." } };
  } catch {
    return { ok: false, error: { kind: "internal", message: "Tasklink did not answer. Close and reopen this window." } };
  }
}

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function say(error) {
  const box = $("message");
  box.textContent = error ? error.message : "";
  box.className = "message error";
  box.hidden = !error;
  const toOptions = Boolean(error && (error.kind === "signed_out" || error.kind === "api_down"));
  $("sign-in").hidden = !toOptions;
  $("sign-in").textContent = error && error.kind === "signed_out" ? "Open options to sign in" : "Open options";
  if (error && (error.kind === "signed_out" || error.kind === "api_down")) {
    $("link-form").hidden = true;
    $("recent-section").hidden = true;
  }
}

function fill(select, items, { label, value = (x) => x.id, disabled = () => false, placeholder }) {
  select.replaceChildren();
  if (placeholder) select.append(el("option", { value: "", text: placeholder, disabled: true, selected: true }));
  for (const item of items) select.append(el("option", { value: String(value(item)), text: label(item), disabled: disabled(item) }));
}

async function loadPrograms() {
  const answer = await ask(MSG.PROGRAMS_LIST);
  if (!answer.ok) return say(answer.error);
  const programs = answer.data.programs || [];
  if (!programs.length) {
    return say({ kind: "empty", message: "You have no active campaign yet. When an advertiser approves you, its programs appear here." });
  }
  $("link-form").hidden = false;
  fill($("program"), programs, { label: (p) => p.name });
  await loadCampaigns();
}

async function loadCampaigns() {
  const request = ++latest.campaigns;
  const answer = await ask(MSG.CAMPAIGNS_LIST, { programId: $("program").value });
  if (request !== latest.campaigns) return;
  if (!answer.ok) return say(answer.error);
  state.campaigns = answer.data.campaigns || [];
  const available = state.campaigns.filter((c) => c.link_available);
  // Campaigns that cannot have links are listed, disabled, with the reason.
  fill($("campaign"), state.campaigns, {
    label: (c) => (c.link_available ? c.name : `${c.name} — ${c.reason || "links unavailable"}`),
    disabled: (c) => !c.link_available,
  });
  const unavailable = state.campaigns.filter((c) => !c.link_available);
  const note = $("campaign-note");
  note.hidden = !unavailable.length;
  note.replaceChildren(
    el("span", { class: "label", text: "No links possible in" }),
    ...unavailable.map((c) => el("span", { class: "unavailable" }, [el("strong", { text: c.name }), ` — ${c.reason || "links cannot be made."}`])),
  );
  if (available.length) {
    $("campaign").value = String(available[0].id);
    await loadTasks();
  } else {
    $("task").replaceChildren();
    $("landing").replaceChildren();
    $("create").disabled = true;
  }
}

async function loadTasks() {
  clearResult();
  const request = ++latest.tasks;
  const answer = await ask(MSG.CAMPAIGN_TASKS, { campaignId: $("campaign").value });
  if (request !== latest.tasks) return;
  if (!answer.ok) return say(answer.error);
  state.tasks = answer.data.tasks || [];
  fill($("task"), state.tasks, { label: (t) => t.title });
  const mine = state.tasks.find((t) => t.assigned_to_me);
  if (mine) $("task").value = String(mine.id);
  renderLanding();
}

function currentTask() {
  return state.tasks.find((t) => String(t.id) === $("task").value) || null;
}

function renderLanding() {
  const box = $("landing");
  const task = currentTask();
  box.replaceChildren(el("span", { class: "label", text: "Landing page" }));
  $("create").disabled = !task || !task.link_options.link_available;
  if (!task) {
    box.append(el("p", { class: "note", text: "This campaign has no task open to you yet." }));
    return;
  }
  const options = task.link_options;
  if (!options.link_available) {
    say({ kind: "link_unavailable", message: options.reason || "Links cannot be made for this task." });
  } else {
    say(null);
  }
  const pages = options.landing_pages || [];
  const byDefault = pages.find((p) => p.id === options.default_landing_page_id);
  if (options.mode === "manual") {
    box.append(
      el("input", { id: "landing-url", type: "url", value: byDefault ? byDefault.url : "", "aria-label": "Landing page URL", spellcheck: "false" }),
      el("span", { class: "small muted", text: `Any page on ${options.allowed_domains.join(", ") || "the campaign's domains"}.` }),
    );
  } else if (options.mode === "choose") {
    const select = el("select", { id: "landing-page", "aria-label": "Landing page" });
    for (const page of pages) select.append(el("option", { value: String(page.id), text: `${page.name} — ${page.url}`, selected: page.id === options.default_landing_page_id }));
    box.append(select);
  } else {
    box.append(
      el("strong", { text: byDefault ? byDefault.name : "The campaign's default page" }),
      el("div", { class: "urlbox", text: byDefault ? byDefault.url : "" }),
    );
  }
}

function landingChoice() {
  const task = currentTask();
  if (!task) return {};
  if (task.link_options.mode === "manual") return { landingUrl: $("landing-url").value };
  if (task.link_options.mode === "choose") return { landingPageId: $("landing-page").value };
  return {};
}

function clearResult() {
  $("result").hidden = true;
  $("shareable").value = "";
  $("result-note").textContent = "";
  $("copied").textContent = "";
  state.link = null;
}

function showResult(link) {
  state.link = link;
  $("shareable").value = link.display_url;
  const pairs = reportingPairs(link);
  $("result-note").textContent = pairs.length
    ? `Copy adds your reporting info: ${pairs.map(([label, value]) => `${label} ${value}`).join(", ")}.`
    : "";
  $("copied").textContent = "";
  $("result").hidden = false;
}

$("link-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  say(null);
  clearResult();
  const task = currentTask();
  if (!task) return;
  const typed = Object.fromEntries(REPORTING_FIELDS.map((name) => [name, $(name).value]));
  const { errors } = cleanReporting(typed);
  if (errors.length) return say({ kind: "invalid", message: errors.join(" ") });
  const button = $("create");
  button.disabled = true;
  button.textContent = "Creating…";
  const answer = await ask(MSG.LINK_CREATE, {
    taskId: task.id,
    kind: document.querySelector("input[name=kind]:checked").value,
    reporting: typed,
    ...landingChoice(),
  });
  button.disabled = false;
  button.textContent = "Create";
  if (!answer.ok) return say(answer.error);
  showResult(answer.data);
  loadRecent();
});

$("copy").addEventListener("click", async () => {
  if (!state.link) return;
  try {
    await navigator.clipboard.writeText(state.link.url);
  } catch {
    // Fall back to the selection (the extension has clipboardWrite).
    const scratch = el("textarea", { value: state.link.url });
    document.body.append(scratch);
    scratch.select();
    document.execCommand("copy");
    scratch.remove();
  }
  $("copied").textContent = state.link.url === state.link.display_url ? "Copied to clipboard." : "Copied the full link, with your reporting info.";
});

async function loadRecent() {
  const answer = await ask(MSG.LINKS_RECENT, { limit: 5 });
  if (!answer.ok) return;
  const links = answer.data.links || [];
  $("recent-section").hidden = false;
  const list = $("recent");
  if (!links.length) {
    list.replaceChildren(el("li", { class: "muted small", text: "No links yet. Create your first one above." }));
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
      return el("li", {}, [
        el("div", { class: "mono small clamp", text: link.display_url, title: link.display_url }),
        el("div", { class: "small muted", text: `${link.kind === "regular" ? "Regular" : "Short"} → ${landing}` }),
        ...(state.text ? [el("div", { class: state.stoppedByAdvertiser ? "small stopped" : "small muted", text: state.text })] : []),
        el("div", { class: "counts" }, linkCounts(link).map((text) => el("span", { class: "pill", text }))),
      ]);
    }),
  );
}

async function main() {
  $("open-options").addEventListener("click", () => ask(MSG.OPTIONS_OPEN));
  $("sign-in").addEventListener("click", () => ask(MSG.OPTIONS_OPEN));
  $("program").addEventListener("change", loadCampaigns);
  $("campaign").addEventListener("change", loadTasks);
  $("task").addEventListener("change", () => { clearResult(); renderLanding(); });
  for (const radio of document.querySelectorAll("input[name=kind]")) radio.addEventListener("change", clearResult);
  const current = await ask(MSG.SESSION_GET);
  if (!current.ok || !current.data.signedIn) {
    return say({ kind: "signed_out", message: "You are not signed in to Tasklink. Sign in on the options page to create links." });
  }
  $("who").textContent = current.data.partner.name;
  await loadPrograms();
  await loadRecent();
}

main();
