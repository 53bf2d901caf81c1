import { test } from "node:test";
import assert from "node:assert/strict";
import "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import { cleanReporting, reportingPairs, withoutReporting, REPORTING_MAX } from "../lib/reporting.js";

test("empty fields are left out and values are trimmed", () => {
  assert.deepEqual(cleanReporting({ subId1: "  ig-story ", subId2: "", subId3: "   ", sharedid: "spring-24" }), {
    values: { subId1: "ig-story", sharedid: "spring-24" },
    errors: [],
  });
  assert.deepEqual(cleanReporting(undefined), { values: {}, errors: [] });
  assert.deepEqual(cleanReporting({ other: "x" }), { values: {}, errors: [] });
});

test("255 characters pass; 256 and control characters give a sentence naming the field", () => {
  assert.equal(cleanReporting({ subId1: "a".repeat(REPORTING_MAX) }).errors.length, 0);
  const { values, errors } = cleanReporting({ subId2: "a".repeat(256), sharedid: "tab\there" });
  assert.deepEqual(values, {});
  assert.deepEqual(errors, [
    "Sub ID 2 is 256 characters long; the most is 255.",
    "Shared ID contains a control character; use plain text.",
  ]);
});

test("unicode and URL-special characters are kept as typed (the API encodes them)", () => {
  assert.deepEqual(cleanReporting({ subId1: "a&b=c ü#" }).values, { subId1: "a&b=c ü#" });
});

test("a link's reporting info as labelled pairs", () => {
  assert.deepEqual(reportingPairs({ subId1: "a", subId2: null, subId3: "c", sharedid: "" }), [
    ["Sub ID 1", "a"],
    ["Sub ID 3", "c"],
  ]);
});

test("withoutReporting removes only the reporting parameters", () => {
  assert.equal(withoutReporting("http://x.test/s/Abc1234?subId1=a&sharedid=b"), "http://x.test/s/Abc1234");
  assert.equal(withoutReporting("http://x.test/s/Abc1234?keep=1&subId3=z"), "http://x.test/s/Abc1234?keep=1");
  assert.equal(withoutReporting("http://x.test/s/Abc1234"), "http://x.test/s/Abc1234");
  assert.equal(withoutReporting("not a url"), "not a url");
});
