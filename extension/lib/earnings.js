// The popup's earnings and invitations views: their rules, pure (node --test
// imports them). Amounts stay the API's decimal strings in each campaign's
// currency: they are shown, never added up here, and never across currencies.

/** The periods the earnings view offers, by value. */
export const PERIODS = Object.freeze([
  { value: "7", label: "Last 7 days" },
  { value: "30", label: "Last 30 days" },
  { value: "this-month", label: "This month" },
  { value: "last-month", label: "Last month" },
  { value: "90", label: "Last 90 days" },
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

/** An amount as the API sent it, with its currency ("5.00 USD"). */
export function moneyText(amount, currency) {
  return `${amount ?? "0"} ${currency || ""}`.trim();
}

/** The columns of the earnings table: header, and how a campaign's or link's figures fill it. */
export const COLUMNS = Object.freeze([
  { head: "Clicks", cell: (f) => String(f.clicks) },
  { head: "Billable", cell: (f) => String(f.billable_clicks), title: "Clicks that count for pay" },
  { head: "Sales", cell: (f) => String(f.conversions), title: "Conversions not reversed" },
  { head: "Click pay", cell: (f) => f.click_payout, title: "Earned by billable clicks (cpc)" },
  { head: "Pending", cell: (f) => f.pending, title: "Payouts of conversions not approved yet" },
  { head: "Approved", cell: (f) => f.approved },
  { head: "Reversed", cell: (f) => f.reversed, title: "Payouts of reversed conversions: not earned" },
]);

/** The headline of one currency's totals: "Earned 12.50 USD · 5.00 pending · 7.50 approved". */
export function totalText(total) {
  const parts = [`Earned ${moneyText(total.earned, total.currency)}`, `${total.pending} pending`, `${total.approved} approved`];
  if (total.click_payout !== undefined && Number(total.click_payout) !== 0) parts.push(`${total.click_payout} from clicks`);
  if (Number(total.reversed) !== 0) parts.push(`${total.reversed} reversed`);
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
  return { title: link.task_title || `Link ${link.link_id}`, where, full: link.landing_url || "" };
}

/** The invitations tab's label: its count when there are some. */
export function invitationsLabel(count) {
  return count > 0 ? `Invitations (${count})` : "Invitations";
}

/** What the popup says after an answer to an invitation. */
export function answeredText(invitation, membership) {
  return membership === "active"
    ? `You joined ${invitation.campaign_name}. You can create links for it now.`
    : `You declined the invitation to ${invitation.campaign_name}.`;
}
