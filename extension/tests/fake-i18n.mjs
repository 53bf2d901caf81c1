// chrome.i18n for node --test: getMessage over a catalogue in _locales, with
// Chrome's substitution rules ($NAME$ placeholders whose content is $1..$9,
// $$ for a dollar sign, "" for a key that does not exist). Importing this
// module installs the English catalogue; useLocale("zh_CN") switches.

import { readFileSync } from "node:fs";

const LOCALES = new URL("../_locales/", import.meta.url);

export function catalogue(locale) {
  return JSON.parse(readFileSync(new URL(`${locale}/messages.json`, LOCALES), "utf8"));
}

/** Chrome's getMessage over `messages` (a parsed messages.json). */
export function messageGetter(messages) {
  const byKey = new Map(Object.entries(messages).map(([key, value]) => [key.toLowerCase(), value]));
  return (key, substitutions = []) => {
    const entry = byKey.get(String(key).toLowerCase());
    if (!entry) return "";
    const subs = Array.isArray(substitutions) ? substitutions : [substitutions];
    const placeholders = new Map(Object.entries(entry.placeholders || {}).map(([name, value]) => [name.toLowerCase(), value.content]));
    const positional = (text) => text.replace(/\$(\$|[1-9])/g, (_, which) => (which === "$" ? "$" : String(subs[Number(which) - 1] ?? "")));
    return entry.message
      .replace(/\$([A-Za-z0-9_@]+)\$/g, (whole, name) => (placeholders.has(name.toLowerCase()) ? `\uE000${placeholders.get(name.toLowerCase())}\uE001` : whole))
      .split(/\uE000|\uE001/)
      .map((piece) => positional(piece))
      .join("");
  };
}

export function useLocale(locale) {
  globalThis.chrome = { ...(globalThis.chrome || {}), i18n: { getMessage: messageGetter(catalogue(locale)), getUILanguage: () => "en-US" } };
}

useLocale("en");
