// Options page: API base URL, sign in and out. The token never reaches this
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

refresh();
