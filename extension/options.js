// Options page: API base URL, sign in and out, and the partner's postbacks. The token never reaches this
// page: it asks the service worker, which keeps it.

import { DEFAULT_API_BASE, normalizeApiBase, originPattern } from "./lib/api.js";
import { MSG } from "./lib/messages.js";

const $ = (id) => document.getElementById(id);

async function ask(type, payload = {}) {
  try {
    return (await chrome.runtime.sendMessage({ type, ...payload })) || { ok: false, error: { message: "Tasklink did not answer. Reload this page." } };
  } catch {
    return { ok: false, error: { message: "Tasklink did not answer. Reload this page." } };
  }
}

function say(text, tone = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${tone}`;
  box.hidden = !text;
}

function render(sessionInfo) {
  const signedIn = Boolean(sessionInfo && sessionInfo.signedIn);
  $("signed-in").hidden = !signedIn;
  $("login-form").hidden = signedIn;
  if (signedIn) {
    $("partner-name").textContent = sessionInfo.partner.name;
    $("partner-email").textContent = `(${sessionInfo.partner.email})`;
    $("api-shown").textContent = sessionInfo.apiBase;
  } else {
    $("api-base").value = (sessionInfo && sessionInfo.apiBase) || DEFAULT_API_BASE;
  }
}

async function refresh() {
  const answer = await ask(MSG.SESSION_GET);
  render(answer.ok ? answer.data : null);
  if (answer.ok && answer.data.signedIn) loadPostbacks();
  else $("postbacks").hidden = true;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  say("");
  const checked = normalizeApiBase($("api-base").value);
  if (!checked.ok) return say(checked.message);
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !password) return say("Enter your e-mail and password.");
  // An API outside the built-in host permissions needs the partner's consent,
  // asked here because only a click may ask for it.
  const origins = [originPattern(checked.base)];
  if (!(await chrome.permissions.contains({ origins }))) {
    let granted;
    try {
      granted = await chrome.permissions.request({ origins });
    } catch {
      granted = false;
    }
    if (!granted) return say(`Tasklink needs your permission to contact ${new URL(checked.base).origin}. Press Log in again and allow it.`);
  }
  const button = $("login");
  button.disabled = true;
  button.textContent = "Logging in…";
  const answer = await ask(MSG.SESSION_LOGIN, { apiBase: checked.base, email, password });
  button.disabled = false;
  button.textContent = "Log in";
  if (!answer.ok) return say(answer.error.message);
  $("password").value = "";
  await refresh();
  say(`Signed in. Open a campaign page to see the Create link button, or use the Tasklink toolbar button.`, "ok");
});

$("logout").addEventListener("click", async () => {
  await ask(MSG.SESSION_LOGOUT);
  await refresh();
  say("Signed out.", "ok");
});

// --- Postbacks: templates, the signing secret, the last deliveries ---------------------------

let postbackState = null;

function sayPostbacks(text, tone = "error") {
  const box = $("pb-message");
  box.textContent = text;
  box.className = `message ${tone}`;
  box.hidden = !text;
}

function deliveryLine(delivery) {
  const item = document.createElement("li");
  const when = new Date(delivery.created_at).toLocaleString();
  let text = `${when} · ${delivery.event} · conversion ${delivery.conversion_id} · ${delivery.status}, ${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}`;
  if (delivery.status !== "delivered" && delivery.last_error) text += ` · ${delivery.last_error}`;
  item.textContent = text;
  item.className = `delivery ${delivery.status}`;
  return item;
}

function campaignTemplate(campaignId) {
  const found = postbackState.settings.campaigns.find((entry) => entry.campaign_id === Number(campaignId));
  return found ? found.url_template : "";
}

function renderPostbacks(data) {
  postbackState = data;
  const { settings, campaigns, deliveries } = data;
  $("pb-macros").replaceChildren(
    ...settings.macros.map((macro) => {
      const code = document.createElement("code");
      code.textContent = `{${macro.name}}`;
      code.title = macro.description;
      return code;
    }),
  );
  $("pb-template").value = settings.url_template || "";
  $("pb-secret").value = settings.secret;
  const select = $("pb-campaign-id");
  const chosen = select.value;
  select.replaceChildren(...campaigns.map((campaign) => new Option(campaign.name, String(campaign.id))));
  if (chosen && campaigns.some((campaign) => String(campaign.id) === chosen)) select.value = chosen;
  $("pb-campaign-template").value = select.value ? campaignTemplate(select.value) : "";
  $("pb-campaign").hidden = campaigns.length === 0;
  $("pb-deliveries").replaceChildren(...deliveries.map(deliveryLine));
  $("pb-none").hidden = deliveries.length > 0;
  $("pb-loading").hidden = true;
  $("pb-body").hidden = false;
}

async function loadPostbacks() {
  $("postbacks").hidden = false;
  $("pb-loading").hidden = false;
  $("pb-body").hidden = true;
  sayPostbacks("");
  const answer = await ask(MSG.POSTBACKS_GET);
  if (!answer.ok) {
    $("pb-loading").hidden = true;
    return sayPostbacks(answer.error.message);
  }
  renderPostbacks(answer.data);
}

async function savePostback(template, campaignId) {
  sayPostbacks("");
  const answer = await ask(MSG.POSTBACKS_SAVE, { template, campaignId });
  if (!answer.ok) return sayPostbacks(answer.error.message);
  postbackState.settings = answer.data;
  renderPostbacks(postbackState);
  sayPostbacks(template.trim() ? "Postback URL saved." : "Postback URL removed.", "ok");
}

$("pb-global").addEventListener("submit", (event) => {
  event.preventDefault();
  savePostback($("pb-template").value, null);
});

$("pb-campaign").addEventListener("submit", (event) => {
  event.preventDefault();
  savePostback($("pb-campaign-template").value, $("pb-campaign-id").value);
});

$("pb-campaign-id").addEventListener("change", () => {
  $("pb-campaign-template").value = campaignTemplate($("pb-campaign-id").value);
});

$("pb-show").addEventListener("click", () => {
  const field = $("pb-secret");
  const hidden = field.type === "password";
  field.type = hidden ? "text" : "password";
  $("pb-show").textContent = hidden ? "Hide" : "Show";
});

$("pb-rotate").addEventListener("click", async () => {
  sayPostbacks("");
  const answer = await ask(MSG.POSTBACKS_ROTATE);
  if (!answer.ok) return sayPostbacks(answer.error.message);
  postbackState.settings = answer.data;
  renderPostbacks(postbackState);
  sayPostbacks("New secret made: postbacks are signed with it from now on.", "ok");
});

refresh();
