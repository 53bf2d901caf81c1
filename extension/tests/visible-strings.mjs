// The checker behind visible-strings.test.mjs: finds words written into the
// UI code instead of coming from _locales. Not a test file itself (node --test
// runs *.test.mjs), so the test can run it on samples that must fail.
//
// HTML is read with a small tokenizer (tags, attributes, text, comments, raw
// script/style), enough for the extension's own pages. JavaScript is parsed
// with espree (ESLint's parser, installed by scripts/check.sh under
// tools/eslint) and walked: a string or template literal with letters that
// reaches the screen is a finding, wherever it goes:
// - assigned to textContent, innerText, innerHTML, outerHTML, title,
//   placeholder, alt, value, label or an aria* property;
// - passed to setAttribute for title, placeholder, alt, value, label or an
//   aria-* attribute that is read aloud, to alert/confirm/prompt, to
//   append/prepend/replaceChildren/before/after/replaceWith/createTextNode/
//   insertAdjacentText/insertAdjacentHTML, to new Option;
// - a property text/title/placeholder/alt/value/label/aria-* of the element
//   helper (h(tag, props, children), el(doc, tag, props, children)) or one of
//   its children;
// - the `message` of an object or of a Failure (the sentences the extension
//   shows for errors), or a value of `text`, `label`, `head`;
// - an argument of a function of the same file that sends that parameter to
//   one of the places above (followed through the file's own functions);
// - anywhere else, a literal with two words in a row ("Try again"), unless it
//   is a message key, a class name, a CSS selector or a developer's message
//   (console.*, new Error).

import { createRequire } from "node:module";

const require = createRequire(new URL("../../tools/eslint/package.json", import.meta.url));
const espree = require("espree");

/**
 * Strings that are not language, allowed anywhere: names of formats and
 * symbols read the same in every language. (Nothing on screen uses them
 * today: the QR button's text is a message, since Chinese says 二维码.)
 */
export const ALLOWED = Object.freeze(new Set([
  "QR", // the code's name, as printed on the code's own standard
  "SVG", "PNG", // file formats
  "ID", // as in "Sub ID"; stands alone only in technical labels
]));

const LETTER = /\p{L}/u;
const WORDS = /\p{L}+[ \u00a0]+\p{L}+/u;
// What a function returns or pushes into a list looks like words when it has a space, a capital or a non-Latin letter
// (codes, keys and file names are lower-case ASCII: "png", "tasklink-link-7.svg").
const WORDISH = /[\s\p{Lu}]|[^\p{Script=Latin}\P{L}]/u;

/** Is this text language (letters, not allowed as a name)? */
export function isLanguage(text) {
  const value = String(text).trim();
  return LETTER.test(value) && !ALLOWED.has(value);
}

// --- HTML --------------------------------------------------------------------

const VISIBLE_ATTRIBUTES = new Set(["title", "placeholder", "aria-label", "alt", "aria-description", "aria-placeholder", "aria-roledescription", "aria-valuetext", "label"]);

/** Tokens of an HTML text: {type: "text"|"tag", ...}; comments dropped, script and style kept raw. */
export function htmlTokens(source) {
  const tokens = [];
  let i = 0;
  const line = (at) => source.slice(0, at).split("\n").length;
  while (i < source.length) {
    if (source.startsWith("<!--", i)) {
      const end = source.indexOf("-->", i + 4);
      i = end === -1 ? source.length : end + 3;
    } else if (source.startsWith("<!", i)) {
      i = source.indexOf(">", i) + 1 || source.length;
    } else if (source[i] === "<" && /[a-zA-Z/]/.test(source[i + 1] || "")) {
      const start = i;
      const closing = source[i + 1] === "/";
      i += closing ? 2 : 1;
      const name = /^[a-zA-Z0-9-]+/.exec(source.slice(i))[0].toLowerCase();
      i += name.length;
      const attributes = {};
      for (;;) {
        while (/\s/.test(source[i] || "")) i += 1;
        if (i >= source.length || source[i] === ">" || source.startsWith("/>", i)) break;
        const attr = /^[^\s=>/]+/.exec(source.slice(i));
        if (!attr) { i += 1; continue; }
        i += attr[0].length;
        while (/\s/.test(source[i] || "")) i += 1;
        let value = "";
        if (source[i] === "=") {
          i += 1;
          while (/\s/.test(source[i] || "")) i += 1;
          const quote = source[i];
          if (quote === '"' || quote === "'") {
            const end = source.indexOf(quote, i + 1);
            value = source.slice(i + 1, end);
            i = end + 1;
          } else {
            value = /^[^\s>]*/.exec(source.slice(i))[0];
            i += value.length;
          }
        }
        attributes[attr[0].toLowerCase()] = decodeEntities(value);
      }
      i = source.indexOf(">", i) + 1;
      tokens.push({ type: "tag", name, closing, attributes, line: line(start) });
      if (!closing && (name === "script" || name === "style")) {
        const end = source.toLowerCase().indexOf(`</${name}`, i);
        tokens.push({ type: "raw", text: source.slice(i, end), line: line(i) });
        i = end;
      }
    } else {
      const next = source.indexOf("<", i + 1);
      const end = next === -1 ? source.length : next;
      tokens.push({ type: "text", text: decodeEntities(source.slice(i, end)), line: line(i) });
      i = end;
    }
  }
  return tokens;
}

