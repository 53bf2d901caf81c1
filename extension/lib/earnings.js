// The popup's earnings and invitations views: their rules, pure (node --test
// imports them). Amounts stay the API's decimal strings in each campaign's
// currency: they are shown (written the partner's language's way by Intl,
// digit for digit), never added up here, and never across currencies.

import { formatDecimal, formatMoney, formatNumber, t } from "./i18n.js";

/** The periods the earnings view offers, by value; `label()` in the partner's language. */
export const PERIODS = Object.freeze([
  { value: "7", label: () => t("period_7") },
  { value: "30", label: () => t("period_30") },
  { value: "this-month", label: () => t("period_this_month") },
  { value: "last-month", label: () => t("period_last_month") },
  { value: "90", label: () => t("period_90") },
]);

const iso = (date) => date.toISOString().slice(0, 10);

/**
 * The UTC days {from, to} (YYYY-MM-DD, both included) of a period value,
 * counted back from `now` (a Date); an unknown value is the last 30 days.
 */
export function periodDays(value, now = new Date()) {
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const back = (days) => new Date(today.getTime() - days * 86400000);
  if (value === "this-month") return { from: iso(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1))), to: iso(today) };
  if (value === "last-month") {
    const first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1));
    const last = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 0));
    return { from: iso(first), to: iso(last) };
  }
  const days = { 7: 7, 30: 30, 90: 90 }[value] || 30;
  return { from: iso(back(days - 1)), to: iso(today) };
}

/** The columns of the earnings table: header and tooltip (in the partner's language), and how a campaign's or link's figures fill it. */
export const COLUMNS = Object.freeze([
  { head: () => t("earnings_col_clicks"), cell: (f) => formatNumber(f.clicks) },
  { head: () => t("earnings_col_billable"), cell: (f) => formatNumber(f.billable_clicks), title: () => t("earnings_col_billable_title") },
  { head: () => t("earnings_col_sales"), cell: (f) => formatNumber(f.conversions), title: () => t("earnings_col_sales_title") },
  { head: () => t("earnings_col_click_pay"), cell: (f) => formatDecimal(f.click_payout), title: () => t("earnings_col_click_pay_title") },
  { head: () => t("earnings_col_pending"), cell: (f) => formatDecimal(f.pending), title: () => t("earnings_col_pending_title") },
  { head: () => t("earnings_col_approved"), cell: (f) => formatDecimal(f.approved) },
  { head: () => t("earnings_col_reversed"), cell: (f) => formatDecimal(f.reversed), title: () => t("earnings_col_reversed_title") },
]);

/** The headline of one currency's totals: "Earned $12.50 · 5.00 pending · 7.50 approved". */
export function totalText(total) {
  const parts = [
    t("earnings_total_earned", formatMoney(total.earned, total.currency)),
    t("earnings_total_pending", formatDecimal(total.pending)),
    t("earnings_total_approved", formatDecimal(total.approved)),
  ];
  if (total.click_payout !== undefined && Number(total.click_payout) !== 0) parts.push(t("earnings_total_from_clicks", formatDecimal(total.click_payout)));
  if (Number(total.reversed) !== 0) parts.push(t("earnings_total_reversed", formatDecimal(total.reversed)));
  return parts.join(" · ");
}

/** What a link is called in the table: its task and where it lands (host and path). */
export function linkLabel(link) {
  let where = link.landing_url || "";
  try {
    const url = new URL(where);
    where = url.host + url.pathname;
  } catch {
    // keep the stored text
  }
  return { title: link.task_title || t("earnings_link_fallback", link.link_id), where, full: link.landing_url || "" };
}

/** The invitations tab's label: its count when there are some. */
export function invitationsLabel(count) {
  return count > 0 ? t("popup_tab_invitations_count", formatNumber(count)) : t("popup_tab_invitations");
}

/** What the popup says after an answer to an invitation. */
export function answeredText(invitation, membership) {
  return t(membership === "active" ? "invitation_joined" : "invitation_declined", invitation.campaign_name);
}
