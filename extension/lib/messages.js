// Message types between the extension's pages, the content script and the service worker.
// The service worker refuses any type not listed here (see lib/dispatch.js).
// This module imports nothing: the content script loads it into campaign pages
// from a per-session random address, where relative imports do not resolve.

export const MSG = Object.freeze({
  SESSION_GET: "session:get",
  SESSION_LOGIN: "session:login",
  SESSION_LOGOUT: "session:logout",
  PAGE_MATCH: "page:match",
  TAB_PAGE: "tab:page",
  SITE_ACCESS: "site-access:get",
  PROGRAMS_LIST: "programs:list",
  CAMPAIGNS_LIST: "campaigns:list",
  CAMPAIGN_TASKS: "campaign:tasks",
  LINK_CREATE: "link:create",
  LINKS_RECENT: "links:recent",
  LINK_QR: "link:qr",
  OPTIONS_OPEN: "options:open",
  INVITATIONS_LIST: "invitations:list",
  INVITATION_ANSWER: "invitation:answer",
  EARNINGS_GET: "earnings:get",
  POSTBACKS_GET: "postbacks:get",
  POSTBACKS_SAVE: "postbacks:save",
  POSTBACKS_ROTATE: "postbacks:rotate",
  POSTBACK_RETRY: "postback:retry",
});

// Only the extension's own pages (popup, options) may sign in or out, learn
// which campaign page the current tab shows, which sites lack access, read
// and answer invitations and earnings, or see and change postbacks (their
// signing secret never reaches a web page); content scripts run inside web
// pages and get the narrower set.
export const EXTENSION_PAGE_ONLY = Object.freeze(new Set([
  MSG.SESSION_LOGIN, MSG.SESSION_LOGOUT, MSG.TAB_PAGE, MSG.SITE_ACCESS,
  MSG.INVITATIONS_LIST, MSG.INVITATION_ANSWER, MSG.EARNINGS_GET,
  MSG.POSTBACKS_GET, MSG.POSTBACKS_SAVE, MSG.POSTBACKS_ROTATE, MSG.POSTBACK_RETRY,
]));
