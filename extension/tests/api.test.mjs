import { test } from "node:test";
import assert from "node:assert/strict";
import { useLocale } from "./fake-i18n.mjs"; // chrome.i18n with the English catalogue, as in a browser in English
import {
  DEFAULT_API_BASE, QR_FORMATS, apiUrl, buildFetch, callApi, describeFailure, linkBody, normalizeApiBase, originPattern,
  requests, toBase64,
} from "../lib/api.js";
import { Failure } from "../lib/dispatch.js";

const BASE = "http://127.0.0.1:5000";

test("the API base is normalised or refused with a sentence", () => {
  assert.deepEqual(normalizeApiBase(" http://127.0.0.1:5000/ "), { ok: true, base: BASE });
  assert.deepEqual(normalizeApiBase("https://links.example.com/tasklink//"), { ok: true, base: "https://links.example.com/tasklink" });
  assert.deepEqual(normalizeApiBase("http://localhost:8000/?x=1#y"), { ok: true, base: "http://localhost:8000" });
  for (const bad of ["", "localhost:5000", "ftp://x.test", "javascript:alert(1)", "http://u:p@x.test"]) {
    const result = normalizeApiBase(bad);
    assert.equal(result.ok, false, bad);
    assert.match(result.message, /\.$/);
  }
  assert.equal(DEFAULT_API_BASE, BASE);
  assert.equal(originPattern("http://127.0.0.1:5123"), "http://127.0.0.1/*");
});

test("request descriptions follow the API paths", () => {
  assert.equal(apiUrl(BASE, "/api/v1/campaigns", { program_id: 3, x: null }), `${BASE}/api/v1/campaigns?program_id=3`);
  assert.deepEqual(requests.login(" p@demo.test ", "pw"), { method: "POST", path: "/api/v1/auth/login", body: { email: "p@demo.test", password: "pw" }, auth: false });
  assert.equal(requests.tasks(7).path, "/api/v1/campaigns/7/tasks");
  assert.deepEqual(requests.campaigns().query, { program_id: undefined });
  assert.deepEqual(requests.links({ limit: 5 }).query, { task_id: undefined, limit: 5 });
  assert.throws(() => requests.tasks("7/../../me"), Failure);
  assert.throws(() => requests.tasks(0), Failure);
});

test("postback requests: global or per campaign, an empty template removes it", () => {
  assert.deepEqual(requests.setPostbackTemplate(" https://t.example/?c={click_id} "), {
    method: "PUT", path: "/api/v1/postbacks", body: { url_template: "https://t.example/?c={click_id}" }, auth: true,
  });
  assert.equal(requests.setPostbackTemplate("x", "12").path, "/api/v1/campaigns/12/postback");
  assert.deepEqual(requests.setPostbackTemplate("  ", 12).body, { url_template: null });
  assert.throws(() => requests.setPostbackTemplate("x", "12/../../me"), Failure);
  assert.equal(requests.rotatePostbackSecret().method, "POST");
  assert.deepEqual(requests.postbackDeliveries().query, { limit: 5 });
});

test("a link body: short by default, page id or URL never both, reporting cleaned", () => {
  assert.deepEqual(linkBody({ taskId: "4" }), { task_id: 4, kind: "short" });
  assert.deepEqual(linkBody({ taskId: 4, kind: "regular", landingUrl: " http://shop.localhost/x " }), {
    task_id: 4, kind: "regular", landing_url: "http://shop.localhost/x",
  });
  assert.deepEqual(linkBody({ taskId: 4, kind: "bogus", landingUrl: "http://a.test/", landingPageId: "12" }), {
    task_id: 4, kind: "short", landing_page_id: 12,
  });
  assert.deepEqual(linkBody({ taskId: 4, reporting: { subId1: " a ", sharedid: "s", subId2: "" } }), {
    task_id: 4, kind: "short", subId1: "a", sharedid: "s",
  });
  assert.throws(() => linkBody({ taskId: 4, reporting: { subId3: "x".repeat(300) } }), /Sub ID 3 is 300 characters long/);
  assert.throws(() => linkBody({}), /Pick a task first/);
});

