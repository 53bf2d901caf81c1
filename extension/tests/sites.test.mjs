import { test } from "node:test";
import assert from "node:assert/strict";
import "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import { contentScriptFor, domainPattern, missingAccess, patternHost, requestSiteAccess, sameRegistration } from "../lib/sites.js";

const rule = (domains) => ({ campaign_id: 1, domains });

test("a rule's domain as a match pattern for http and https", () => {
  const table = [
    ["brand.com", "*://brand.com/*"],
    ["*.brand.com", "*://*.brand.com/*"],
    ["Shop.Brand.COM.", "*://shop.brand.com/*"],
    ["127.0.0.1", "*://127.0.0.1/*"],
    ["xn--bcher-kva.example", "*://xn--bcher-kva.example/*"],
  ];
  for (const [domain, pattern] of table) assert.equal(domainPattern(domain), pattern, domain);
  for (const bad of ["", "*", "*.", "brand.com/path", "brand.com:8080", "https://brand.com", "br and.com", "*.*.brand.com", null]) {
    assert.equal(domainPattern(bad), null, String(bad));
  }
  assert.equal(patternHost("*://*.brand.com/*"), "*.brand.com");
});

test("the content script runs on the campaigns' domains only, each once", () => {
  assert.deepEqual(contentScriptFor([rule(["shop.localhost"]), rule(["outlet.localhost", "shop.localhost"]), rule(["launch.localhost"])]), {
    matches: ["*://launch.localhost/*", "*://outlet.localhost/*", "*://shop.localhost/*"],
    excludeMatches: [],
  });
  assert.equal(contentScriptFor([]), null);
  assert.equal(contentScriptFor([rule([])]), null);
  assert.equal(contentScriptFor(null), null);
  assert.equal(contentScriptFor([rule(["not a domain"])]), null);
});

test("*.brand.com stands for subdomains only: Chrome's pattern would also take brand.com, which is excluded", () => {
  assert.deepEqual(contentScriptFor([rule(["*.brand.com"])]), { matches: ["*://*.brand.com/*"], excludeMatches: ["*://brand.com/*"] });
  // ... unless a rule names brand.com itself.
  assert.deepEqual(contentScriptFor([rule(["*.brand.com"]), rule(["brand.com"])]), {
    matches: ["*://*.brand.com/*", "*://brand.com/*"], excludeMatches: [],
  });
});

test("a registration is updated only when it changes", () => {
  const wanted = { id: "x", js: ["content-script.js"], matches: ["*://b/*", "*://a/*"], excludeMatches: [] };
  assert.equal(sameRegistration({ ...wanted, matches: ["*://a/*", "*://b/*"], excludeMatches: undefined }, wanted), true);
  assert.equal(sameRegistration({ ...wanted, matches: ["*://a/*"] }, wanted), false);
  assert.equal(sameRegistration({ ...wanted, excludeMatches: ["*://c/*"] }, wanted), false);
  assert.equal(sameRegistration(undefined, wanted), false);
});

test("the sites not allowed yet, in the rules' order", async () => {
  const allowed = new Set(["*://shop.localhost/*"]);
  const asked = [];
  const contains = async (pattern) => { asked.push(pattern); return allowed.has(pattern); };
  const patterns = ["*://launch.localhost/*", "*://outlet.localhost/*", "*://shop.localhost/*"];
  assert.deepEqual(await missingAccess(patterns, contains), ["*://launch.localhost/*", "*://outlet.localhost/*"]);
  assert.deepEqual(asked, patterns);
  assert.deepEqual(await missingAccess([], contains), []);
});

/** A chrome.permissions stand-in: records each request and whether it came before the click handler went on. */
function fakePermissions(outcome) {
  const calls = [];
  return {
    calls,
    request(query) {
      calls.push(query);
      if (outcome === "throws") throw new TypeError("This function must be called during a user gesture");
      if (outcome === "rejects") return Promise.reject(new Error("The prompt was dismissed"));
      return Promise.resolve(outcome === "granted");
    },
  };
}

test("allowing sites asks Chrome at once, from the click, for exactly the missing sites", async () => {
  const patterns = ["*://launch.localhost/*", "*://outlet.localhost/*"];
  const permissions = fakePermissions("granted");
  const answer = requestSiteAccess(permissions, patterns);
  // Asked synchronously, inside the click handler: nothing awaited before (Chrome's prompt needs the gesture).
  assert.deepEqual(permissions.calls, [{ origins: patterns }]);
  assert.deepEqual(await answer, { granted: true, message: "Allowed. The Create link button now appears on launch.localhost and outlet.localhost." });
  assert.notEqual(permissions.calls[0].origins, patterns, "a copy: the caller's list is not handed to Chrome");
});

test("a refusal, a dismissed prompt or a call outside a gesture are sentences", async () => {
  const denied = await requestSiteAccess(fakePermissions("denied"), ["*://outlet.localhost/*"]);
  assert.deepEqual(denied, {
    granted: false, message: "Not allowed. The Create link button will not appear on outlet.localhost; you can still make links here.",
  });
  for (const outcome of ["throws", "rejects"]) {
    const answer = await requestSiteAccess(fakePermissions(outcome), ["*://outlet.localhost/*"]);
    assert.equal(answer.granted, false, outcome);
    assert.match(answer.message, /Site access/, outcome);
  }
});
