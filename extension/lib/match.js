// Matching page URLs against the partner's match rules, locally, so that the
// address of a page that is not a campaign page never leaves the browser.
//
// A rule's domain "brand.com" matches that host only; "*.brand.com" matches
// its subdomains (not brand.com itself), as the API and SPEC §2 define.

import { REPORTING_FIELDS, withoutParams } from "./reporting.js";

/** The lower-case host name of an http(s) URL, or null for anything else. */
export function pageHost(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
  return host || null;
}

/** Does `host` match one domain pattern ("brand.com" or "*.brand.com")? */
export function hostMatches(host, pattern) {
  if (typeof host !== "string" || typeof pattern !== "string") return false;
  const h = host.toLowerCase().replace(/\.$/, "");
  const p = pattern.trim().toLowerCase().replace(/\.$/, "");
  if (!h || !p) return false;
  if (p.startsWith("*.")) {
    const suffix = p.slice(1); // ".brand.com"
    return suffix.length > 1 && h.length > suffix.length && h.endsWith(suffix);
  }
  return h === p;
}

/** Does `host` match any of the patterns? */
export function hostMatchesAny(host, patterns) {
  return Array.isArray(patterns) && patterns.some((pattern) => hostMatches(host, pattern));
}

/** May this page be a manual-mode landing URL (on one of the campaign's allowed domains)? */
export function isAllowedLanding(url, allowedDomains) {
  const host = pageHost(url);
  return host !== null && hostMatchesAny(host, allowedDomains);
}

// Parameters that belong to a visit, not to the page: the click id the redirect
// added (the campaign default name; the rules do not carry a campaign's own) and
// reporting info typed onto a link. A deep link to "this page" leaves them out.
export const VISIT_PARAMS = Object.freeze(["clickid", ...REPORTING_FIELDS]);

/** The page's URL as a landing URL: without the visit parameters. */
export function landingUrlOf(url) {
  return withoutParams(url, VISIT_PARAMS);
}

/**
 * The campaigns whose rules match the page, in the rules' order, each as
 * {campaignId, campaignName, programId, mode, pageAllowed, allowedDomains}.
 * An empty list means: not a campaign page, show nothing, ask the server nothing.
 */
export function matchPage(url, rules) {
  const host = pageHost(url);
  if (host === null || !Array.isArray(rules)) return [];
  return rules
    .filter((rule) => hostMatchesAny(host, rule.domains))
    .map((rule) => ({
      campaignId: rule.campaign_id,
      campaignName: rule.campaign_name,
      programId: rule.program_id,
      mode: rule.mode,
      allowedDomains: rule.allowed_domains || [],
      pageAllowed: hostMatchesAny(host, rule.allowed_domains || []),
    }));
}
