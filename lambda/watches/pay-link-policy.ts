/**
 * The decisions behind the "Buy $X now" link (pay-link.ts runs them): which alerts carry
 * one, when auto top-up makes it pointless, what amount it suggests, and when a link made
 * earlier in the episode can be shown again. Pure: no I/O, no clock of its own.
 *
 * An alert episode runs from the first run that is not `ok` (or sees a spike) to the run that
 * is `ok` again with no spike. A checkout page is made at most once per episode while it
 * stays valid, and made again for a reminder after it expired.
 */
import type { NotificationKind, PayLink } from '../common/types.ts';
import { MAX_PURCHASE_CENTS, MIN_PURCHASE_CENTS } from '../config/contract.ts';
import { type TopUpSettings, type TopUpState, utcMonth } from './top-up/decide.ts';

/**
 * How long a checkout page works. ngrok does not say; its pages are Stripe Checkout
 * sessions, which expire 24 hours after they are made unless the creator sets another time.
 * Assumed: ngrok keeps Stripe's default.
 */
export const CHECKOUT_LIFETIME_MS = 24 * 3_600_000;

/**
 * A saved link is shown again only while it stays valid at least this long: a person woken
 * by an alert must have time to open it. After that, the next alert or reminder gets a new one.
 */
export const LINK_MIN_REMAINING_MS = 2 * 3_600_000;

/** Days of spend the suggested amount covers. */
export const SUGGESTED_DAYS = 7;

/** Suggested amounts are rounded up to a multiple of this (also ngrok's minimum purchase). */
const ROUND_TO_CENTS = MIN_PURCHASE_CENTS;

/** The kinds that carry a link: balance and runway alerts and spikes, not recoveries. */
export const PAY_LINK_KINDS: readonly NotificationKind[] = [
  'balance-alert',
  'balance-reminder',
  'spike-started',
  'spike-reminder',
];

/** The checkout link of the alert episode in progress, saved in the account's state. */
export interface CheckoutState {
  /** When the episode began (ISO 8601): the first run not `ok`, or with a spike. */
  readonly episodeSince: string;
  /** The page made in this episode, while it may still be shown. */
  readonly link?: SavedLink;
}

export interface SavedLink {
  readonly url: string;
  readonly amountCents: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601: createdAt + CHECKOUT_LIFETIME_MS (assumed, see there). */
  readonly expiresAt: string;
}

/**
 * Whether auto top-up will leave the buying to a person, so an alert should carry a link:
 * it is off, in dry run, refused by this month's cap, stopped, its last purchase failed, or
 * it holds purchases back after its records were started afresh. A purchase ngrok has not
 * resolved (its own or one by hand) is not one of these: a link then could buy twice. The one place that reads auto top-up's state for this.
 */
export function autoTopUpWillNotBuy(
  settings: TopUpSettings | undefined,
  topUp: TopUpState | undefined,
  now: Date,
): boolean {
  if (settings === undefined || settings.dryRun) return true;
  if (topUp === undefined) return false;
  const unresolved = (p: { phase: string }) => p.phase !== 'succeeded' && p.phase !== 'failed';
  // A purchase of its own, or one by hand, that ngrok has not resolved: a link could buy twice.
  if (topUp.intents.some(unresolved) || topUp.foreign.some(unresolved)) return false;
  return (
    topUp.stopped !== undefined ||
    topUp.cappedMonth === utcMonth(now) ||
    topUp.failures > 0 ||
    // Holding purchases back after its records were started afresh (up to a day).
    (topUp.holdUntil !== undefined && Date.parse(topUp.holdUntil) > now.getTime())
  );
}

/** What the suggestion is made from: spend rates in cents, when they are known. */
export interface SpendRates {
  /** The recent rate (the last runs' balance readings). */
  readonly recentCentsPerHour?: number;
  /** The long-term average (the usage overview or the balance history). */
  readonly dailySpendCents?: number;
  /** The warning threshold in force: the suggestion when no rate is known. */
  readonly thresholdCents: number;
}

/**
 * The amount a link asks for: `checkoutAmountCents` when set, else enough for
 * SUGGESTED_DAYS at the faster of the recent and the long-term rate (a spike must not be
 * averaged away), at least $5, rounded up to $5, at most ngrok's largest purchase. With no
 * rate known, the warning threshold (rounded the same way).
 */
export function suggestedCheckoutCents(rates: SpendRates, overrideCents?: number): number {
  if (overrideCents !== undefined) return overrideCents;
  const perDay = Math.max((rates.recentCentsPerHour ?? 0) * 24, rates.dailySpendCents ?? 0);
  const wanted = perDay > 0 ? perDay * SUGGESTED_DAYS : rates.thresholdCents;
  const rounded = Math.ceil(Math.max(wanted, ROUND_TO_CENTS) / ROUND_TO_CENTS) * ROUND_TO_CENTS;
  return Math.min(rounded, MAX_PURCHASE_CENTS);
}

/** The saved link, when it stays valid long enough to be shown now. */
export function usableLink(state: CheckoutState | undefined, now: Date): SavedLink | undefined {
  const link = state?.link;
  if (!link) return undefined;
  return Date.parse(link.expiresAt) - now.getTime() >= LINK_MIN_REMAINING_MS ? link : undefined;
}

/** A new page's saved form: made now, assumed to expire after CHECKOUT_LIFETIME_MS. */
export function savedLink(url: string, amountCents: number, now: Date): SavedLink {
  return {
    url,
    amountCents,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + CHECKOUT_LIFETIME_MS).toISOString(),
  };
}

/**
 * The episode's state after this run. `active`: the run is not `ok`, or a spike is on.
 * An ended episode leaves nothing; a link that can no longer be shown is dropped; a page made
 * this run replaces the one saved.
 */
export function nextCheckoutState(
  previous: CheckoutState | undefined,
  active: boolean,
  made: SavedLink | undefined,
  now: Date,
): CheckoutState | undefined {
  if (!active) return undefined;
  const episodeSince = previous?.episodeSince ?? now.toISOString();
  const link = made ?? usableLink(previous, now);
  return link ? { episodeSince, link } : { episodeSince };
}

/** The link as a notification carries it. */
export function payLinkOf(link: SavedLink): PayLink {
  return { url: link.url, amountCents: link.amountCents, expiresAt: link.expiresAt };
}
