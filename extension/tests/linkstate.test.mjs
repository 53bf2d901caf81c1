import { test } from "node:test";
import assert from "node:assert/strict";
import "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import { linkCounts, linkState } from "../lib/linkstate.js";

test("a live link has no state text", () => {
  assert.deepEqual(linkState({ disabled: false, disabled_by: null }), { live: true, text: null, stoppedByAdvertiser: false });
});

test("a link the advertiser disabled says so, and that it earns nothing", () => {
  const state = linkState({ disabled: true, disabled_by: "advertiser" });
  assert.equal(state.live, false);
  assert.equal(state.stoppedByAdvertiser, true);
  assert.match(state.text, /^Disabled by the advertiser/);
  assert.match(state.text, /earns nothing/);
});

test("a link the partner disabled says it was them", () => {
  assert.deepEqual(linkState({ disabled: true, disabled_by: "partner" }), { live: false, text: "Disabled by you.", stoppedByAdvertiser: false });
});

test("billable clicks are shown only when some clicks were not billable", () => {
  assert.deepEqual(linkCounts({ clicks: 3, billable_clicks: 3, conversions: 1 }), ["3 clicks", "1 conversion"]);
  assert.deepEqual(linkCounts({ clicks: 5, billable_clicks: 2, conversions: 0 }), ["5 clicks", "2 billable", "0 conversions"]);
  assert.deepEqual(linkCounts({ clicks: 1, conversions: 2 }), ["1 click", "2 conversions"]);
});
