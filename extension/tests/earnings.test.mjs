import { test } from "node:test";
import assert from "node:assert/strict";
import "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import { answeredText, COLUMNS, invitationsLabel, linkLabel, PERIODS, periodDays, totalText } from "../lib/earnings.js";
import * as i18n from "../lib/i18n.js";
import { termsText, termsWindowText } from "../lib/link-form.js";
import { useLocale } from "./fake-i18n.mjs";
import { requests } from "../lib/api.js";
import { EXTENSION_PAGE_ONLY, MSG } from "../lib/messages.js";

const NOW = new Date("2026-03-15T23:30:00Z");

test("periods are UTC days, both included, counted back from today", () => {
  assert.deepEqual(periodDays("7", NOW), { from: "2026-03-09", to: "2026-03-15" });
  assert.deepEqual(periodDays("30", NOW), { from: "2026-02-14", to: "2026-03-15" });
  assert.deepEqual(periodDays("this-month", NOW), { from: "2026-03-01", to: "2026-03-15" });
  assert.deepEqual(periodDays("last-month", NOW), { from: "2026-02-01", to: "2026-02-28" });
  assert.deepEqual(periodDays("last-month", new Date("2026-01-10T00:00:00Z")), { from: "2025-12-01", to: "2025-12-31" });
  assert.deepEqual(periodDays("nonsense", NOW), periodDays("30", NOW));
  assert.ok(PERIODS.every((p) => p.label() && p.value));
});

test("terms: what the campaign pays, exactly as the API wrote the amounts", () => {
  const base = { currency: "EUR", attribution_window_days: 14, pays: true, amount: null, percent: null };
  const terms = (value, options = {}) => termsText(value, options, i18n);
  assert.equal(terms({ ...base, payout_model: "cpa", amount: "6.00" }), "Pays €6.00 per sale · 14-day window");
  assert.equal(terms({ ...base, payout_model: "cpc", amount: "0.25" }), "Pays €0.25 per billable click · 14-day window");
  assert.equal(terms({ ...base, payout_model: "revshare", percent: "12.50" }), "Pays 12.50% of each sale (EUR) · 14-day window");
  assert.match(terms({ ...base, payout_model: "cpa", amount: "6.00", pays: false }), /Pays nothing now/);
  assert.equal(terms(undefined), "");
  assert.equal(terms({ payout_model: "other" }), "");
  assert.equal(terms({ ...base, payout_model: "cpa", amount: "6.00" }, { withWindow: false }), "Pays €6.00 per sale");
  // Digit for digit what the API sent: no float in between, however many decimals.
  assert.equal(terms({ ...base, payout_model: "cpa", amount: "12345678901234567.125" }, { withWindow: false }),
    "Pays €12,345,678,901,234,567.125 per sale");
  assert.equal(termsWindowText(base, i18n), "Sales count within 14 days of the click.");
  assert.equal(termsWindowText({ attribution_window_days: 1 }, i18n), "Sales count within 1 day of the click.");
  assert.equal(termsWindowText({}, i18n), "");
});

test("terms, totals and counts in Chinese: the zh_CN words, Intl's zh-CN numbers and money", (t) => {
  useLocale("zh_CN");
  t.after(() => useLocale("en"));
  const base = { currency: "USD", attribution_window_days: 30, pays: true, amount: "5.00", percent: null };
  assert.equal(termsText({ ...base, payout_model: "cpa" }, {}, i18n), "每笔销售支付 US$5.00 · 30 天归因期");
  assert.equal(termsWindowText(base, i18n), "点击后 30 天内的销售计入。");
  assert.equal(totalText({ currency: "USD", earned: "1234.50", pending: "5.00", approved: "7.50", reversed: "0.00" }),
    "已赚 US$1,234.50 · 待定 5.00 · 已批准 7.50");
  assert.equal(invitationsLabel(2), "邀请（2）");
});

test("money is shown as sent, with its currency; totals never mix currencies", () => {
  assert.equal(i18n.formatMoney("0.10", "USD"), "$0.10");
  assert.equal(i18n.formatMoney("0.125", "USD"), "$0.125");
  assert.equal(i18n.formatMoney("3.00", "XTS1"), "3.00 XTS1"); // not a currency code Intl takes: the number, then the code
  const usd = { currency: "USD", earned: "12.50", pending: "5.00", approved: "7.50", reversed: "0.00", click_payout: "0.00" };
  assert.equal(totalText(usd), "Earned $12.50 · 5.00 pending · 7.50 approved");
  assert.equal(totalText({ ...usd, reversed: "3.00", click_payout: "0.75" }),
    "Earned $12.50 · 5.00 pending · 7.50 approved · 0.75 from clicks · 3.00 reversed");
  const figures = { clicks: 4, billable_clicks: 2, conversions: 1, click_payout: "0.00", pending: "5.00", approved: "0.00", reversed: "5.00" };
  assert.deepEqual(COLUMNS.map((c) => c.cell(figures)), ["4", "2", "1", "0.00", "5.00", "0.00", "5.00"]);
  assert.deepEqual(COLUMNS.map((c) => c.head()), ["Clicks", "Billable", "Sales", "Click pay", "Pending", "Approved", "Reversed"]);
});

test("links are named by task and landing page; invitations by count", () => {
  assert.deepEqual(linkLabel({ link_id: 3, task_title: "Blog post", landing_url: "https://shop.test/spring?x=1" }),
    { title: "Blog post", where: "shop.test/spring", full: "https://shop.test/spring?x=1" });
  assert.equal(linkLabel({ link_id: 3, landing_url: "not a url" }).where, "not a url");
  assert.equal(invitationsLabel(0), "Invitations");
  assert.equal(invitationsLabel(2), "Invitations (2)");
  assert.match(answeredText({ campaign_name: "Summer" }, "active"), /You joined Summer/);
  assert.match(answeredText({ campaign_name: "Summer" }, "declined"), /declined the invitation to Summer/);
});

test("requests: invitations, answers and earnings", () => {
  assert.deepEqual(requests.invitations(), { method: "GET", path: "/api/v1/invitations", auth: true });
  assert.equal(requests.answerInvitation(7, true).path, "/api/v1/invitations/7/accept");
  assert.equal(requests.answerInvitation("7", false).path, "/api/v1/invitations/7/decline");
  assert.equal(requests.answerInvitation(7, "yes").path, "/api/v1/invitations/7/decline"); // only true accepts
  assert.throws(() => requests.answerInvitation(0, true), /Pick a campaign/);
  assert.deepEqual(requests.earnings({ from: "2026-03-01", to: "2026-03-15" }).query, { from: "2026-03-01", to: "2026-03-15" });
  assert.deepEqual(requests.earnings().query, { from: undefined, to: undefined });
  assert.throws(() => requests.earnings({ from: "2026-3-1" }), /valid first day/);
  assert.throws(() => requests.earnings({ to: "2026-02-31x" }), /valid last day/);
});

test("content scripts cannot read earnings or answer invitations", () => {
  for (const type of [MSG.INVITATIONS_LIST, MSG.INVITATION_ANSWER, MSG.EARNINGS_GET]) assert.ok(EXTENSION_PAGE_ONLY.has(type));
});
