// No visible word is written into the UI code: every one comes from _locales
// (checker: visible-strings.mjs). The checker is run on the extension's pages
// and scripts, and on samples that must fail, so a checker that finds nothing
// cannot pass unnoticed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { ALLOWED, htmlFindings, jsFindings } from "./visible-strings.mjs";

const ROOT = new URL("../", import.meta.url);
const read = (path) => readFileSync(new URL(path, ROOT), "utf8");
export const PAGES = ["popup.html", "options.html"];
export const SCRIPTS = [
  "popup.js", "options.js", "content-script.js", "service-worker.js",
  ...readdirSync(new URL("lib/", ROOT)).filter((name) => name.endsWith(".js")).map((name) => `lib/${name}`),
];
const show = (findings) => findings.map((f) => `${f.file}:${f.line} ${f.where} ${JSON.stringify(f.text)}`).join("\n");

test("the extension's pages have no words of their own: text and visible attributes come from data-i18n", () => {
  const findings = PAGES.flatMap((page) => htmlFindings(read(page), page));
  assert.deepEqual(findings, [], show(findings));
});

test("the extension's scripts put no literal words on screen", () => {
  assert.ok(SCRIPTS.length >= 15, SCRIPTS.join(", "));
  const findings = SCRIPTS.flatMap((file) => jsFindings(read(file), file, { sourceType: file === "content-script.js" ? "script" : "module" }));
  assert.deepEqual(findings, [], show(findings));
});

test("the checker finds words in HTML: text, title, placeholder, aria-label, alt, a button's value", () => {
  const page = `<!doctype html><html><head><title>Tasklink options</title><style>p::after { content: "x y"; }</style></head>
    <body><!-- a comment with words -->
    <h1 data-i18n="app_name"></h1>
    <p>Signed in as <strong id="n"></strong></p>
    <input title="Your e-mail" placeholder="you@example.com" aria-label="E-mail">
    <img alt="Tasklink logo" src="icons/icon-32.png">
    <input type="submit" value="Log in"><input type="radio" value="short">
    <button data-i18n="options_log_in"></button><span>×</span><span> — </span><span>QR</span>
    <script>const words = "not read as HTML text";</script></body></html>`;
  const found = htmlFindings(page, "sample.html").map((f) => [f.where, f.text]);
  assert.deepEqual(found, [
    ["text", "Tasklink options"],
    ["text", "Signed in as"],
    ["input[title]", "Your e-mail"],
    ["input[placeholder]", "you@example.com"],
    ["input[aria-label]", "E-mail"],
    ["img[alt]", "Tasklink logo"],
    ["input[value]", "Log in"],
  ]);
});

test("the checker finds words in JavaScript, wherever they reach the screen", () => {
  const sample = `
    import { t } from "./lib/i18n.js";
    const $ = (id) => document.getElementById(id);
    const h = (tag, props, children) => el(document, tag, props, children);
    $("a").textContent = "Loading…";
    $("b").innerHTML = \`<b>Hello</b> \${name}\`;
    $("c").title = ok ? "Saved" : t("key_only");
    $("d").placeholder = "Search";
    $("e").setAttribute("aria-label", "Close panel");
    $("f").setAttribute("data-kind", "short");
    alert("Are you sure?");
    $("g").replaceChildren("Not allowed yet: ", h("strong", { text: hosts }));
    h("button", { class: "secondary small", type: "button", text: "Accept", title: "Accept the invitation" }, ["Decline"]);
    h("input", { type: "radio", value: "regular" });
    h("input", { type: "submit", value: "Send" });
    const option = new Option("Last 7 days", "7");
    function say(text) { $("m").textContent = text; }
    function sayLater(text) { setTimeout(() => say(text), 10); }
    say("Signed out.");
    sayLater("Saved.");
    const failure = { ok: false, error: { kind: "internal", message: "Something went wrong." } };
    throw new Failure("invalid", "Pick a task first.");
    export function label(n) { return n > 0 ? \`Invitations (\${n})\` : "Invitations"; }
    pills.push(\`\${n} billable\`);
    const help = "Try again in a minute";
    console.error("Tasklink: this is for developers only");
    throw new Error("Tasklink: no message in _locales");
    document.querySelectorAll("select, input, button");
    $("x").className = "small muted";
    $("y").textContent = "QR";
    $("z").textContent = "×";
    t("popup_tab_link"); t(pluralKey("link_clicks", 2), 2);
  `;
  const found = jsFindings(sample, "sample.js").map((f) => f.text);
  assert.deepEqual(found.sort(), [
    "<b>Hello</b> …",
    "Accept",
    "Accept the invitation",
    "Are you sure?",
    "Close panel",
    "Decline",
    "Invitations",
    "Invitations (…)",
    "Last 7 days",
    "Loading…",
    "Not allowed yet: ",
    "Pick a task first.",
    "Saved",
    "Saved.",
    "Search",
    "Send",
    "Signed out.",
    "Something went wrong.",
    "Try again in a minute",
    "… billable",
  ].sort());
});

test("allowed without a message: only names that are not language, never a sentence", () => {
  assert.deepEqual([...ALLOWED].sort(), ["ID", "PNG", "QR", "SVG"]);
  assert.deepEqual(jsFindings('el.textContent = "SVG"; el.title = "PNG code";', "x.js").map((f) => f.text), ["PNG code"]);
});
