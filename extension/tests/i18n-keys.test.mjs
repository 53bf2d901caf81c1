// The catalogues: en and zh_CN have the same keys and placeholders; every key
// the code uses (t("…"), tParts("…"), pluralKey("…"), data-i18n…="…",
// __MSG_…__) exists, and every key is used somewhere.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { catalogue } from "./fake-i18n.mjs";
import { htmlTokens } from "./visible-strings.mjs";

const require = createRequire(new URL("../../tools/eslint/package.json", import.meta.url));
const espree = require("espree");

const ROOT = new URL("../", import.meta.url);
const read = (path) => readFileSync(new URL(path, ROOT), "utf8");
const LOCALES = readdirSync(new URL("_locales/", ROOT)).sort();
const en = catalogue("en");
const zh = catalogue("zh_CN");
const SCRIPTS = [
  "popup.js", "options.js", "content-script.js", "service-worker.js",
  ...readdirSync(new URL("lib/", ROOT)).filter((name) => name.endsWith(".js")).map((name) => `lib/${name}`),
];
const KEY_FUNCTIONS = new Set(["t", "tParts"]);

const placeholders = (entry) => Object.fromEntries(Object.entries(entry.placeholders || {}).map(([name, value]) => [name.toLowerCase(), value.content]));
const named = (message) => [...new Set([...message.matchAll(/\$([A-Za-z0-9_@]+)\$/g)].map((m) => m[1].toLowerCase()))].sort();

function walk(node, visit) {
  if (!node || typeof node.type !== "string") return;
  visit(node);
  for (const [key, value] of Object.entries(node)) {
    if (key === "loc" || key === "range") continue;
    if (Array.isArray(value)) for (const child of value) walk(child, visit);
    else if (value && typeof value.type === "string") walk(value, visit);
  }
}

const calleeName = (callee) => (callee.type === "Identifier" ? callee.name : callee.type === "MemberExpression" && !callee.computed ? callee.property.name : null);
const stringsIn = (node) => {
  if (!node) return [];
  if (node.type === "Literal" && typeof node.value === "string") return [node.value];
  if (node.type === "ConditionalExpression") return [...stringsIn(node.consequent), ...stringsIn(node.alternate)];
  if (node.type === "LogicalExpression") return [...stringsIn(node.left), ...stringsIn(node.right)];
  return [];
};

/** The keys the code asks for by name ({asked}), and every string literal in it ({literals}, for keys chosen from a table). */
function keysInScripts() {
  const asked = [];
  const literals = new Set();
  const tables = [];
  for (const file of SCRIPTS) {
    const ast = espree.parse(read(file), { ecmaVersion: "latest", sourceType: file === "content-script.js" ? "script" : "module", loc: true });
    walk(ast, (node) => {
      if (node.type === "Literal" && typeof node.value === "string") literals.add(node.value);
      if (node.type === "CallExpression") {
        const name = calleeName(node.callee);
        const first = node.arguments[0];
        if (KEY_FUNCTIONS.has(name)) for (const key of stringsIn(first)) asked.push({ key, where: `${file}:${node.loc.start.line}` });
        if (name === "pluralKey") {
          for (const base of stringsIn(first)) for (const form of ["one", "other"]) asked.push({ key: `${base}_${form}`, where: `${file}:${node.loc.start.line}` });
        }
      }
      // A table of keys ({created: "postbacks_event_created", …}): all of its values must be keys.
      if (node.type === "ObjectExpression" && node.properties.length && node.properties.every((p) => p.type === "Property" && p.value.type === "Literal" && typeof p.value.value === "string")) {
        tables.push({ values: node.properties.map((p) => p.value.value), where: `${file}:${node.loc.start.line}` });
      }
    });
  }
  return { asked, literals, tables };
}

function keysInPages() {
  const asked = [];
  for (const page of ["popup.html", "options.html"]) {
    for (const token of htmlTokens(read(page))) {
      if (token.type !== "tag") continue;
      for (const [name, value] of Object.entries(token.attributes)) if (name.startsWith("data-i18n")) asked.push({ key: value, where: `${page}:${token.line}` });
    }
  }
  for (const match of read("manifest.json").matchAll(/__MSG_([A-Za-z0-9_@]+)__/g)) asked.push({ key: match[1], where: "manifest.json" });
  return asked;
}

test("the languages: en (the default) and zh_CN", () => {
  assert.deepEqual(LOCALES, ["en", "zh_CN"]);
  assert.equal(JSON.parse(read("manifest.json")).default_locale, "en");
  assert.equal(en.language_tag.message, "en");
  assert.equal(zh.language_tag.message, "zh-CN");
});

test("en and zh_CN have exactly the same keys, each with the same placeholders", () => {
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en)) {
    assert.deepEqual(placeholders(zh[key]), placeholders(en[key]), key);
    assert.deepEqual(named(en[key].message), Object.keys(placeholders(en[key])).sort(), `en ${key}: placeholders used = defined`);
    assert.deepEqual(named(zh[key].message), Object.keys(placeholders(zh[key])).sort(), `zh_CN ${key}: placeholders used = defined`);
    assert.ok(zh[key].message.trim(), `zh_CN ${key} is empty`);
  }
});

test("every English message says what it is for (a description for translators)", () => {
  const missing = Object.entries(en).filter(([, entry]) => !String(entry.description || "").trim()).map(([key]) => key);
  assert.deepEqual(missing, []);
});

test("every key the code and the pages use exists", () => {
  const { asked, tables } = keysInScripts();
  const all = [...asked, ...keysInPages()];
  assert.ok(all.length > 150, `only ${all.length} keys found: is the scan broken?`);
  const missing = all.filter(({ key }) => !(key in en)).map(({ key, where }) => `${where} ${key}`);
  assert.deepEqual(missing, []);
  const keyTables = tables.filter(({ values }) => values.some((value) => value in en));
  assert.ok(keyTables.length >= 4, "the tables of keys (EVENTS, STATUSES, LABEL_KEYS, PICK) are found");
  for (const { values, where } of keyTables) assert.deepEqual(values.filter((value) => !(value in en)), [], where);
});

test("no key is unused", () => {
  const { asked, literals } = keysInScripts();
  const used = new Set([...asked, ...keysInPages()].map(({ key }) => key));
  const unused = Object.keys(en).filter((key) => !used.has(key) && !literals.has(key));
  assert.deepEqual(unused, []);
});
