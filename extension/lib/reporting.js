// Reporting info: Sub ID 1–3 and the Shared ID, appended to a link
// as query parameters. The API checks them too; checking here first turns a
// mistake into a sentence next to the field instead of a round trip.

import { formatNumber, t } from "./i18n.js";

export const REPORTING_FIELDS = Object.freeze(["subId1", "subId2", "subId3", "sharedid"]);
// Each field's label, by message key.
const LABEL_KEYS = Object.freeze({
  subId1: "reporting_sub_id_1",
  subId2: "reporting_sub_id_2",
  subId3: "reporting_sub_id_3",
  sharedid: "reporting_shared_id",
});

/** A field's label in the partner's language ("Sub ID 1", "子 ID 1"). */
export function reportingLabel(name) {
  return t(LABEL_KEYS[name]);
}
export const REPORTING_MAX = 255;

// C0 and C1 control characters, which the API refuses.
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Trim the values the partner typed and check them.
 * Returns {values, errors}: `values` holds only the non-empty fields (so an
 * empty field is simply not sent), `errors` one sentence per bad field.
 */
export function cleanReporting(input) {
  const values = {};
  const errors = [];
  for (const name of REPORTING_FIELDS) {
    const raw = input && input[name];
    if (raw === undefined || raw === null) continue;
    const value = String(raw).trim();
    if (!value) continue;
    if (value.length > REPORTING_MAX) {
      errors.push(t("reporting_too_long", reportingLabel(name), formatNumber(value.length), formatNumber(REPORTING_MAX)));
    } else if (CONTROL.test(value)) {
      errors.push(t("reporting_control", reportingLabel(name)));
    } else {
      values[name] = value;
    }
  }
  return { values, errors };
}

/** The reporting info of a link (API shape) as [label, value] pairs, skipping empty ones. */
export function reportingPairs(link) {
  return REPORTING_FIELDS.filter((name) => link && link[name]).map((name) => [reportingLabel(name), link[name]]);
}

/** The URL without the query parameters `names` (unchanged when it has none of them, or is no URL). */
export function withoutParams(url, names) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  for (const name of names) {
    if (parsed.searchParams.has(name)) {
      parsed.searchParams.delete(name);
      changed = true;
    }
  }
  if (!changed) return url;
  return parsed.toString().replace(/\?(?=#|$)/, "");
}

/** The URL without its reporting parameters (what the shareable-link field shows). */
export function withoutReporting(url) {
  return withoutParams(url, REPORTING_FIELDS);
}
