// Matching page URLs against the partner's match rules, locally, so that the
// address of a page that is not a campaign page never leaves the browser.
//
// A rule's domain "brand.com" matches that host only; "*.brand.com" matches
// its subdomains (not brand.com itself), as the API defines.

import { REPORTING_FIELDS } from "./reporting.js";

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
// added (under the campaign's own parameter name, default "clickid") and
// reporting info typed onto a link. A deep link to "this page" leaves them out.
export const DEFAULT_CLICK_ID_PARAM = "clickid";

/** A query parameter name as the server reads it: "+" is a space, %XX a byte. */
export function decodeParamName(raw) {
  return String(raw).replace(/\+/g, " ").replace(/%([0-9a-fA-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The page's URL as a landing URL: without the visit parameters. The click-id
 * parameter goes in every spelling that decodes to it, in any letter case
 * (`ClickID`, `click%69d`), as the API refuses a landing URL that carries it;
 * the other parameters keep their own spelling and order.
 */
export function landingUrlOf(url, clickIdParam = DEFAULT_CLICK_ID_PARAM) {
  const text = String(url);
  const hashAt = text.indexOf("#");
  const beforeHash = hashAt === -1 ? text : text.slice(0, hashAt);
  const fragment = hashAt === -1 ? "" : text.slice(hashAt);
  const queryAt = beforeHash.indexOf("?");
  if (queryAt === -1) return text;
  const clickId = String(clickIdParam || DEFAULT_CLICK_ID_PARAM).toLowerCase();
  const pairs = beforeHash.slice(queryAt + 1).split("&");
  const kept = pairs.filter((pair) => {
    if (!pair) return false;
    const name = decodeParamName(pair.split("=", 1)[0]);
    return name.toLowerCase() !== clickId && !REPORTING_FIELDS.includes(name);
  });
  if (kept.length === pairs.length) return text;
  const query = kept.length ? `?${kept.join("&")}` : "";
  return beforeHash.slice(0, queryAt) + query + fragment;
}

/**
 * The campaigns whose rules match the page, in the rules' order, each as
 * {campaignId, campaignName, programId, mode, allowedDomains, pageAllowed,
 * clickIdParam, landingUrl}: `landingUrl` is the page without the visit
 * parameters of that campaign.
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
      clickIdParam: rule.click_id_param || DEFAULT_CLICK_ID_PARAM,
      landingUrl: landingUrlOf(url, rule.click_id_param),
    }));
}
