/**
 * Credits that expire: how much of the balance is about to be lost, when to say so, and
 * when to read the grants again. ngrok does not say which grant is spent first; this
 * assumes oldest first (the usual rule), which gives the smallest amount at risk, so every
 * warning says "about" and names the assumption. Pure.
 */

/** A `credits` item of GET /credits/transactions, as the client parses it. */
export interface CreditGrant {
  readonly category: 'purchase' | 'promotional';
  /** What was granted, not what is left. */
  readonly amountCents: number;
  /** RFC 3339. */
  readonly createdAt: string;
  /** RFC 3339; null when the grant never expires. */
  readonly expiresAt: string | null;
}

/** The second and last warning about a grant goes out this many days before it expires. */
export const FINAL_WARNING_DAYS = 3;
const DAY_MS = 24 * 3_600_000;

export const ASSUMPTION =
  'Estimated assuming credits are spent oldest first; ngrok does not document the order.';

/** One grant and the part of the balance that still belongs to it. */
export interface GrantShare {
  readonly grant: CreditGrant;
  readonly remainingCents: number;
}

/**
 * Splits the balance over the grants that have not expired, assuming the grant that
 * expires first is spent first: the grants expiring last are still whole, and what is left
 * of the balance belongs to the earlier ones. So the part belonging to grants expiring by a
 * date is the balance minus every grant expiring after it (never-expiring ones included),
 * when that is more than zero. Balance the list cannot account for (the API lists only
 * recent rows) belongs to no grant: it is never warned about.
 */
export function shareBalance(
  balanceCents: number,
  grants: readonly CreditGrant[],
  now: Date,
): GrantShare[] {
  const live = grants.filter(
    (g) => g.expiresAt === null || Date.parse(g.expiresAt) > now.getTime(),
  );
  const expiry = (g: CreditGrant) => (g.expiresAt === null ? Infinity : Date.parse(g.expiresAt));
  const latestFirst = [...live].sort(
    (a, b) => expiry(b) - expiry(a) || Date.parse(b.createdAt) - Date.parse(a.createdAt),
  );
  let left = Math.max(0, balanceCents);
  return latestFirst.map((grant) => {
    const remainingCents = Math.min(grant.amountCents, left);
    left -= remainingCents;
    return { grant, remainingCents };
  });
}

/** Warnings already sent: [createdAt, expiresAt] in epoch seconds, and the last stage sent. */
export type WarnedGrant = readonly [createdAtSec: number, expiresAtSec: number, stage: 1 | 2];

/** What an account keeps for expiry warnings: about 45 bytes of JSON plus 26 per grant warned about. */
export interface ExpiryState {
  /** UTC date (YYYY-MM-DD) of the last transactions read, successful or not. */
  readonly readOn?: string;
  /** Grants warned about that have not expired yet. */
  readonly warned?: readonly WarnedGrant[];
}

/**
 * Whether this run reads GET /credits/transactions: once a UTC day, at the first run of the
 * day, whether the previous read worked or not (a failed read waits for the next day).
 * Never when warnings are off. The read belongs after the balance decision is published,
 * so it can never delay a balance alert.
 */
export function transactionsReadDue(
  state: ExpiryState | undefined,
  warningDays: number,
  now: Date,
): boolean {
  return warningDays > 0 && state?.readOn !== utcDate(now);
}

/** The state after a transactions read was attempted this run (successful or not). */
export function recordRead(state: ExpiryState | undefined, now: Date): ExpiryState {
  return { ...state, readOn: utcDate(now) };
}

/** One warning about one grant. */
export interface ExpiryWarning {
  readonly kind: 'credit-expiry';
  readonly account: string;
  /** The part of the balance estimated to belong to the grant. */
  readonly amountCents: number;
  readonly category: CreditGrant['category'];
  readonly createdAt: string;
  readonly expiresAt: string;
  /** The second warning, FINAL_WARNING_DAYS before expiry (or the only one, when first seen then). */
  readonly final: boolean;
  /** ISO 8601 time of the run. */
  readonly at: string;
}

export interface ExpiryInput {
  readonly account: string;
  readonly balanceCents: number;
  /** The `credits` items of a successful transactions read. */
  readonly grants: readonly CreditGrant[];
  /** Warn this many days ahead; 0 turns warnings off. */
  readonly warningDays: number;
  readonly state: ExpiryState | undefined;
  readonly now: Date;
}

/**
 * The warnings due after a successful transactions read: for each grant that expires within
 * `warningDays` and still holds part of the balance, one warning, and one more when it is
 * FINAL_WARNING_DAYS from expiry. A grant first seen inside the final days gets one.
 */
export function expiryWarnings(input: ExpiryInput): {
  warnings: ExpiryWarning[];
  state: ExpiryState;
} {
  const { now, warningDays } = input;
  const nowMs = now.getTime();
  const nowSec = Math.floor(nowMs / 1000);
  const warned = (input.state?.warned ?? []).filter(([, expiresSec]) => expiresSec > nowSec);
  const warnings: ExpiryWarning[] = [];
  // No setting check needed: with 0 days, no live grant is ever inside the window.
  for (const { grant, remainingCents } of shareBalance(input.balanceCents, input.grants, now)) {
    if (grant.expiresAt === null || remainingCents <= 0) continue;
    const daysLeft = (Date.parse(grant.expiresAt) - nowMs) / DAY_MS;
    const stage =
      daysLeft <= Math.min(FINAL_WARNING_DAYS, warningDays) ? 2 : daysLeft <= warningDays ? 1 : 0;
    if (stage === 0) continue;
    const key: [number, number] = [seconds(grant.createdAt), seconds(grant.expiresAt)];
    const index = warned.findIndex(([c, e]) => c === key[0] && e === key[1]);
    if (index >= 0 && (warned[index] as WarnedGrant)[2] >= stage) continue;
    const entry: WarnedGrant = [...key, stage];
    if (index >= 0) warned[index] = entry;
    else warned.push(entry);
    warnings.push({
      kind: 'credit-expiry',
      account: input.account,
      amountCents: remainingCents,
      category: grant.category,
      createdAt: grant.createdAt,
      expiresAt: grant.expiresAt,
      final: stage === 2,
      at: now.toISOString(),
    });
  }
  const state: ExpiryState = { ...input.state, warned: warned.length > 0 ? warned : undefined };
  return { warnings, state };
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const utcDate = (now: Date) => now.toISOString().slice(0, 10);
