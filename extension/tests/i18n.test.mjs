import { test } from "node:test";
import assert from "node:assert/strict";
import { useLocale } from "./fake-i18n.mjs";
import {
  formatDateTime, formatDayRange, formatDecimal, formatIn, formatList, formatListParts, formatMoney, formatNumber, formatPercent,
  languageTag, localize, pluralKey, t, tParts,
} from "../lib/i18n.js";

test("t: the message with its values; a key the catalogue lacks is an error, never an empty string", () => {
  assert.equal(t("popup_tab_invitations_count", 3), "Invitations (3)");
  assert.equal(t("reporting_too_long", "Sub ID 3", 300, 255), "Sub ID 3 is 300 characters long; the most is 255.");
  assert.throws(() => t("no_such_key"), /no message "no_such_key"/);
});

test("the language of the words, as a tag for Accept-Language and Intl (not chrome.i18n.getUILanguage)", (ctx) => {
  ctx.after(() => useLocale("en"));
  assert.equal(globalThis.chrome.i18n.getUILanguage(), "en-US");
  assert.equal(languageTag(), "en");
  useLocale("zh_CN");
  assert.equal(globalThis.chrome.i18n.getUILanguage(), "en-US"); // as Chrome may say with --lang=zh-CN
  assert.equal(languageTag(), "zh-CN");
  assert.equal(t("link_form_create"), "创建链接");
});

test("tParts: a sentence around an element, in the order the language puts them", (ctx) => {
  ctx.after(() => useLocale("en"));
  const name = { node: "name" };
  const email = { node: "email" };
  assert.deepEqual(tParts("options_signed_in_as", name, email), ["Signed in as ", name, " ", email]);
  const hosts = { node: "hosts" };
  assert.deepEqual(tParts("site_access_text", hosts), ["Create link appears only on campaign sites you allow. Not allowed yet: ", hosts, "."]);
  useLocale("zh_CN");
  assert.deepEqual(tParts("options_signed_in_as", name, email), ["已登录：", name, email]);
  assert.deepEqual(tParts("link_form_qr_label", "http://x/s/a"), ["http://x/s/a", " 的二维码"]);
});

test("plural forms by the language's rules: English one/other, Chinese always other", (ctx) => {
  ctx.after(() => useLocale("en"));
  assert.deepEqual([0, 1, 2].map((n) => t(pluralKey("link_clicks", n), n)), ["0 clicks", "1 click", "2 clicks"]);
  useLocale("zh_CN");
  assert.deepEqual([0, 1, 2].map((n) => pluralKey("link_clicks", n)), ["link_clicks_other", "link_clicks_other", "link_clicks_other"]);
});

test("numbers, money, dates, lists and waits with Intl in the messages' language", (ctx) => {
  ctx.after(() => useLocale("en"));
  assert.equal(formatNumber(12345), "12,345");
  assert.equal(formatDecimal("1234.50"), "1,234.50");
  assert.equal(formatMoney("5.00", "USD"), "$5.00");
  assert.equal(formatPercent("12.50"), "12.50%");
  const plain = (text) => text.replace(/\s/g, " "); // Intl puts thin spaces around the dash
  assert.equal(plain(formatDayRange("2026-11-02", "2026-12-01")), "Nov 2 – Dec 1, 2026");
  assert.equal(formatList(["a", "b", "c"]), "a, b, and c");
  assert.equal(formatList(["a", "b"], "disjunction"), "a or b");
  assert.equal(formatIn(5), "in 5 seconds");
  assert.equal(formatIn(0), "in 1 minute");
  assert.equal(formatIn(600), "in 10 minutes");
  assert.equal(formatDateTime("not a date"), "not a date");
  useLocale("zh_CN");
  assert.equal(formatMoney("5.00", "USD"), "US$5.00");
  assert.equal(formatMoney("6.00", "EUR"), "€6.00");
  assert.equal(plain(formatDayRange("2026-11-02", "2026-12-01")), "2026/11/2 – 2026/12/1");
  assert.equal(formatList(["a", "b", "c"]), "a、b和c");
  assert.equal(formatList(["a", "b"], "disjunction"), "a或b");
  assert.deepEqual(formatListParts(["a.test", "b.test"]).map((p) => [p.type, p.value]), [["element", "a.test"], ["literal", "和"], ["element", "b.test"]]);
  assert.equal(formatIn(5), "5秒钟后");
  assert.match(formatDateTime("2026-12-01T10:00:00Z"), /^2026年12月1日/);
});

test("localize fills text and the attributes people read or hear, and sets the page's language", (ctx) => {
  ctx.after(() => useLocale("en"));
  useLocale("zh_CN");
  const node = (attributes) => ({
    attributes: { ...attributes },
    dataset: { i18n: attributes["data-i18n"] },
    textContent: "",
    getAttribute(name) { return this.attributes[name] ?? null; },
    setAttribute(name, value) { this.attributes[name] = value; },
  });
  const button = node({ "data-i18n": "link_form_copy" });
  const field = node({ "data-i18n-placeholder": "postbacks_campaign_template_placeholder", "data-i18n-aria-label": "postbacks_campaign_template_label" });
  const nav = node({ "data-i18n-aria-label": "popup_tabs_label", "data-i18n-title": "link_form_qr_title" });
  const all = [button, field, nav];
  const doc = {
    documentElement: { lang: "en" },
    querySelectorAll: (selector) => all.filter((n) => n.getAttribute(/\[(.+)\]/.exec(selector)[1]) !== null),
  };
  localize(doc);
  assert.equal(doc.documentElement.lang, "zh-CN");
  assert.equal(button.textContent, "复制");
  assert.equal(field.attributes.placeholder, "留空则使用上面的 URL");
  assert.equal(field.attributes["aria-label"], "此活动的回传 URL");
  assert.equal(nav.attributes["aria-label"], "视图");
  assert.equal(nav.attributes.title, "显示此链接的二维码");
});
