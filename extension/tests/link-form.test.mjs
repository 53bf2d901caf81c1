import { test } from "node:test";
import assert from "node:assert/strict";
import "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import {
  copiedMessage, copyText, createsAtOnce, domainsText, isBlocking, landingPlan, landingRequest, latestOnly,
  makeAsk, messageSource, optionsAction, orderTasks, pickCampaign, pickTask, pictureBlob, qrFileName, qrNote, samePage,
} from "../lib/link-form.js";
import * as i18n from "../lib/i18n.js";
import { MSG } from "../lib/messages.js";

const PAGES = [
  { id: 1, name: "Home", url: "https://brand.test/", is_default: true },
  { id: 2, name: "Sale", url: "https://brand.test/sale" },
  { id: 3, name: "Jacket", url: "https://brand.test/p/jacket" },
];
const options = (mode, extra = {}) => ({
  mode, landing_pages: PAGES, default_landing_page_id: 1, allowed_domains: ["brand.test", "*.brand.test"], link_available: true, ...extra,
});
const task = (id, extra = {}) => ({ id, title: `Task ${id}`, assigned_to_me: false, link_options: options("manual"), ...extra });

test("campaigns: the first one that allows links is preselected", () => {
  assert.equal(pickCampaign([{ id: 1, link_available: false }, { id: 2, link_available: true }, { id: 3, link_available: true }]).id, 2);
  assert.equal(pickCampaign([{ id: 1, link_available: false }]), null);
  assert.equal(pickCampaign(undefined), null);
});

test("tasks: the partner's own first, then the API's order; the page's own task is preselected", () => {
  const tasks = [task(1), task(2, { assigned_to_me: true }), task(3), task(4, { assigned_to_me: true })];
  assert.deepEqual(orderTasks(tasks).map((t) => t.id), [2, 4, 1, 3]);
  assert.deepEqual(orderTasks(null), []);
  const ordered = orderTasks(tasks);
  assert.equal(pickTask(ordered, null).id, 2);
  // A task whose own landing page is the page the partner is on wins.
  const own = task(5, { link_options: options("choose", { default_landing_page_id: 3 }) });
  assert.equal(pickTask(orderTasks([...tasks, own]), "https://brand.test/p/jacket/?colour=teal#top").id, 5);
  assert.equal(pickTask(orderTasks([...tasks, own]), "https://brand.test/elsewhere").id, 2);
  assert.equal(pickTask([], "https://brand.test/"), null);
});

test("same page: origin and path, whatever the query, fragment or trailing slash", () => {
  assert.equal(samePage("https://brand.test/sale/", "https://brand.test/sale?x=1#y"), true);
  assert.equal(samePage("https://brand.test/sale", "http://brand.test/sale"), false);
  assert.equal(samePage("https://brand.test/sale", "https://brand.test/sales"), false);
  assert.equal(samePage("not a url", "https://brand.test/"), false);
});

test("manual mode: this page in the panel, a URL field (with 'Use this page') in the popup", () => {
  const here = { landingUrl: "https://shop.brand.test/p?colour=teal", pageAllowed: true };
  assert.deepEqual(landingPlan(options("manual"), here, true), { kind: "this-page", url: here.landingUrl });
  assert.deepEqual(landingPlan(options("manual"), here, false), {
    kind: "url", domains: ["brand.test", "*.brand.test"], suggestion: here.landingUrl, offDomains: false,
  });
  // A page of the campaign that is not on its allowed domains: a field, and the panel says why.
  const off = { landingUrl: "https://pages.other.test/x", pageAllowed: false };
  assert.deepEqual(landingPlan(options("manual"), off, true), {
    kind: "url", domains: ["brand.test", "*.brand.test"], suggestion: null, offDomains: true,
  });
  // The popup over a tab of no campaign: an empty field, no suggestion.
  assert.deepEqual(landingPlan(options("manual"), null, false).suggestion, null);
});