function decodeEntities(text) {
  const named = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", hellip: "…", times: "×" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") return String.fromCodePoint(name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
    return named[name.toLowerCase()] ?? whole;
  });
}

/** Visible words written into an HTML page: [{file, line, text, where}]. */
export function htmlFindings(source, file = "page.html") {
  const findings = [];
  for (const token of htmlTokens(source)) {
    if (token.type === "text" && isLanguage(token.text)) {
      findings.push({ file, line: token.line, text: token.text.trim(), where: "text" });
    }
    if (token.type !== "tag" || token.closing) continue;
    for (const [name, value] of Object.entries(token.attributes)) {
      const buttonValue = name === "value" && (token.name === "button" || (token.name === "input" && ["button", "submit", "reset"].includes(token.attributes.type)));
      if ((VISIBLE_ATTRIBUTES.has(name) || buttonValue) && isLanguage(value)) {
        findings.push({ file, line: token.line, text: value, where: `${token.name}[${name}]` });
      }
    }
  }
  return findings;
}

// --- JavaScript --------------------------------------------------------------

const VISIBLE_PROPERTIES = new Set([
  "textContent", "innerText", "innerHTML", "outerHTML", "title", "placeholder", "alt", "value", "label",
  "ariaLabel", "ariaDescription", "ariaPlaceholder", "ariaRoleDescription", "ariaValueText",
]);
const TEXT_METHODS = new Set(["append", "prepend", "replaceChildren", "before", "after", "replaceWith", "createTextNode", "insertAdjacentText", "insertAdjacentHTML", "alert", "confirm", "prompt", "write", "writeln"]);
const HELPER_PROPS = new Set(["text", "title", "placeholder", "alt", "value", "label", "aria-label", "aria-description", "aria-placeholder", "aria-roledescription", "aria-valuetext"]);
const SENTENCE_KEYS = new Set(["message", "text", "label", "head", "title", "placeholder"]);
const NOT_TEXT_KEYS = new Set(["class", "className", "id", "type", "role", "name", "for", "rel", "href", "src", "download", "kind", "code", "method", "path", "accept", "cache"]);
const KEY_FUNCTIONS = new Set(["t", "tParts", "pluralKey"]);

const isVisibleAttribute = (name) => VISIBLE_ATTRIBUTES.has(name) || name === "value";
const propertyName = (node) => (node && !node.computed && node.property ? node.property.name ?? node.property.value : null);
const calleeName = (callee) => (callee.type === "Identifier" ? callee.name : callee.type === "MemberExpression" ? propertyName(callee) : null);
const keyName = (key) => (key.type === "Identifier" ? key.name : key.type === "Literal" ? String(key.value) : null);

/** The literal texts an expression can be, when written in the code (through ?:, ||, ??, +, templates). */
function literals(node) {
  if (!node) return [];
  switch (node.type) {
    case "Literal": return typeof node.value === "string" ? [{ text: node.value, node }] : [];
    case "TemplateLiteral": return [{ text: node.quasis.map((q) => q.value.cooked).join("…"), node }, ...node.expressions.flatMap(literals)];
    case "ConditionalExpression": return [...literals(node.consequent), ...literals(node.alternate)];
    case "LogicalExpression": return [...literals(node.left), ...literals(node.right)];
    case "BinaryExpression": return node.operator === "+" ? [...literals(node.left), ...literals(node.right)] : [];
    case "SequenceExpression": return literals(node.expressions[node.expressions.length - 1]);
    default: return [];
  }
}