test("fetch options: bearer token only on authenticated calls, JSON body, no cookies", () => {
  const { url, init } = buildFetch(BASE, "tok", requests.createLink({ taskId: 1 }));
  assert.equal(url, `${BASE}/api/v1/links`);
  assert.equal(init.method, "POST");
  assert.equal(init.headers.Authorization, "Bearer tok");
  assert.equal(init.headers["Content-Type"], "application/json");
  assert.equal(init.credentials, "omit");
  assert.deepEqual(JSON.parse(init.body), { task_id: 1, kind: "short" });
  assert.equal(buildFetch(BASE, "tok", requests.login("a", "b")).init.headers.Authorization, undefined);
  assert.throws(() => buildFetch(BASE, null, requests.me()), (e) => e.kind === "signed_out");
});

test("every failure becomes a sentence of the right kind", () => {
  const err = (code, message) => ({ error: { code, message } });
  const cases = [
    [{ status: 401, body: err("unauthorized", "x"), action: "login" }, "wrong_credentials", /do not match/],
    [{ status: 401, body: err("token_expired", "x") }, "signed_out", /expired.*options to sign in/],
    [{ status: 401, body: err("token_revoked", "x") }, "signed_out", /signed out.*options/],
    [{ status: 401, body: null }, "signed_out", /not signed in/],
    [{ status: 429, body: err("rate_limited", "x"), retryAfter: "42" }, "rate_limited", /Try again in 42 seconds\./],
    [{ status: 429, body: null, retryAfter: "600", action: "login" }, "rate_limited", /sign-in attempts.*in 10 minutes/],
    [{ status: 422, body: err("pay_for_performance_off", "The advertiser has not enabled pay for performance.") }, "link_unavailable", /^The advertiser has not enabled pay for performance\.$/],
    [{ status: 422, body: err("landing_page_not_allowed", "evil.test is not an allowed domain.") }, "landing_not_allowed", /evil\.test/],
    [{ status: 422, body: err("click_id_param_in_url", "The landing URL carries the click-id parameter “clickid”.") }, "landing_not_allowed", /“clickid”/],
    [{ status: 404, body: err("not_found", "No such task.") }, "not_found", /No such task/],
    [{ status: 400, body: err("invalid_input", "subId1 is too long.") }, "invalid", /subId1/],
    [{ status: 500, body: null }, "server", /error 500/],
    [{ status: 503, body: "<html>" }, "server", /error 503/],
  ];
  for (const [input, kind, pattern] of cases) {
    const failure = describeFailure(input);
    assert.equal(failure.kind, kind, JSON.stringify(input));
    assert.match(failure.message, pattern);
  }
});

function fakeResponse(status, body, headers = {}) {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name) => headers[name] ?? null },
    json: async () => {
      if (typeof body === "string") throw new SyntaxError("not json");
      return body;
    },
  };
}

test("callApi: data on success, sentences for down, non-API and error answers", async () => {
  const seen = [];
  const ok = async (url, init) => { seen.push([url, init.method]); return fakeResponse(200, { programs: [] }); };
  assert.deepEqual(await callApi(ok, BASE, "t", requests.programs()), { programs: [] });
  assert.deepEqual(seen, [[`${BASE}/api/v1/programs`, "GET"]]);

  const down = async () => { throw new TypeError("Failed to fetch"); };
  await assert.rejects(callApi(down, BASE, "t", requests.programs()), (e) => e.kind === "api_down" && e.message.includes(BASE));

  const html = async () => fakeResponse(200, "<html>");
  await assert.rejects(callApi(html, BASE, "t", requests.programs()), (e) => e.kind === "api_down" && /did not answer like/.test(e.message));

  const limited = async () => fakeResponse(429, { error: { code: "rate_limited", message: "x" } }, { "Retry-After": "5" });
  await assert.rejects(callApi(limited, BASE, "t", requests.createLink({ taskId: 1 })), (e) => e.kind === "rate_limited" && /5 seconds/.test(e.message));

  const noContent = async () => fakeResponse(204, null);
  assert.equal(await callApi(noContent, BASE, "t", requests.logout()), null);
});

test("callApi gives up after the timeout and says the API is unreachable", async () => {
  const hang = (url, init) => new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted"))));
  await assert.rejects(callApi(hang, BASE, "t", requests.me(), { timeoutMs: 10 }), (e) => e.kind === "api_down");
});