test("choose mode: the page the partner is on when it is one of the advertiser's, else the default", () => {
  assert.equal(landingPlan(options("choose"), { landingUrl: "https://brand.test/sale?utm=x", pageAllowed: true }, true).selectedId, 2);
  assert.equal(landingPlan(options("choose"), { landingUrl: "https://brand.test/other", pageAllowed: true }, true).selectedId, 1);
  assert.equal(landingPlan(options("choose"), null, false).selectedId, 1);
  assert.equal(landingPlan(options("choose", { default_landing_page_id: null }), null, false).selectedId, 1);
  assert.equal(landingPlan(options("choose", { landing_pages: [] }), null, false).selectedId, null);
});

test("default mode: the default page, made at once only when the panel opens", () => {
  const plan = landingPlan(options("default"), null, true);
  assert.deepEqual(plan, { kind: "default", page: PAGES[0] });
  assert.equal(createsAtOnce(plan, task(1), true), true);
  assert.equal(createsAtOnce(plan, task(1), false), false, "the popup waits for Create");
  assert.equal(createsAtOnce(plan, task(1, { link_options: options("default", { link_available: false }) }), true), false);
  assert.equal(createsAtOnce(landingPlan(options("manual"), null, true), task(1), true), false);
});

test("the landing part of the request; an empty URL field is a sentence, not the default page", () => {
  const field = landingPlan(options("manual"), null, false);
  assert.deepEqual(landingRequest(field, { typedUrl: "  https://brand.test/x  " }, i18n), { ok: true, fields: { landingUrl: "https://brand.test/x" } });
  for (const typedUrl of ["", "   ", undefined]) {
    assert.deepEqual(landingRequest(field, { typedUrl }, i18n), {
      ok: false, error: { kind: "invalid", field: "landing", message: "Enter a landing URL: any page on brand.test or *.brand.test." },
    });
  }
  const thisPage = landingPlan(options("manual"), { landingUrl: "https://brand.test/a", pageAllowed: true }, true);
  assert.deepEqual(landingRequest(thisPage, { pageUrl: "https://brand.test/b" }, i18n), { ok: true, fields: { landingUrl: "https://brand.test/b" } });
  assert.deepEqual(landingRequest(thisPage, {}, i18n), { ok: true, fields: { landingUrl: "https://brand.test/a" } });
  const choose = landingPlan(options("choose"), null, false);
  assert.deepEqual(landingRequest(choose, { chosenId: "3" }, i18n), { ok: true, fields: { landingPageId: 3 } });
  assert.equal(landingRequest(choose, { chosenId: "" }, i18n).ok, false);
  assert.deepEqual(landingRequest(landingPlan(options("default"), null, false), {}, i18n), { ok: true, fields: {} });
});

test("domains in words, the language's way of saying 'or'", () => {
  assert.equal(domainsText(["a.test"], i18n), "a.test");
  assert.equal(domainsText(["a.test", "b.test"], i18n), "a.test or b.test");
  assert.equal(domainsText(["a.test", "b.test", "c.test"], i18n), "a.test, b.test, or c.test");
  assert.equal(domainsText([], i18n), "the campaign's domains");
});

test("errors: a way to the options page when signing in or the address is the fix", () => {
  assert.equal(optionsAction({ kind: "signed_out" }, i18n), "Open options to sign in");
  assert.equal(optionsAction({ kind: "api_down" }, i18n), "Open Tasklink options");
  for (const kind of ["link_unavailable", "invalid", "rate_limited", "internal"]) assert.equal(optionsAction({ kind }, i18n), null);
  assert.equal(optionsAction(null, i18n), null);
  assert.equal(isBlocking({ kind: "signed_out" }) && isBlocking({ kind: "api_down" }), true);
  assert.equal(isBlocking({ kind: "landing_not_allowed" }), false);
});

