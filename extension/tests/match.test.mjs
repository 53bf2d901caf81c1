import { test } from "node:test";
import assert from "node:assert/strict";
import "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import { hostMatches, isAllowedLanding, landingUrlOf, matchPage, pageHost } from "../lib/match.js";

const RULES = [
  { campaign_id: 1, campaign_name: "Spring", program_id: 9, mode: "manual", domains: ["shop.localhost"], allowed_domains: ["shop.localhost"], click_id_param: "clickid" },
  { campaign_id: 2, campaign_name: "Outlet", program_id: 9, mode: "choose", domains: ["*.brand.test", "outlet.localhost"], allowed_domains: [], click_id_param: "ref" },
];

test("host patterns: exact host, and *. for subdomains only", () => {
  const table = [
    ["brand.test", "brand.test", true],
    ["BRAND.test", "brand.TEST", true],
    ["brand.test.", "brand.test", true],
    ["www.brand.test", "brand.test", false],
    ["www.brand.test", "*.brand.test", true],
    ["a.b.brand.test", "*.brand.test", true],
    ["brand.test", "*.brand.test", false],
    ["evilbrand.test", "*.brand.test", false],
    ["evilbrand.test", "brand.test", false],
    ["brand.test.evil.com", "brand.test", false],
    ["brand.test", "", false],
    ["brand.test", "*.", false],
  ];
  for (const [host, pattern, expected] of table) {
    assert.equal(hostMatches(host, pattern), expected, `${host} vs ${pattern}`);
  }
});

test("only http and https pages have a host", () => {
  assert.equal(pageHost("http://shop.localhost:5000/shop/?a=1"), "shop.localhost");
  assert.equal(pageHost("https://Brand.Test/x"), "brand.test");
  for (const url of ["chrome://extensions", "file:///etc/passwd", "about:blank", "javascript:alert(1)", "not a url", ""]) {
    assert.equal(pageHost(url), null, url);
  }
});

test("a campaign page matches its rule; ports, paths and queries do not matter", () => {
  const found = matchPage("http://shop.localhost:5123/shop/spring?clickid=x#top", RULES);
  assert.deepEqual(found, [
    {
      campaignId: 1, campaignName: "Spring", programId: 9, mode: "manual", allowedDomains: ["shop.localhost"], pageAllowed: true,
      clickIdParam: "clickid", landingUrl: "http://shop.localhost:5123/shop/spring#top",
    },
  ]);
  assert.equal(matchPage("https://www.brand.test/", RULES)[0].campaignId, 2);
});

test("a page on no campaign's domain matches nothing", () => {
  for (const url of [
    "https://example.com/",
    "http://127.0.0.1:5000/shop/",
    "http://shop.localhost.evil.com/",
    "http://evil.com/?next=http://shop.localhost/",
    "http://evil.com/shop.localhost",
    "http://shop.localhost@evil.com/",
    "chrome://newtab/",
  ]) {
    assert.deepEqual(matchPage(url, RULES), [], url);
  }
  assert.deepEqual(matchPage("http://shop.localhost/", null), []);
});

test("a page matched by a landing page's host but off the allowed domains is not a landing URL", () => {
  const [match] = matchPage("http://outlet.localhost/shop/outlet", RULES);
  assert.equal(match.pageAllowed, false);
  assert.equal(isAllowedLanding("http://shop.localhost/x", ["shop.localhost"]), true);
  assert.equal(isAllowedLanding("ftp://shop.localhost/x", ["shop.localhost"]), false);
  assert.equal(isAllowedLanding("http://shop.localhost/x", []), false);
});

test("several campaigns on one host are all offered, in the rules' order", () => {
  const rules = [...RULES, { ...RULES[0], campaign_id: 3, campaign_name: "VIP" }];
  assert.deepEqual(matchPage("http://shop.localhost/", rules).map((m) => m.campaignId), [1, 3]);
});

test("this page as a landing URL leaves out the click id and reporting info of the visit", () => {
  const table = [
    ["http://shop.localhost:5000/shop/spring", "http://shop.localhost:5000/shop/spring"],
    ["http://shop.localhost:5000/shop/spring?clickid=abc", "http://shop.localhost:5000/shop/spring"],
    ["http://shop.localhost:5000/p?colour=teal&clickid=abc&subId1=x&sharedid=s#reviews", "http://shop.localhost:5000/p?colour=teal#reviews"],
    ["http://shop.localhost:5000/p?clickid=abc#top", "http://shop.localhost:5000/p#top"],
    ["https://brand.test/?q=a+b&subId9=keep", "https://brand.test/?q=a+b&subId9=keep"],
    ["not a url", "not a url"],
  ];
  for (const [page, expected] of table) assert.equal(landingUrlOf(page), expected, page);
});

test("each campaign's own click-id parameter goes, in every spelling that decodes to it", () => {
  const table = [
    ["http://brand.test/p?ref=abc&colour=teal", "http://brand.test/p?colour=teal"],
    ["http://brand.test/p?REF=abc&colour=teal", "http://brand.test/p?colour=teal"],
    ["http://brand.test/p?R%65f=abc&colour=teal", "http://brand.test/p?colour=teal"],
    ["http://brand.test/p?%52%45%46=abc", "http://brand.test/p"],
    ["http://brand.test/p?ref&x=1", "http://brand.test/p?x=1"],
    ["http://brand.test/p?ref=1&ref=2#f", "http://brand.test/p#f"],
    // Another campaign's name, a longer name, or the name as a value stay: they are the page's.
    ["http://brand.test/p?clickid=abc", "http://brand.test/p?clickid=abc"],
    ["http://brand.test/p?refx=1&x=ref", "http://brand.test/p?refx=1&x=ref"],
    // Nothing removed: the URL is returned exactly as it was, spelling and all.
    ["http://brand.test/p?q=a+b&e=%20", "http://brand.test/p?q=a+b&e=%20"],
    // Something removed: the rest keeps its own spelling.
    ["http://brand.test/p?q=a+b&ref=1&e=%20", "http://brand.test/p?q=a+b&e=%20"],
  ];
  for (const [page, expected] of table) assert.equal(landingUrlOf(page, "ref"), expected, page);
  // The default name, in any case and spelling.
  for (const page of ["http://brand.test/?ClickID=1", "http://brand.test/?click%69d=1", "http://brand.test/?%43lickId=1"]) {
    assert.equal(landingUrlOf(page), "http://brand.test/", page);
  }
});

test("a page matched by two campaigns gets each one's landing URL", () => {
  const rules = [RULES[0], { ...RULES[1], campaign_id: 3, domains: ["shop.localhost"] }];
  const found = matchPage("http://shop.localhost/p?ref=a&clickid=b&k=1", rules);
  assert.deepEqual(found.map((m) => [m.campaignId, m.clickIdParam, m.landingUrl]), [
    [1, "clickid", "http://shop.localhost/p?ref=a&k=1"],
    [3, "ref", "http://shop.localhost/p?clickid=b&k=1"],
  ]);
  // An older rule without the field: the default name.
  const [old] = matchPage("http://shop.localhost/p?clickid=b", [{ ...RULES[0], click_id_param: undefined }]);
  assert.equal(old.landingUrl, "http://shop.localhost/p");
});
