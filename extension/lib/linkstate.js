// How one of the partner's links stands, in words for the recent-links list:
// whether it is live, disabled by the partner, or stopped by the advertiser
// (then it earns nothing and only the advertiser can enable it again), and
// how many of its clicks the advertiser pays for.

import { formatNumber, pluralKey, t } from "./i18n.js";

/**
 * The link's state: {live, text, stoppedByAdvertiser}.
 * `text` is null for a live link.
 */
export function linkState(link) {
  if (!link || !link.disabled) return { live: true, text: null, stoppedByAdvertiser: false };
  if (link.disabled_by === "advertiser") {
    return {
      live: false,
      text: t("link_disabled_by_advertiser"),
      stoppedByAdvertiser: true,
    };
  }
  return { live: false, text: t("link_disabled_by_you"), stoppedByAdvertiser: false };
}

/**
 * The counters shown as pills: clicks, then billable clicks when some were
 * not billable (bots, repeats, prefetches…), then conversions.
 */
export function linkCounts(link) {
  const clicks = Number(link.clicks) || 0;
  const billable = link.billable_clicks === undefined ? clicks : Number(link.billable_clicks) || 0;
  const pills = [t(pluralKey("link_clicks", clicks), formatNumber(clicks))];
  if (billable !== clicks) pills.push(t("link_billable", formatNumber(billable)));
  const conversions = Number(link.conversions) || 0;
  pills.push(t(pluralKey("link_conversions", conversions), formatNumber(conversions)));
  return pills;
}
