// Tasklink service worker: the only place that holds the partner's token and
// the only caller of the API. Pages and the content script ask it by message
// (lib/messages.js); one dispatcher answers them (lib/dispatch.js).
//
// Page addresses are matched here against the cached match rules
// (lib/match.js): a page that is not a campaign page is never sent anywhere.
// The content script is registered from the same rules, on the campaigns'
// domains only (lib/sites.js), and follows them: sign-in, every fetch of the
// rules that changes them, sign-out.

import {
  DEFAULT_API_BASE, callApi, normalizeApiBase, originPattern, requests, signedOutMessage,
} from "./lib/api.js";
import { RULES_TTL_MS, isFresh } from "./lib/cache.js";
import { Failure, createDispatcher } from "./lib/dispatch.js";
import { t } from "./lib/i18n.js";
import { matchPage } from "./lib/match.js";
import { EXTENSION_PAGE_ONLY, MSG } from "./lib/messages.js";
import { contentScriptFor, missingAccess, patternHost, sameRegistration } from "./lib/sites.js";

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
  await chrome.alarms.clear(RULES_ALARM);
  await registerContentScript([]);
}

// --- the content script, on campaign domains only ------------------------------

const CONTENT_SCRIPT = { id: "tasklink-campaign-pages", js: ["content-script.js"], runAt: "document_idle", persistAcrossSessions: true };
let registering = Promise.resolve();

/** Register, update or remove the content script for these rules (one change at a time). */
function registerContentScript(rules) {
  const wanted = contentScriptFor(rules);
  registering = registering.then(async () => {
    const [registered] = await chrome.scripting.getRegisteredContentScripts({ ids: [CONTENT_SCRIPT.id] });
    if (!wanted) {
      if (registered) await chrome.scripting.unregisterContentScripts({ ids: [CONTENT_SCRIPT.id] });
      return;
    }
    const script = { ...CONTENT_SCRIPT, ...wanted };
    if (!registered) await chrome.scripting.registerContentScripts([script]);
    else if (!sameRegistration(registered, script)) await chrome.scripting.updateContentScripts([script]);
  }).catch((error) => console.error("Tasklink: could not register the content script:", error));
  return registering;
}

// While signed in, the rules are fetched again every few minutes even when
// nothing asks, so a campaign that starts or stops allowing links gains or
// loses its pages without the partner opening anything.
const RULES_ALARM = "tasklink-match-rules";

/** Bring the registration in line with the session: the rules when signed in, nothing when not. */
async function refreshRegistration() {
  if (!(await session())) return registerContentScript([]);
  await chrome.alarms.create(RULES_ALARM, { periodInMinutes: RULES_TTL_MS / 60000 });
  // The API being down keeps the registration made from the last rules.
  return matchRules({ refresh: true }).catch(() => {});
}

/** After the partner allows more sites, campaign pages already open get the button without a reload. */
async function injectIntoOpenPages() {
  const [registered] = await chrome.scripting.getRegisteredContentScripts({ ids: [CONTENT_SCRIPT.id] });
  if (!registered) return;
  const tabs = await chrome.tabs.query({ url: registered.matches });
  await Promise.all(tabs.map((tab) => chrome.scripting.executeScript({ target: { tabId: tab.id }, files: CONTENT_SCRIPT.js }).catch(() => {})));
}

