// A small time-to-live check for the match rules the service worker keeps.

/** Match rules are refreshed after five minutes (and at sign-in). */
export const RULES_TTL_MS = 5 * 60 * 1000;

/** Is a cached entry {base, fetchedAt, rules} still good for this API base at `now`? */
export function isFresh(entry, base, now, ttlMs = RULES_TTL_MS) {
  return Boolean(
    entry &&
      entry.base === base &&
      Array.isArray(entry.rules) &&
      Number.isFinite(entry.fetchedAt) &&
      now >= entry.fetchedAt &&
      now - entry.fetchedAt < ttlMs,
  );
}
