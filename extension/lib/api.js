// Building requests to the Tasklink partner API and turning its
// answers, or their absence, into data or a sentence for the partner.
// Pure: the service worker passes in `fetch`, the tests a fake.
//
// Every request says which language the partner reads (Accept-Language: the
// messages' own language tag, see lib/i18n.js), so the API's error `message`
// arrives in it and is shown as sent; the extension's own sentences come
// from _locales.

import { Failure } from "./dispatch.js";
import { formatIn, languageTag, t } from "./i18n.js";
import { cleanReporting } from "./reporting.js";

export const DEFAULT_API_BASE = "http://127.0.0.1:5000";
export const REQUEST_TIMEOUT_MS = 10000;

/**
 * Check an API base URL typed on the options page.
 * Returns {ok: true, base} (no trailing slash, no query) or {ok: false, message}.
 */
export function normalizeApiBase(text) {
  const value = String(text ?? "").trim();
  if (!value) return { ok: false, message: t("api_base_empty", DEFAULT_API_BASE) };
  let parsed;
  try {
    parsed = new URL(value);
  } catch {
    return { ok: false, message: t("api_base_not_url", value, DEFAULT_API_BASE) };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return { ok: false, message: t("api_base_scheme") };
  }
  if (parsed.username || parsed.password) {
    return { ok: false, message: t("api_base_credentials") };
  }
  const path = parsed.pathname.replace(/\/+$/, "");
  return { ok: true, base: `${parsed.origin}${path}` };
}

/** The origin pattern a host permission must cover for this base ("http://127.0.0.1/*"). */
export function originPattern(base) {
  const parsed = new URL(base);
  return `${parsed.protocol}//${parsed.hostname}/*`;
}

/** Full URL of an API path with optional query parameters (null/undefined ones are left out). */
export function apiUrl(base, path, query = {}) {
  const url = new URL(base.replace(/\/+$/, "") + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  return url.toString();
}

// What a request needs picked first, by the sentence that asks for it.
const PICK = Object.freeze({
  program: "api_pick_program", campaign: "api_pick_campaign", task: "api_pick_task", link: "api_pick_link", landingPage: "api_pick_landing_page",
});

function positiveId(value, what) {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new Failure("invalid", t(PICK[what]));
  return number;
}

/** The request descriptions of every call the extension makes: {method, path, query?, body?, auth}. */
export const requests = Object.freeze({
  login: (email, password) => ({
    method: "POST",
    path: "/api/v1/auth/login",
    body: { email: String(email ?? "").trim(), password: String(password ?? "") },
    auth: false,
  }),
  logout: () => ({ method: "POST", path: "/api/v1/auth/logout", auth: true }),
  me: () => ({ method: "GET", path: "/api/v1/me", auth: true }),
  matchRules: () => ({ method: "GET", path: "/api/v1/match-rules", auth: true }),
  programs: () => ({ method: "GET", path: "/api/v1/programs", auth: true }),
  campaigns: (programId) => ({
    method: "GET",
    path: "/api/v1/campaigns",
    query: { program_id: programId ? positiveId(programId, "program") : undefined },
    auth: true,
  }),
  tasks: (campaignId) => ({
    method: "GET",
    path: `/api/v1/campaigns/${positiveId(campaignId, "campaign")}/tasks`,
    auth: true,
  }),
  links: ({ taskId, limit = 5 } = {}) => ({
    method: "GET",
    path: "/api/v1/links",
    query: { task_id: taskId ? positiveId(taskId, "task") : undefined, limit },
    auth: true,
  }),
  createLink: (options) => ({ method: "POST", path: "/api/v1/links", body: linkBody(options), auth: true }),
  invitations: () => ({ method: "GET", path: "/api/v1/invitations", auth: true }),
  answerInvitation: (campaignId, accept) => ({
    method: "POST",
    path: `/api/v1/invitations/${positiveId(campaignId, "campaign")}/${accept === true ? "accept" : "decline"}`,
    auth: true,
  }),
  earnings: ({ from, to } = {}) => ({
    method: "GET",
    path: "/api/v1/reports/earnings",
    query: { from: day(from, "first"), to: day(to, "last") },
    auth: true,
  }),
  postbacks: () => ({ method: "GET", path: "/api/v1/postbacks", auth: true }),
  // An empty template removes it (null), anything else is sent as typed: the API names what is wrong.
  setPostbackTemplate: (template, campaignId) => ({
    method: "PUT",
    path: campaignId ? `/api/v1/campaigns/${positiveId(campaignId, "campaign")}/postback` : "/api/v1/postbacks",
    body: { url_template: String(template ?? "").trim() || null },
    auth: true,
  }),
  rotatePostbackSecret: () => ({ method: "POST", path: "/api/v1/postbacks/secret", auth: true }),
  retryPostbackDelivery: (deliveryId) => ({
    method: "POST",
    path: `/api/v1/postbacks/deliveries/${positiveId(deliveryId, "delivery")}/retry`,
    auth: true,
  }),
  postbackDeliveries: (limit = 5) => ({ method: "GET", path: "/api/v1/postbacks/deliveries", query: { limit }, auth: true }),
  // A picture, not JSON: the browser may keep it (the API answers Cache-Control: private and an ETag).
  linkQr: (linkId, format) => {
    const fmt = QR_FORMATS[format];
    if (!fmt) throw new Failure("invalid", t("api_qr_formats"));
    return { method: "GET", path: `/api/v1/links/${positiveId(linkId, "link")}/qr.${format}`, auth: true, accept: fmt, cache: "default" };
  },
});

/** A YYYY-MM-DD day for a query, or undefined for the API's default; anything else is refused. */
function day(value, which) {
  if (value === undefined || value === null || value === "") return undefined;
  const text = String(value);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw new Failure("invalid", t(which === "first" ? "api_pick_first_day" : "api_pick_last_day"));
  }
  return text;
}

