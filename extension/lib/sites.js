// Where the content script runs, and the site access it needs.
//
// The service worker registers content-script.js on the domains of the
// partner's campaigns only (chrome.scripting.registerContentScripts), never on
// every site. Chrome runs it where the partner has given the extension access:
// this machine's demo hosts at install, any other campaign site once allowed
// from the popup (chrome.permissions.request, which needs the partner's click).

import { formatList, t } from "./i18n.js";

const DOMAIN = /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$/;

/** A rule's domain ("brand.com", "*.brand.com") as a match pattern for http and https, or null when it cannot be one. */
export function domainPattern(domain) {
  const value = String(domain ?? "").trim().toLowerCase().replace(/\.$/, "");
  if (!DOMAIN.test(value) || value === "*") return null;
  return `*://${value}/*`;
}

/** The host a pattern stands for, as the partner reads it ("*.brand.com", "shop.brand.com"). */
export function patternHost(pattern) {
  const match = /^[^:]+:\/\/([^/]+)\//.exec(String(pattern));
  return match ? match[1] : String(pattern);
}

/**
 * The content script's registration for these match rules:
 * {matches, excludeMatches} (sorted, without duplicates), or null when there
 * is no campaign page to run on. A pattern "*.brand.com" stands for its
 * subdomains only (lib/match.js), while Chrome's "*://*.brand.com/*" also
 * takes brand.com itself: that host is excluded unless a rule names it.
 */
export function contentScriptFor(rules) {
  const domains = new Set();
  for (const rule of Array.isArray(rules) ? rules : []) {
    for (const domain of rule.domains || []) {
      if (domainPattern(domain)) domains.add(String(domain).trim().toLowerCase().replace(/\.$/, ""));
    }
  }
  if (!domains.size) return null;
  const matches = [...domains].map(domainPattern).sort();
  const excludeMatches = [...domains]
    .filter((domain) => domain.startsWith("*.") && !domains.has(domain.slice(2)))
    .map((domain) => domainPattern(domain.slice(2)))
    .sort();
  return { matches, excludeMatches };
}

/** Is a registered content script the same as the one wanted (so it need not be updated)? */
export function sameRegistration(registered, wanted) {
  const list = (value) => JSON.stringify([...(value || [])].sort());
  return Boolean(
    registered && wanted &&
      list(registered.matches) === list(wanted.matches) &&
      list(registered.excludeMatches) === list(wanted.excludeMatches) &&
      list(registered.js) === list(wanted.js),
  );
}

/** The patterns the extension may not open yet: `contains(pattern)` answers chrome.permissions.contains for one. */
export async function missingAccess(patterns, contains) {
  const missing = [];
  for (const pattern of patterns) {
    if (!(await contains(pattern))) missing.push(pattern);
  }
  return missing;
}

/**
 * Ask the partner for access to campaign sites, from their click in the popup.
 * `permissions` is chrome.permissions. Chrome shows its prompt only while the
 * click is being handled, so the request is made at once, before anything is
 * awaited. Resolves to {granted, message}.
 */
export function requestSiteAccess(permissions, patterns) {
  const origins = [...patterns];
  const hosts = formatList(origins.map(patternHost));
  let asked;
  try {
    asked = permissions.request({ origins });
  } catch {
    return Promise.resolve({ granted: false, message: t("site_access_not_asked") });
  }
  return Promise.resolve(asked).then(
    (granted) => (granted
      ? { granted: true, message: t("site_access_allowed", hosts) }
      : { granted: false, message: t("site_access_refused", hosts) }),
    () => ({ granted: false, message: t("site_access_not_asked") }),
  );
}
