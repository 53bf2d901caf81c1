// One message dispatcher over a {type: handler} map (the refined-github
// pattern): unknown types are refused, handler failures become a sentence.

import { t } from "./i18n.js";

/**
 * Build `dispatch(message, sender) → Promise<{ok, data} | {ok: false, error}>`.
 *
 * `handlers` maps a message type to `async (message, sender) => data`; a
 * handler reports an expected failure by throwing a `Failure`.
 * `mayCall(type, sender)` may refuse a sender (for example a content script
 * asking to sign in).
 */
export function createDispatcher(handlers, { mayCall = () => true, onError = () => {} } = {}) {
  const table = new Map(Object.entries(handlers));
  return async function dispatch(message, sender) {
    const type = message && typeof message === "object" ? message.type : undefined;
    if (typeof type !== "string" || !table.has(type)) {
      return { ok: false, error: { kind: "unknown_message", message: t("dispatch_unknown", JSON.stringify(type)) } };
    }
    if (!mayCall(type, sender)) {
      return { ok: false, error: { kind: "forbidden", message: t("dispatch_forbidden") } };
    }
    try {
      return { ok: true, data: await table.get(type)(message, sender) };
    } catch (error) {
      if (error instanceof Failure) return { ok: false, error: error.toJSON() };
      onError(error);
      return { ok: false, error: { kind: "internal", message: t("dispatch_internal") } };
    }
  };
}

/** An expected failure with a kind and a sentence for the partner. */
export class Failure extends Error {
  constructor(kind, message, extra = {}) {
    super(message);
    this.kind = kind;
    this.extra = extra;
  }

  toJSON() {
    return { kind: this.kind, message: this.message, ...this.extra };
  }
}
