// ESLint flat config for the extension (plain JavaScript, no build step).
// ESLint and its packages live in tools/eslint (installed there by
// scripts/check.sh), not beside the extension, so they are resolved from that
// folder; nothing here is loaded by the browser.
import { createRequire } from "node:module";

const require = createRequire(new URL("../tools/eslint/package.json", import.meta.url));
const js = require("@eslint/js");
const globals = require("globals");

export default [
  js.configs.recommended,
  {
    // Recommended from ESLint 10 on; on here already (a value overwritten before any read).
    rules: { "no-useless-assignment": "error" },
  },
  {
    // Every script is an ES module except the content script (see below).
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      sourceType: "module",
      globals: { ...globals.browser, ...globals.webextensions },
    },
  },
  {
    // Injected by chrome.scripting as a classic script: it loads its modules with import().
    files: ["content-script.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["service-worker.js"],
    languageOptions: { globals: { ...globals.serviceworker, ...globals.webextensions } },
  },
  {
    // The unit tests run in Node (node --test), not in the browser.
    files: ["tests/**"],
    languageOptions: { globals: { ...globals.node } },
  },
];