test("stale answers: only the latest question's answer counts", () => {
  const guard = latestOnly();
  const first = guard.next();
  const second = guard.next();
  assert.equal(guard.isLatest(first), false);
  assert.equal(guard.isLatest(second), true);
});

test("copying: the clipboard, else the fallback, and what Copy says", async () => {
  const written = [];
  assert.equal(await copyText("x", { clipboard: { writeText: async (t) => written.push(t) } }), true);
  assert.deepEqual(written, ["x"]);
  const refused = { writeText: async () => { throw new Error("NotAllowedError"); } };
  assert.equal(await copyText("y", { clipboard: refused, fallbackCopy: (t) => t === "y" }), true);
  assert.equal(await copyText("z", { clipboard: refused, fallbackCopy: () => { throw new Error("no"); } }), false);
  assert.equal(await copyText("z", {}), false);
  assert.equal(copiedMessage({ url: "u", display_url: "u" }, true, i18n), "Copied to clipboard.");
  assert.equal(copiedMessage({ url: "u?subId1=a", display_url: "u" }, true, i18n), "Copied the full link, with your reporting info.");
  assert.equal(copiedMessage({ url: "u", display_url: "u" }, false, i18n), "Could not copy: select the link and press Ctrl+C.");
});

test("asking the worker: every outcome is an answer with a sentence", async () => {
  const sent = [];
  const ask = makeAsk(async (message) => { sent.push(message); return { ok: true, data: 1 }; }, "lost");
  assert.deepEqual(await ask("a:b", { x: 1 }), { ok: true, data: 1 });
  assert.deepEqual(sent, [{ type: "a:b", x: 1 }]);
  const dead = makeAsk(async () => { throw new Error("Extension context invalidated."); }, "Reload the page.");
  assert.deepEqual(await dead("a:b"), { ok: false, error: { kind: "internal", message: "Reload the page." } });
  const silent = makeAsk(async () => undefined, "Reload the page.");
  assert.equal((await silent("a:b")).error.message, "Reload the page.");
});

test("the form's questions use the message types of lib/messages.js", async () => {
  const sent = [];
  const source = messageSource(async (type, payload = {}) => { sent.push({ type, ...payload }); return { ok: true }; }, MSG);
  await source.programs();
  await source.campaigns(4);
  await source.tasks(7);
  await source.createLink({ taskId: 7, kind: "short" });
  await source.openOptions();
  assert.deepEqual(sent, [
    { type: MSG.PROGRAMS_LIST },
    { type: MSG.CAMPAIGNS_LIST, programId: 4 },
    { type: MSG.CAMPAIGN_TASKS, campaignId: 7 },
    { type: MSG.LINK_CREATE, taskId: 7, kind: "short" },
    { type: MSG.OPTIONS_OPEN },
  ]);
});

test("the QR box: what a scan opens, the file names, the picture's bytes", async () => {
  const withInfo = { id: 42, url: "http://x/s/abc?subId1=a", display_url: "http://x/s/abc" };
  assert.match(qrNote(withInfo, i18n), /reporting info/);
  assert.equal(qrNote({ ...withInfo, url: withInfo.display_url }, i18n), "Scanning opens this link.");
  assert.equal(qrFileName(withInfo, "png"), "tasklink-link-42.png");
  assert.equal(qrFileName(withInfo, "svg"), "tasklink-link-42.svg");
  assert.equal(qrFileName(withInfo, "exe"), "tasklink-link-42.png");
  const blob = pictureBlob({ mediaType: "image/png", base64: "iVBORwD/" });
  assert.equal(blob.type, "image/png");
  assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [137, 80, 78, 71, 0, 255]);
});

test("the QR code is asked of the service worker by link id and format", async () => {
  const asked = [];
  const source = messageSource(async (type, payload) => { asked.push([type, payload]); return { ok: true, data: {} }; }, MSG);
  await source.qr(7, "svg");
  assert.deepEqual(asked, [[MSG.LINK_QR, { linkId: 7, format: "svg" }]]);
});
