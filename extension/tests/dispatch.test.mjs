import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import { createDispatcher, Failure } from "../lib/dispatch.js";
import { MSG, EXTENSION_PAGE_ONLY } from "../lib/messages.js";
import { isFresh, RULES_TTL_MS } from "../lib/cache.js";

test("known types reach their handler; unknown and malformed ones are refused", async () => {
  const dispatch = createDispatcher({ [MSG.SESSION_GET]: async (message) => ({ echo: message.x }) });
  assert.deepEqual(await dispatch({ type: MSG.SESSION_GET, x: 1 }, {}), { ok: true, data: { echo: 1 } });
  for (const message of [{ type: "nope" }, { type: "toString" }, { type: "__proto__" }, {}, null, "session:get"]) {
    const answer = await dispatch(message, {});
    assert.equal(answer.ok, false, JSON.stringify(message));
    assert.equal(answer.error.kind, "unknown_message");
  }
});

test("a Failure keeps its sentence; an unexpected error does not leak", async () => {
  const logged = [];
  const dispatch = createDispatcher(
    {
      a: async () => { throw new Failure("api_down", "Tasklink could not reach its API.", { retry: true }); },
      b: async () => { throw new Error("secret internals"); },
    },
    { onError: (e) => logged.push(e.message) },
  );
  assert.deepEqual(await dispatch({ type: "a" }), { ok: false, error: { kind: "api_down", message: "Tasklink could not reach its API.", retry: true } });
  const b = await dispatch({ type: "b" });
  assert.equal(b.error.kind, "internal");
  assert.doesNotMatch(b.error.message, /secret/);
  assert.deepEqual(logged, ["secret internals"]);
});

test("a sender may be refused a type", async () => {
  const dispatch = createDispatcher(
    { [MSG.SESSION_LOGIN]: async () => "in" },
    { mayCall: (type, sender) => !EXTENSION_PAGE_ONLY.has(type) || sender.tab === undefined },
  );
  assert.equal((await dispatch({ type: MSG.SESSION_LOGIN }, { tab: { id: 1 } })).error.kind, "forbidden");
  assert.equal((await dispatch({ type: MSG.SESSION_LOGIN }, {})).data, "in");
});

test("postbacks (and their signing secret) are for the extension's own pages only", () => {
  for (const type of [MSG.POSTBACKS_GET, MSG.POSTBACKS_SAVE, MSG.POSTBACKS_ROTATE, MSG.POSTBACK_RETRY]) assert.ok(EXTENSION_PAGE_ONLY.has(type), type);
});

test("the modules loaded into campaign pages import nothing and are web accessible", async () => {
  // The content script loads them from a per-session random address (use_dynamic_url),
  // where a relative import would resolve to the fixed, inaccessible one.
  const manifest = JSON.parse(await readFile(new URL("../manifest.json", import.meta.url), "utf8"));
  const [resources] = manifest.web_accessible_resources;
  assert.equal(resources.use_dynamic_url, true);
  const loader = await readFile(new URL("../content-script.js", import.meta.url), "utf8");
  const loaded = [...loader.matchAll(/(?:url|text)\("([^"]+)"\)/g)].map((m) => m[1]);
  assert.deepEqual(new Set(loaded), new Set(resources.resources));
  for (const path of loaded.filter((p) => p.endsWith(".js"))) {
    const source = await readFile(new URL(`../${path}`, import.meta.url), "utf8");
    assert.doesNotMatch(source, /^\s*import\b/m, `${path} must not import`);
  }
  assert.doesNotMatch(loader, /const MSG\b/, "the content script takes the message types from lib/messages.js");
});

test("content scripts may not use the extension-page types", () => {
  for (const type of [MSG.SESSION_LOGIN, MSG.SESSION_LOGOUT, MSG.TAB_PAGE, MSG.SITE_ACCESS]) assert.ok(EXTENSION_PAGE_ONLY.has(type), type);
  for (const type of [MSG.PAGE_MATCH, MSG.CAMPAIGN_TASKS, MSG.LINK_CREATE, MSG.OPTIONS_OPEN]) assert.ok(!EXTENSION_PAGE_ONLY.has(type), type);
});

test("match rules are fresh for five minutes and only for the same API", () => {
  const entry = { base: "http://a", fetchedAt: 1000, rules: [] };
  assert.equal(isFresh(entry, "http://a", 1000 + RULES_TTL_MS - 1), true);
  assert.equal(isFresh(entry, "http://a", 1000 + RULES_TTL_MS), false);
  assert.equal(isFresh(entry, "http://b", 1001), false);
  assert.equal(isFresh(entry, "http://a", 999), false);
  assert.equal(isFresh(null, "http://a", 1001), false);
  assert.equal(isFresh({ ...entry, rules: null }, "http://a", 1001), false);
});