function walk(node, visit, parent = null) {
  if (!node || typeof node.type !== "string") return;
  visit(node, parent);
  for (const [key, value] of Object.entries(node)) {
    if (key === "parent" || key === "loc" || key === "range") continue;
    if (Array.isArray(value)) for (const child of value) walk(child, visit, node);
    else if (value && typeof value.type === "string") walk(value, visit, node);
  }
}

/**
 * The parameters whose value ends up in `node`'s text: not a message key (the first argument of
 * t/tParts/pluralKey) nor the key of a lookup (`PICK[what]`), which only choose the words.
 */
function reaching(node, params, out) {
  if (!node || typeof node.type !== "string") return;
  if (node.type === "Identifier") {
    if (params.includes(node.name)) out.push(params.indexOf(node.name));
    return;
  }
  if (node.type === "CallExpression" && KEY_FUNCTIONS.has(calleeName(node.callee))) {
    for (const arg of node.arguments.slice(1)) reaching(arg, params, out);
    return;
  }
  if (node.type === "MemberExpression") {
    reaching(node.object, params, out);
    return;
  }
  if (node.type === "Property") {
    reaching(node.value, params, out);
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === "loc" || key === "range") continue;
    if (Array.isArray(value)) for (const child of value) reaching(child, params, out);
    else if (value && typeof value.type === "string") reaching(value, params, out);
  }
}