/** The QR code formats the API draws, with their media types. */
export const QR_FORMATS = Object.freeze({ svg: "image/svg+xml", png: "image/png" });

/**
 * The body of POST /api/v1/links from the form's choices.
 * `kind` is "short" unless "regular" was chosen; a landing URL and a landing
 * page id are never both sent; empty reporting fields are left out; a bad one
 * throws a Failure with the sentence.
 */
export function linkBody({ taskId, kind, landingUrl, landingPageId, reporting } = {}) {
  const body = { task_id: positiveId(taskId, "task"), kind: kind === "regular" ? "regular" : "short" };
  if (landingPageId !== undefined && landingPageId !== null && landingPageId !== "") {
    body.landing_page_id = positiveId(landingPageId, "landingPage");
  } else if (typeof landingUrl === "string" && landingUrl.trim()) {
    body.landing_url = landingUrl.trim();
  }
  const { values, errors } = cleanReporting(reporting || {});
  if (errors.length) throw new Failure("invalid", errors.join(" "));
  Object.assign(body, values);
  return body;
}

/** The fetch() URL and options for a request description. */
export function buildFetch(base, token, spec) {
  // An error is JSON whatever was asked for, so a picture's request accepts both.
  // The language the partner reads, so the API's error sentences come in it.
  const headers = { Accept: spec.accept ? `${spec.accept}, application/json` : "application/json", "Accept-Language": languageTag() };
  if (spec.auth) {
    if (!token) throw new Failure("signed_out", signedOutMessage());
    headers.Authorization = `Bearer ${token}`;
  }
  const init = { method: spec.method, headers, credentials: "omit", cache: spec.cache || "no-store" };
  if (spec.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(spec.body);
  }
  return { url: apiUrl(base, spec.path, spec.query || {}), init };
}

/** The sentence for a partner who is not signed in. */
export function signedOutMessage() {
  return t("api_signed_out");
}

/** The sentence for an API that could not be reached. */
export function apiDownMessage(base) {
  return t("api_down", base);
}

/**
 * A Failure for an answer that is not 2xx: its kind and a sentence.
 * `action` is "login" for the sign-in form, where 401 means a wrong password.
 */
export function describeFailure({ status, body, retryAfter, action }) {
  const error = body && typeof body === "object" && body.error && typeof body.error === "object" ? body.error : {};
  const code = typeof error.code === "string" ? error.code : "";
  const apiMessage = typeof error.message === "string" && error.message.trim() ? error.message.trim() : "";
  if (status === 401) {
    if (action === "login") return new Failure("wrong_credentials", t("api_wrong_credentials"), { code });
    const why = code === "token_expired" ? "api_session_expired" : code === "token_revoked" ? "api_session_revoked" : "api_signed_out";
    return new Failure("signed_out", t(why), { code });
  }
  if (status === 429) {
    const what = action === "login" ? "api_rate_limited_login" : "api_rate_limited";
    return new Failure("rate_limited", t(what, formatIn(retryAfter)), { code, retryAfter: Number(retryAfter) || null });
  }
  if (status === 422 && (code === "landing_page_not_allowed" || code === "click_id_param_in_url")) {
    return new Failure("landing_not_allowed", apiMessage || t("api_landing_not_allowed"), { code });
  }
  if (status === 422) {
    return new Failure("link_unavailable", apiMessage || t("api_link_unavailable"), { code });
  }
  if (status === 404) return new Failure("not_found", apiMessage || t("api_not_found"), { code });
  if (status === 400) return new Failure("invalid", apiMessage || t("api_invalid"), { code });
  if (status >= 500) return new Failure("server", t("api_server_error", status), { code });
  return new Failure("server", apiMessage || t("api_other_error", status), { code });
}

/**
 * Make one API call. Resolves to the parsed JSON body (or null for 204);
 * throws a Failure with a sentence for every way it can go wrong.
 */
export async function callApi(fetchFn, base, token, spec, { timeoutMs = REQUEST_TIMEOUT_MS, action } = {}) {
  const { url, init } = buildFetch(base, token, spec);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetchFn(url, { ...init, signal: controller.signal });
  } catch {
    throw new Failure("api_down", apiDownMessage(base));
  } finally {
    clearTimeout(timer);
  }
  if (spec.accept && response.ok) return picture(response, spec.accept, base);
  let body = null;
  if (response.status !== 204) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    throw describeFailure({ status: response.status, body, retryAfter: response.headers.get("Retry-After"), action });
  }
  if (response.status !== 204 && (body === null || typeof body !== "object")) {
    // Something answered, but not a Tasklink API (a wrong port, a proxy page).
    throw new Failure("api_down", t("api_not_tasklink", base));
  }
  return body;
}

/** Bytes as base64 (a message between the worker and a page carries JSON only). */
export function toBase64(bytes) {
  let binary = "";
  // In slices: String.fromCharCode takes its bytes as arguments, and arguments are limited.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A picture answer as {mediaType, base64}, or a Failure when something other than that picture came back. */
async function picture(response, mediaType, base) {
  const type = String(response.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
  if (type !== mediaType) {
    throw new Failure("api_down", t("api_not_tasklink", base));
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { mediaType, base64: toBase64(bytes) };
}
