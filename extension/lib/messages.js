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
});

// Only the extension's own pages (popup, options) may sign in or out, learn
// which campaign page the current tab shows, or which sites lack access;
// content scripts run inside web pages and get the narrower set.
export const EXTENSION_PAGE_ONLY = Object.freeze(new Set([MSG.SESSION_LOGIN, MSG.SESSION_LOGOUT, MSG.TAB_PAGE, MSG.SITE_ACCESS]));
