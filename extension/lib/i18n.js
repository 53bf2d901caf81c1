// The extension's words and formats in the partner's language.
//
// Every visible string comes from _locales/<language>/messages.json through
// chrome.i18n, which picks the catalogue from the browser's language (en is
// the default_locale). The language the words are in is itself a message,
// `language_tag` ("en", "zh-CN"): chrome.i18n.getUILanguage() can name
// another language than the catalogue that answers (a browser in en-US shows
// the zh_CN words when it runs with --lang=zh-CN), so numbers, money and
// dates are formatted with Intl in that tag, and the API is asked to answer
// in it (lib/api.js sends it as Accept-Language).
//
// This module imports nothing and reads chrome.i18n only when called: the
// content script loads it into campaign pages from a per-session random
// address and hands it to lib/panel.js and lib/link-form.js (which import
// nothing either); node --test installs a stand-in chrome.i18n
// (tests/fake-i18n.mjs).

/**
 * The message `key` with its substitutions (up to 9, as chrome.i18n allows).
 * A key missing from the catalogue throws: an empty string must never reach
 * the screen (tests/i18n-keys.test.mjs checks every key the code uses exists).
 */
export function t(key, ...substitutions) {
  const text = globalThis.chrome.i18n.getMessage(key, substitutions.map((value) => String(value)));
  if (!text) throw new Error(`Tasklink: no message "${key}" in _locales`);
  return text;
}

/** The BCP 47 tag of the language the messages are in ("en", "zh-CN"). */
export function languageTag() {
  return t("language_tag");
}

// Markers for values that are nodes, not text (private-use characters, never in a message).
const OPEN = "\uE000";
const CLOSE = "\uE001";

/**
 * The message as a list of strings and the given values (nodes or text), in
 * the order the language puts them: for `replaceChildren(...tParts(key, node))`
 * where a value is an element (a name in bold, a code) inside a sentence.
 */
export function tParts(key, ...values) {
  const text = t(key, ...values.map((_, index) => `${OPEN}${index}${CLOSE}`));
  const parts = [];
  for (const [index, piece] of text.split(new RegExp(`${OPEN}(\\d)${CLOSE}`)).entries()) {
    if (index % 2) parts.push(values[Number(piece)]);
    else if (piece) parts.push(piece);
  }
  return parts;
}

/** The message key for a count: `${base}_one` or `${base}_other`, by the language's plural rules. */
export function pluralKey(base, count) {
  return new Intl.PluralRules(languageTag()).select(Number(count)) === "one" ? `${base}_one` : `${base}_other`;
}

/** Digits after the point of a decimal string ("5.00" → 2), so Intl shows exactly what the API sent. */
function decimals(text) {
  const match = /\.(\d+)$/.exec(String(text));
  return match ? Math.min(match[1].length, 20) : 0;
}

// Intl formats a decimal *string* exactly (no float in between): amounts stay the API's.
const exact = (value) => (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? value : Number(value) || 0);

/** A count or a whole number ("1,234"). */
export function formatNumber(value) {
  return new Intl.NumberFormat(languageTag()).format(Number(value) || 0);
}

/** A decimal string as sent, in the language's digits and separators ("1,234.50"). */
export function formatDecimal(value) {
  const digits = decimals(value ?? "0");
  return new Intl.NumberFormat(languageTag(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(exact(value ?? "0"));
}

/** An amount with its currency ("$5.00", "US$5.00", "€6.00"); a code Intl does not know is written after it. */
export function formatMoney(amount, currency) {
  const digits = decimals(amount ?? "0");
  try {
    return new Intl.NumberFormat(languageTag(), {
      style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(exact(amount ?? "0"));
  } catch {
    return `${formatDecimal(amount)} ${currency || ""}`.trim();
  }
}

/** A percentage as sent ("12.50" → "12.50%"). */
export function formatPercent(value) {
  const digits = decimals(value ?? "0");
  return new Intl.NumberFormat(languageTag(), {
    style: "unit", unit: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(exact(value ?? "0"));
}

/** Two UTC days (YYYY-MM-DD, both included) as a range ("Nov 2 – Dec 1, 2026", "2026/11/2 – 2026/12/1"). */
export function formatDayRange(from, to) {
  const format = new Intl.DateTimeFormat(languageTag(), { dateStyle: "medium", timeZone: "UTC" });
  return format.formatRange(new Date(`${from}T00:00:00Z`), new Date(`${to}T00:00:00Z`));
}

/** A moment (an ISO string from the API) in the partner's time zone. */
export function formatDateTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value ?? "");
  return new Intl.DateTimeFormat(languageTag(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** Items as a list in words ("a, b, and c"; "a、b和c"); `type` "disjunction" for "or". */
export function formatList(items, type = "conjunction") {
  return new Intl.ListFormat(languageTag(), { type }).format(items.map(String));
}

/** The same list as parts ({type: "element" | "literal", value}), to set its items apart (in bold) but not its "and". */
export function formatListParts(items, type = "conjunction") {
  return new Intl.ListFormat(languageTag(), { type }).formatToParts(items.map(String));
}

/** A wait in words ("in 5 seconds", "5秒钟后"). */
export function formatIn(seconds) {
  const format = new Intl.RelativeTimeFormat(languageTag(), { numeric: "auto" });
  const n = Number(seconds);
  if (!Number.isFinite(n) || n <= 0) return format.format(1, "minute");
  if (n < 90) return format.format(Math.ceil(n), "second");
  return format.format(Math.ceil(n / 60), "minute");
}

/**
 * Fill the elements of `root` marked for translation: `data-i18n` (the text),
 * `data-i18n-title`, `data-i18n-placeholder`, `data-i18n-aria-label`,
 * `data-i18n-alt`, `data-i18n-value` (the attribute of that name). Called
 * once by each page at load; the document's lang attribute becomes the
 * messages' language.
 */
export function localize(root) {
  const doc = root.ownerDocument || root;
  if (doc.documentElement) doc.documentElement.lang = languageTag();
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const attribute of LOCALIZED_ATTRIBUTES) {
    const data = `data-i18n-${attribute}`;
    for (const node of root.querySelectorAll(`[${data}]`)) node.setAttribute(attribute, t(node.getAttribute(data)));
  }
}

/** The attributes `localize` fills (data-i18n-<name>). */
export const LOCALIZED_ATTRIBUTES = Object.freeze(["title", "placeholder", "aria-label", "alt", "value"]);
