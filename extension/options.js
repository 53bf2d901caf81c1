// Options page: API base URL, sign in and out, and the partner's postbacks. The token never reaches this
// page: it asks the service worker, which keeps it. Its words come from _locales (lib/i18n.js).

import { DEFAULT_API_BASE, normalizeApiBase, originPattern } from "./lib/api.js";
import { formatDateTime, formatNumber, localize, pluralKey, t, tParts } from "./lib/i18n.js";
import { MSG } from "./lib/messages.js";

const $ = (id) => document.getElementById(id);
localize(document);
$("api-base-hint").textContent = t("options_api_base_hint", DEFAULT_API_BASE);

async function ask(type, payload = {}) {
  try {
    return (await chrome.runtime.sendMessage({ type, ...payload })) || { ok: false, error: { message: t("options_no_answer") } };
  } catch {
    return { ok: false, error: { message: t("options_no_answer") } };
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
    const name = document.createElement("strong");
    name.id = "partner-name";
    name.textContent = sessionInfo.partner.name;
    const email = document.createElement("span");
    email.id = "partner-email";
    email.className = "muted";
    email.textContent = t("options_email_brackets", sessionInfo.partner.email);
    $("signed-in-as").replaceChildren(...tParts("options_signed_in_as", name, email));
    const base = document.createElement("span");
    base.id = "api-shown";
    base.className = "mono";
    base.textContent = sessionInfo.apiBase;
    $("api-line").replaceChildren(...tParts("options_api_line", base));
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
  if (!email || !password) return say(t("options_enter_credentials"));
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
    if (!granted) return say(t("options_permission_needed", new URL(checked.base).origin));
  }
  const button = $("login");
  button.disabled = true;
  button.textContent = t("options_logging_in");
  const answer = await ask(MSG.SESSION_LOGIN, { apiBase: checked.base, email, password });
  button.disabled = false;
  button.textContent = t("options_log_in");
  if (!answer.ok) return say(answer.error.message);
  $("password").value = "";
  await refresh();
  say(t("options_signed_in"), "ok");
});

$("logout").addEventListener("click", async () => {
  await ask(MSG.SESSION_LOGOUT);
  await refresh();
  say(t("options_signed_out"), "ok");
});

// --- Postbacks: templates, the signing secret, the last deliveries ---------------------------

let postbackState = null;

function sayPostbacks(text, tone = "error") {
  const box = $("pb-message");
  box.textContent = text;
  box.className = `message ${tone}`;
  box.hidden = !text;
}

// A delivery's event and status (API codes) in words; a code this version does not know is shown as it is.
const EVENTS = Object.freeze({ created: "postbacks_event_created", approved: "postbacks_event_approved", reversed: "postbacks_event_reversed" });
const STATUSES = Object.freeze({ delivered: "postbacks_status_delivered", failed: "postbacks_status_failed", pending: "postbacks_status_pending" });

function deliveryLine(delivery) {
  const item = document.createElement("li");
  let text = t(
    pluralKey("postbacks_delivery", delivery.attempts),
    formatDateTime(delivery.created_at),
    EVENTS[delivery.event] ? t(EVENTS[delivery.event]) : delivery.event,
    delivery.conversion_id,
    STATUSES[delivery.status] ? t(STATUSES[delivery.status]) : delivery.status,
    formatNumber(delivery.attempts),
  );
  // The receiver's own error, as the API recorded it.
  if (delivery.status !== "delivered" && delivery.last_error) text = t("postbacks_delivery_error", text, delivery.last_error);
  item.textContent = text;
  item.className = `delivery ${delivery.status}`;
  if (delivery.status === "failed") {
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "link-button retry";
    retry.textContent = t("postbacks_retry");
    retry.addEventListener("click", () => retryDelivery(delivery.id, retry));
    item.append(" ", retry);
  }
  return item;
}

// Sends a failed delivery again, then shows the log as it is now (the row pending again).
async function retryDelivery(deliveryId, button) {
  button.disabled = true;
  sayPostbacks("");
  const answer = await ask(MSG.POSTBACK_RETRY, { deliveryId });
  if (!answer.ok) {
    button.disabled = false;
    return sayPostbacks(answer.error.message);
  }
  await loadPostbacks();
  sayPostbacks(t("postbacks_retried"), "ok");
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
  sayPostbacks(t(template.trim() ? "postbacks_saved" : "postbacks_removed"), "ok");
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
  $("pb-show").textContent = t(hidden ? "postbacks_hide" : "postbacks_show");
});

$("pb-rotate").addEventListener("click", async () => {
  sayPostbacks("");
  const answer = await ask(MSG.POSTBACKS_ROTATE);
  if (!answer.ok) return sayPostbacks(answer.error.message);
  postbackState.settings = answer.data;
  renderPostbacks(postbackState);
  sayPostbacks(t("postbacks_rotated"), "ok");
});

refresh();