test("a link's QR code: its own path, a picture accepted, the browser's cache allowed", async () => {
  const spec = requests.linkQr(42, "png");
  assert.deepEqual(spec, { method: "GET", path: "/api/v1/links/42/qr.png", auth: true, accept: "image/png", cache: "default" });
  assert.equal(requests.linkQr("7", "svg").path, "/api/v1/links/7/qr.svg");
  assert.throws(() => requests.linkQr(42, "gif"), Failure);
  assert.throws(() => requests.linkQr("1/../../me", "png"), Failure);
  const { init } = buildFetch(BASE, "tok", spec);
  assert.equal(init.headers.Accept, "image/png, application/json");
  assert.equal(init.headers.Authorization, "Bearer tok");
  assert.equal(init.cache, "default");
  assert.equal(buildFetch(BASE, "tok", requests.me()).init.cache, "no-store");
  assert.deepEqual(Object.keys(QR_FORMATS), ["svg", "png"]);
});

test("callApi: a picture comes back as base64 of its bytes, an error as the usual sentence", async () => {
  const bytes = new Uint8Array([137, 80, 78, 71, 0, 255]);
  const picture = (type) => async () => ({
    status: 200, ok: true, headers: { get: (name) => (name === "Content-Type" ? type : null) },
    arrayBuffer: async () => bytes.buffer,
  });
  assert.deepEqual(await callApi(picture("image/png"), BASE, "t", requests.linkQr(1, "png")), { mediaType: "image/png", base64: "iVBORwD/" });
  await assert.rejects(callApi(picture("text/html; charset=utf-8"), BASE, "t", requests.linkQr(1, "png")), (e) => e.kind === "api_down");
  const missing = async () => fakeResponse(404, { error: { code: "not_found", message: "No such link." } }, { "Content-Type": "application/json" });
  await assert.rejects(callApi(missing, BASE, "t", requests.linkQr(1, "svg")), (e) => e.kind === "not_found" && e.message === "No such link.");
  const large = new Uint8Array(100000).map((_, i) => i % 256);
  const back = Uint8Array.from(atob(toBase64(large)), (c) => c.charCodeAt(0));
  assert.deepEqual(back, large);
});

test("every API request says the partner's language: Accept-Language is the messages' language tag", async (t) => {
  t.after(() => useLocale("en"));
  const every = [
    requests.login("p@demo.test", "pw"), requests.logout(), requests.me(), requests.matchRules(), requests.programs(),
    requests.campaigns(3), requests.tasks(4), requests.links({ limit: 5 }), requests.createLink({ taskId: 1 }),
    requests.invitations(), requests.answerInvitation(7, true), requests.earnings({}), requests.postbacks(),
    requests.setPostbackTemplate("https://t.example/?c={click_id}", 2), requests.rotatePostbackSecret(),
    requests.postbackDeliveries(), requests.linkQr(42, "png"), requests.linkQr(42, "svg"),
  ];
  for (const [locale, tag] of [["en", "en"], ["zh_CN", "zh-CN"]]) {
    useLocale(locale);
    const sent = [];
    const fetchFn = async (url, init) => {
      sent.push(init.headers["Accept-Language"]);
      return fakeResponse(200, {}, { "Content-Type": init.headers.Accept.split(",")[0] });
    };
    for (const spec of every) {
      if (spec.accept) {
        const picture = async (url, init) => {
          sent.push(init.headers["Accept-Language"]);
          return { ...fakeResponse(200, null, { "Content-Type": spec.accept }), arrayBuffer: async () => new ArrayBuffer(1) };
        };
        await callApi(picture, BASE, "tok", spec);
      } else {
        await callApi(fetchFn, BASE, "tok", spec);
      }
    }
    assert.deepEqual(sent, every.map(() => tag), locale);
  }
});

test("the API's own sentence is shown as it arrives, in the language asked; the extension's own come from _locales", (t) => {
  t.after(() => useLocale("en"));
  useLocale("zh_CN");
  const apiSentence = "落地页不在活动允许的域名内。";
  const failure = describeFailure({ status: 422, body: { error: { code: "landing_page_not_allowed", message: apiSentence } } });
  assert.equal(failure.message, apiSentence);
  assert.equal(failure.code, undefined); // the code travels in toJSON, unchanged
  assert.equal(failure.toJSON().code, "landing_page_not_allowed");
  assert.equal(describeFailure({ status: 401, body: { error: { code: "token_expired" } } }).message, "你的 Tasklink 登录已过期。请打开 Tasklink 设置重新登录。");
  assert.equal(describeFailure({ status: 429, body: {}, retryAfter: "5" }).message, "请求过多：Tasklink 正在限制创建链接的速度。请5秒钟后再试。");
  assert.match(normalizeApiBase("ftp://x").message, /^API 地址必须以/);
});