/** Call the API as the signed-in partner; a 401 forgets the session. */
async function call(spec, options = {}) {
  const base = await apiBase();
  const current = spec.auth ? await session() : null;
  if (spec.auth && !current) throw new Failure("signed_out", signedOutMessage());
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
  await registerContentScript(rules);
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
      throw new Failure("permission", t("worker_not_allowed", new URL(base).origin));
    }
    if (!String(message.email || "").trim() || !String(message.password || "")) {
      throw new Failure("invalid", t("options_enter_credentials"));
    }
    const login = await callApi(fetch, base, null, requests.login(message.email, message.password), { action: "login" });
    const me = await callApi(fetch, base, login.token, requests.me());
    const partner = { id: me.id, name: me.name, email: me.email };
    await chrome.storage.session.remove(KEY_RULES);
    await chrome.storage.local.set({ [KEY_BASE]: base, [KEY_SESSION]: { token: login.token, expiresAt: login.expires_at, partner } });
    // Fetch the rules now, so the content script is registered and campaign pages show the button at once.
    await refreshRegistration();
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
  // pressed, or the site access of a campaign site); it is matched here and
  // goes nowhere else.
  async [MSG.TAB_PAGE]() {
    if (!(await session())) return { pages: [] };
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    if (!tab || !tab.url) return { pages: [] };
    const rules = await matchRules().catch(() => []);
    return {
      pages: matchPage(tab.url, rules).map((m) => ({ campaignId: m.campaignId, landingUrl: m.landingUrl, pageAllowed: m.pageAllowed })),
    };
  },

  // Which campaign sites the partner has not (or no longer) allowed, so the popup can ask.
  async [MSG.SITE_ACCESS]() {
    if (!(await session())) return { missing: [], hosts: [] };
    const wanted = contentScriptFor(await matchRules());
    const missing = wanted ? await missingAccess(wanted.matches, (origin) => chrome.permissions.contains({ origins: [origin] })) : [];
    return { missing, hosts: missing.map(patternHost) };
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

  // The link's QR code, fetched here with the partner's token (pages and content scripts never see it).
  async [MSG.LINK_QR](message) {
    const format = message.format === "svg" ? "svg" : "png";
    return { format, ...(await call(requests.linkQr(message.linkId, format))) };
  },

  async [MSG.LINKS_RECENT](message) {
    const limit = Math.min(Math.max(Number(message.limit) || 5, 1), 20);
    return call(requests.links({ limit }));
  },

  async [MSG.INVITATIONS_LIST]() {
    return call(requests.invitations());
  },

  async [MSG.INVITATION_ANSWER](message) {
    const answer = await call(requests.answerInvitation(message.campaignId, message.accept));
    // An accepted campaign may bring new campaign sites: fetch the rules again.
    if (answer.membership === "active") await refreshRegistration();
    return answer;
  },

  async [MSG.EARNINGS_GET](message) {
    return call(requests.earnings({ from: message.from, to: message.to }));
  },

  // The options page's Postbacks section: setup (secret included), campaigns to pick from, last deliveries.
  async [MSG.POSTBACKS_GET]() {
    const [settings, campaigns, deliveries] = await Promise.all([
      call(requests.postbacks()),
      call(requests.campaigns()),
      call(requests.postbackDeliveries(5)),
    ]);
    return { settings, campaigns: campaigns.campaigns || [], deliveries: deliveries.deliveries || [] };
  },

  async [MSG.POSTBACKS_SAVE](message) {
    return call(requests.setPostbackTemplate(message.template, message.campaignId));
  },

  async [MSG.POSTBACKS_ROTATE]() {
    return call(requests.rotatePostbackSecret());
  },

  // A failed delivery sent again (the partner's receiver is back); the page then reloads the log.
  async [MSG.POSTBACK_RETRY](message) {
    return call(requests.retryPostbackDelivery(message.deliveryId));
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

chrome.runtime.onInstalled.addListener((details) => {
  // A new partner starts on the options page: the API address and sign-in.
  if (details.reason === "install") chrome.runtime.openOptionsPage();
  refreshRegistration();
});
chrome.runtime.onStartup.addListener(() => { refreshRegistration(); });
chrome.permissions.onAdded.addListener(() => { injectIntoOpenPages(); });
chrome.alarms.onAlarm.addListener((alarm) => { if (alarm.name === RULES_ALARM) refreshRegistration(); });

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!sender || sender.id !== chrome.runtime.id) return false;
  dispatch(message, sender).then(sendResponse);
  return true; // answer asynchronously
});
