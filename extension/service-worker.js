// Tasklink service worker: the only place that holds the partner's token and
// the only caller of the API. Pages and the content script ask it by message
// (lib/messages.js); one dispatcher answers them (lib/dispatch.js).
//
// Page addresses are matched here against the cached match rules
// (lib/match.js): a page that is not a campaign page is never sent anywhere.

import {
  DEFAULT_API_BASE, SIGNED_OUT, callApi, normalizeApiBase, originPattern, requests,
} from "./lib/api.js";
import { RULES_TTL_MS, isFresh } from "./lib/cache.js";
import { Failure, createDispatcher } from "./lib/dispatch.js";
import { matchPage } from "./lib/match.js";
import { EXTENSION_PAGE_ONLY, MSG } from "./lib/messages.js";

// chrome.storage.local: the API base and the session (token, expiry, partner).
// chrome.storage.session (memory only, not readable by content scripts): the rules cache.
const KEY_BASE = "apiBase";
const KEY_SESSION = "session";
const KEY_RULES = "matchRules";

async function apiBase() {
  const stored = (await chrome.storage.local.get(KEY_BASE))[KEY_BASE];
  return stored || DEFAULT_API_BASE;
}

async function session() {
  const stored = (await chrome.storage.local.get(KEY_SESSION))[KEY_SESSION];
  if (!stored || !stored.token) return null;
  if (stored.expiresAt && Date.parse(stored.expiresAt) <= Date.now()) {
    await forgetSession();
    return null;
  }
  return stored;
}

async function forgetSession() {
  await chrome.storage.local.remove(KEY_SESSION);
  await chrome.storage.session.remove(KEY_RULES);
}

/** Call the API as the signed-in partner; a 401 forgets the session. */
async function call(spec, options = {}) {
  const base = await apiBase();
  const current = spec.auth ? await session() : null;
  if (spec.auth && !current) throw new Failure("signed_out", SIGNED_OUT);
  try {
    return await callApi(fetch, base, current && current.token, spec, options);
  } catch (error) {
    if (error instanceof Failure && error.kind === "signed_out") await forgetSession();
    throw error;
  }
}

/** The match rules, from the cache while fresh, else from the API (which learns nothing about the page). */
async function matchRules({ refresh = false } = {}) {
  const base = await apiBase();
  const cached = (await chrome.storage.session.get(KEY_RULES))[KEY_RULES];
  if (!refresh && isFresh(cached, base, Date.now(), RULES_TTL_MS)) return cached.rules;
  const body = await call(requests.matchRules());
  const rules = Array.isArray(body.rules) ? body.rules : [];
  await chrome.storage.session.set({ [KEY_RULES]: { base, fetchedAt: Date.now(), rules } });
  return rules;
}

// Extension pages (popup, options) have our own chrome-extension:// URL, even
// when opened in a tab; content scripts report the web page's URL.
function isExtensionPage(sender) {
  return Boolean(sender && sender.id === chrome.runtime.id && String(sender.url || "").startsWith(chrome.runtime.getURL("")));
}

const handlers = {
  async [MSG.SESSION_GET]() {
    const current = await session();
    return { signedIn: Boolean(current), partner: current ? current.partner : null, apiBase: await apiBase(), expiresAt: current ? current.expiresAt : null };
  },

  async [MSG.SESSION_LOGIN](message) {
    const checked = normalizeApiBase(message.apiBase);
    if (!checked.ok) throw new Failure("invalid", checked.message);
    const base = checked.base;
    if (!(await chrome.permissions.contains({ origins: [originPattern(base)] }))) {
      throw new Failure("permission", `Tasklink is not allowed to contact ${new URL(base).origin}. Press Log in again and allow it when Chrome asks.`);
    }
    if (!String(message.email || "").trim() || !String(message.password || "")) {
      throw new Failure("invalid", "Enter your e-mail and password.");
    }
    const login = await callApi(fetch, base, null, requests.login(message.email, message.password), { action: "login" });
    const me = await callApi(fetch, base, login.token, requests.me());
    const partner = { id: me.id, name: me.name, email: me.email };
    await chrome.storage.session.remove(KEY_RULES);
    await chrome.storage.local.set({ [KEY_BASE]: base, [KEY_SESSION]: { token: login.token, expiresAt: login.expires_at, partner } });
    // Fetch the rules now, so campaign pages show the button at once.
    await matchRules({ refresh: true }).catch(() => {});
    return { partner, apiBase: base };
  },

  async [MSG.SESSION_LOGOUT]() {
    const current = await session();
    if (current) {
      // Revoke the token on the server too; signing out locally must work even when the API is down.
      await call(requests.logout()).catch(() => {});
    }
    await forgetSession();
    return { signedIn: false };
  },

  async [MSG.PAGE_MATCH](message) {
    if (!(await session())) return { campaigns: [] };
    const url = String(message.url || "");
    let rules;
    try {
      rules = await matchRules();
    } catch {
      return { campaigns: [] }; // no rules, no button: the page is simply left alone
    }
    return { campaigns: matchPage(url, rules) };
  },

  // The popup's "Use this page": the active tab's address, only when it is a
  // page of one of the partner's campaigns. Chrome shows the worker the
  // address only with access to the tab (activeTab when the toolbar button was
  // pressed, or the host access of the site); it is matched here and goes
  // nowhere else.
  async [MSG.TAB_PAGE]() {
    if (!(await session())) return { pages: [] };
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    if (!tab || !tab.url) return { pages: [] };
    const rules = await matchRules().catch(() => []);
    return {
      pages: matchPage(tab.url, rules).map((m) => ({ campaignId: m.campaignId, landingUrl: m.landingUrl, pageAllowed: m.pageAllowed })),
    };
  },

  async [MSG.PROGRAMS_LIST]() {
    return call(requests.programs());
  },

  async [MSG.CAMPAIGNS_LIST](message) {
    return call(requests.campaigns(message.programId));
  },

  async [MSG.CAMPAIGN_TASKS](message) {
    return call(requests.tasks(message.campaignId));
  },

  async [MSG.LINK_CREATE](message) {
    return call(
      requests.createLink({
        taskId: message.taskId,
        kind: message.kind,
        landingUrl: message.landingUrl,
        landingPageId: message.landingPageId,
        reporting: message.reporting,
      }),
    );
  },

  async [MSG.LINKS_RECENT](message) {
    const limit = Math.min(Math.max(Number(message.limit) || 5, 1), 20);
    return call(requests.links({ limit }));
  },

  async [MSG.OPTIONS_OPEN]() {
    await chrome.runtime.openOptionsPage();
    return { opened: true };
  },
};

const dispatch = createDispatcher(handlers, {
  mayCall: (type, sender) => !EXTENSION_PAGE_ONLY.has(type) || isExtensionPage(sender),
  onError: (error) => console.error("Tasklink:", error),
});

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!sender || sender.id !== chrome.runtime.id) return false;
  dispatch(message, sender).then(sendResponse);
  return true; // answer asynchronously
});