/** Visible words written into JavaScript: [{file, line, text, where}]. */
export function jsFindings(source, file = "script.js", { sourceType = "module" } = {}) {
  const ast = espree.parse(source, { ecmaVersion: "latest", sourceType, loc: true, range: true });
  const parents = new Map();
  walk(ast, (node, parent) => parents.set(node, parent));

  // The file's own functions, by name, and which of their parameters reach the screen.
  const functions = new Map();
  walk(ast, (node, parent) => {
    if (node.type === "FunctionDeclaration" && node.id) functions.set(node.id.name, node);
    if ((node.type === "ArrowFunctionExpression" || node.type === "FunctionExpression") && parent && parent.type === "VariableDeclarator" && parent.id.type === "Identifier") {
      functions.set(parent.id.name, node);
    }
  });
  const sinkParams = new Map(); // name → Set of parameter indexes

  const findings = [];
  const flagged = new Set();
  const flag = (node, where, texts = literals(node)) => {
    for (const { text, node: at } of texts) {
      if (isLanguage(text) && !flagged.has(at)) {
        flagged.add(at);
        findings.push({ file, line: at.loc.start.line, text, where });
      }
    }
  };

  /** The places an expression is sent to the screen from here; `report(node, where)` for each. */
  function sinksOf(visitRoot, report) {
    walk(visitRoot, (node) => {
      if (node.type === "AssignmentExpression" && node.left.type === "MemberExpression" && VISIBLE_PROPERTIES.has(propertyName(node.left))) {
        report(node.right, `.${propertyName(node.left)} =`);
      }
      if (node.type === "CallExpression" || node.type === "NewExpression") {
        const name = calleeName(node.callee);
        const args = node.arguments;
        if (name === "setAttribute" && args[0] && args[0].type === "Literal" && isVisibleAttribute(String(args[0].value))) report(args[1], `setAttribute(${args[0].value})`);
        if (TEXT_METHODS.has(name)) for (const arg of args) report(arg.type === "SpreadElement" ? arg.argument : arg, `${name}()`);
        if (node.type === "NewExpression" && name === "Option") report(args[0], "new Option()");
        if (node.type === "NewExpression" && name === "Failure") report(args[1], "new Failure()");
        if (name === "h" || name === "el") {
          const [tag, props, children] = name === "el" ? [args[1], args[2], args[3]] : [args[0], args[1], args[2]];
          if (props && props.type === "ObjectExpression") {
            const type = props.properties.find((prop) => prop.type === "Property" && keyName(prop.key) === "type");
            const tagName = tag && tag.type === "Literal" ? tag.value : null;
            // A value is on screen only on a button (a radio's or an option's value is a code).
            const valueShown = tagName === "button" || (tagName === "input" && type && ["button", "submit", "reset"].includes(type.value.value));
            for (const prop of props.properties) {
              const key = prop.type === "Property" ? keyName(prop.key) : null;
              if (HELPER_PROPS.has(key) && (key !== "value" || valueShown)) report(prop.value, `${name}({${key}})`);
            }
          }
          if (children && children.type === "ArrayExpression") for (const child of children.elements) report(child, `${name}(children)`);
        }
        if (sinkParams.has(name)) for (const index of sinkParams.get(name)) report(args[index], `${name}(…)`);
      }
      if (node.type === "Property" && SENTENCE_KEYS.has(keyName(node.key)) && !node.computed) report(node.value, `{${keyName(node.key)}}`);
      // A function's words: the caller shows what it returns (optionsAction, copiedMessage…) or the list it fills.
      const returned = node.type === "ReturnStatement" ? node.argument : node.type === "ArrowFunctionExpression" && node.body.type !== "BlockStatement" ? node.body : null;
      if (returned) {
        const words = literals(returned).filter(({ text }) => WORDISH.test(text));
        if (words.length) report(returned, "return", words);
      }
      if (node.type === "CallExpression" && ["push", "unshift", "concat"].includes(calleeName(node.callee))) {
        for (const arg of node.arguments) {
          const words = literals(arg).filter(({ text }) => WORDISH.test(text));
          if (words.length) report(arg, `${calleeName(node.callee)}()`, words);
        }
      }
    });
  }

  // Which parameters of the file's functions reach a sink (to a fixed point: helpers calling helpers).
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, fn] of functions) {
      const params = fn.params.map((p) => (p.type === "AssignmentPattern" ? p.left : p)).map((p) => (p.type === "Identifier" ? p.name : null));
      sinksOf(fn.body, (expression) => {
        const reached = [];
        reaching(expression, params, reached);
        for (const index of reached) {
          const set = sinkParams.get(name) || new Set();
          if (!set.has(index)) {
            set.add(index);
            sinkParams.set(name, set);
            changed = true;
          }
        }
      });
    }
  }

  sinksOf(ast, (expression, where, texts) => flag(expression, where, texts));

  // Everything else: two words in a row is a sentence, unless it is plainly not one.
  walk(ast, (node) => {
    if (node.type !== "Literal" && node.type !== "TemplateLiteral") return;
    if (flagged.has(node)) return;
    const [{ text } = { text: "" }] = literals(node);
    if (!WORDS.test(text) || !isLanguage(text)) return;
    // The place the literal is used, through ?:, ||, + and templates ("small " + (x ? "a" : "b")).
    let parent = parents.get(node);
    let child = node;
    while (parent && ["ConditionalExpression", "LogicalExpression", "BinaryExpression", "TemplateLiteral"].includes(parent.type)) {
      child = parent;
      parent = parents.get(parent);
    }
    if (!parent) return;
    if (parent.type === "ExpressionStatement" && parent.directive) return; // "use strict"
    if (["ImportDeclaration", "ExportNamedDeclaration", "ExportAllDeclaration", "ImportExpression"].includes(parent.type)) return;
    if (parent.type === "Property" && parent.key === child) return;
    if (parent.type === "Property" && NOT_TEXT_KEYS.has(keyName(parent.key))) return;
    if (parent.type === "AssignmentExpression" && ["className", "id"].includes(propertyName(parent.left))) return;
    if (parent.type === "CallExpression" || parent.type === "NewExpression") {
      const name = calleeName(parent.callee);
      const object = parent.callee.type === "MemberExpression" ? parent.callee.object : null;
      if (KEY_FUNCTIONS.has(name) && parent.arguments[0] === child) return;
      if (object && object.type === "Identifier" && object.name === "console") return;
      if (parent.type === "NewExpression" && /Error$/.test(name || "")) return; // a developer's message
      if (["querySelector", "querySelectorAll", "matches", "closest", "add", "remove", "toggle", "contains"].includes(name)) return;
    }
    findings.push({ file, line: node.loc.start.line, text, where: "words" });
  });
  return findings;
}
