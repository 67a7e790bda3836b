/**
 * The purchase decisions of auto top-up: a pure function of (settings, this run's balance
 * reading, ngrok's ledger, the stored top-up record, what ngrok just answered, now) that
 * returns the new record, the one call to make next and the notifications that go with the
 * change. No I/O and no clock of its own. The effect (run.ts) applies every decision to the
 * freshly read record inside a conditional write, so a racing run re-decides from what the
 * other one wrote instead of overwriting it.
 *
 * What keeps the money safe:
 * - An intent before every purchase. A purchase starts as an intent in the record (amount
 *   and an Idempotency-Key made from the record's own epoch and sequence number, never from
 *   ngrok's lists). The conditional write lets exactly one run create it; every other run
 *   finds it and follows it. A POST only ever sends the key of a stored intent.
 * - Unknown means charged. An intent counts against the cap from the moment it is written
 *   until ngrok shows how it ended: a purchase record (the POST's answer, a replay of its
 *   key, a status read) that failed, or one that succeeded and whose grant ngrok had time to
 *   list (HOLD_MS after the success was seen). No timer releases an intent whose outcome is unknown; it is resent with its key
 *   (which replays it if it landed) until ngrok answers.
 * - The cap. A new purchase needs: every purchase grant ngrok lists for the month + every
 *   intent of this monitor that may have charged (counted in every month its grant could be
 *   dated in, see `monthTotals`) + the amount ≤ the cap, for every month from `now` less the
 *   clock skew to `now` plus the skew and a run's length. A succeeded intent counts until ngrok has had the time to list its grant.
 * - One at a time. No new intent while one of ours, or a purchase ngrok said is in progress,
 *   is unresolved; after a success, none until the balance shows the credit (or an hour).
 * - Lost or unreadable records hold. A record that is missing or fails validation starts a
 *   new epoch (so no old key is reused) and holds every new purchase for HOLD_MS, longer than
 *   ngrok takes to list the grant of any purchase that ended before the loss. A purchase
 *   unresolved at the loss blocks new ones at ngrok (409 `purchase_in_progress`) and is
 *   counted once its status is read.
 */
import { formatCents } from '../../common/money.ts';

/** One account's auto top-up settings (validated at synth by the configuration contract; see `topUpSettingsFor`). */
export interface TopUpSettings {
  /** One purchase, in cents (`autoTopUpCents`). */
  readonly amountCents: number;
  /** The most this monitor may buy per UTC calendar month (`autoTopUpMonthlyCapCents`). */
  readonly monthlyCapCents: number;
  /** Buy when a successful check reads a balance below this (`autoTopUpBelowCents`). */
  readonly belowCents: number;
  /** Announce what would be bought, never buy (`autoTopUpDryRun`). */
  readonly dryRun: boolean;
}

/** One credit grant from GET /credits/transactions (`type: credits`). */
export interface LedgerPurchase {
  /** Negative for a refund row. */
  readonly amountCents: number;
  /** RFC 3339. */
  readonly createdAt: string;
  /** Absent: a purchase (older callers listed purchases only). */
  readonly category?: 'purchase' | 'promotional';
}

/**
 * What ngrok's ledger says, read this run. `readable: false` when the call failed, was not
 * made, or the list may be missing some grants of the months that matter (cut at 100 rows).
 */
export type LedgerFacts =
  | { readonly readable: true; readonly purchases: readonly LedgerPurchase[] }
  | { readonly readable: false };

/** A purchase record as POST or GET /credits/purchases returns it. */
export interface PurchaseRecord {
  readonly id: string;
  readonly status: 'pending' | 'actionRequired' | 'succeeded' | 'failed';
  readonly amountCents: number;
  /** RFC 3339, ngrok's clock; absent when the body had none. */
  readonly createdAt?: string;
  readonly failureCode?: string;
  readonly failureMessage?: string;
}

/** Why buying stopped until the configuration changes or a purchase is made by hand. */
export type StopReason =
  | 'failures'
  | 'no_default_payment_method'
  | 'metronome_not_provisioned'
  | 'billing_disabled';

/** What one POST or GET of a purchase answered. */
export type PurchaseReport =
  /** POST or GET answered with the purchase. */
  | { readonly kind: 'purchase'; readonly purchase: PurchaseRecord }
  /** 400 that no retry fixes: the account cannot buy this way. */
  | { readonly kind: 'refused'; readonly reason: Exclude<StopReason, 'failures'> }
  /**
   * 409: `idempotency_key_reuse` (the key already names this purchase) or
   * `purchase_in_progress` (another purchase is unresolved; this request started nothing).
   */
  | {
      readonly kind: 'follow';
      readonly purchaseId: string;
      readonly reason: 'idempotency_key_reuse' | 'purchase_in_progress';
    }
  /** 429: this request was not charged, but an earlier send of the key may have been. */
  | { readonly kind: 'rate-limited' }
  /** 5xx, timeouts, network errors after the client's retries: outcome unknown. */
  | { readonly kind: 'unavailable'; readonly message: string }
  /** Any other refusal (another 4xx): this request started nothing. */
  | { readonly kind: 'rejected'; readonly message: string };

/** Where a purchase stands as far as this monitor knows. `open`: no answer from ngrok yet. */
export type Phase = 'open' | 'pending' | 'actionRequired' | 'succeeded' | 'failed';

/** Which of a purchase's notifications were written to the outbox (each at most once). */
export interface Told {
  readonly started?: true;
  readonly action?: true;
  readonly slow?: true;
  readonly unanswered?: true;
  readonly succeeded?: true;
}

/** A purchase this monitor decided to make, written before its first POST. */
export interface Intent {
  /** `epoch-seq`, unique within the record's epoch. */
  readonly id: string;
  /** The Idempotency-Key every POST of this intent sends. */
  readonly key: string;
  readonly amountCents: number;
  /** The run that wrote it. */
  readonly by: string;
  /** ISO 8601, the monitor's clock. */
  readonly createdAt: string;
  /** The balance read when it was decided, so its credit can be recognised. */
  readonly balanceBeforeCents: number;
  readonly phase: Phase;
  readonly purchaseId?: string;
  /** ngrok's start time of the purchase. */
  readonly ngrokCreatedAt?: string;
  /** The monitor's clock when a read first showed it succeeded. */
  readonly succeededAt?: string;
  /** Since when every send or read about it went unanswered (cleared by an answer). */
  readonly unansweredSince?: string;
  /**
   * The last send was refused before anything started (409 `purchase_in_progress`, a 400):
   * ngrok had no purchase for its key then, so it is sent again only if a new purchase
   * would be decided now.
   */
  readonly blocked?: true;
  readonly told: Told;
}

/** A purchase ngrok named in a 409 `purchase_in_progress` that is not this monitor's. */
export interface Foreign {
  readonly purchaseId: string;
  /** ISO 8601, when it was first named. */
  readonly seenAt: string;
  readonly phase: Phase;
  readonly amountCents?: number;
  /** ngrok's start time of it, once read. */
  readonly createdAt?: string;
  readonly succeededAt?: string;
}

/** A purchase that is settled and no longer counted: kept a while so late answers are ignored. */
export interface Settled {
  readonly id: string;
  readonly purchaseId?: string;
  readonly at: string;
}

/** Auto top-up's part of an account's record. */
export interface TopUpState {
  /** Chosen when the record is (re)started: keys of a lost record are never made again. */
  readonly epoch: string;
  /** The last intent number used in this epoch. */
  readonly seq: number;
  readonly intents: readonly Intent[];
  readonly foreign: readonly Foreign[];
  readonly settled: readonly Settled[];
  /** ISO 8601: no new purchase before this (the record was started or found unreadable). */
  readonly holdUntil?: string;
  /** Failed purchases in a row. */
  readonly failures: number;
  readonly stopped?: {
    readonly reason: StopReason;
    /** `configFingerprint` of the settings that were stopped: a change resumes. */
    readonly config: string;
    /** ISO 8601; a purchase grant in the ledger after it (bought by hand) resumes. */
    readonly at: string;
  };
  /** The month whose cap refusal was announced (once per month). */
  readonly cappedMonth?: string;
  /** A dry run announced its purchase for the current low spell. */
  readonly dryRunNoticed?: true;
}

export const TOP_UP_NOTIFICATION_KINDS = [
  'top-up-started',
  'top-up-succeeded',
  'top-up-failed',
  'top-up-action-required',
  'top-up-pending-long',
  'top-up-capped',
  'top-up-stopped',
  'top-up-dry-run',
] as const;
export type TopUpNotificationKind = (typeof TOP_UP_NOTIFICATION_KINDS)[number];

/** Everything a renderer needs to describe one top-up event. */
export interface TopUpNotification {
  readonly kind: TopUpNotificationKind;
  readonly account: string;
  /** The purchase's amount (or the one a dry run or the cap held back). */
  readonly amountCents: number;
  readonly balanceCents?: number;
  readonly purchaseId?: string;
  /** The month's purchases as the cap counts them, and the cap. */
  readonly monthTotalCents?: number;
  readonly capCents: number;
  /** ngrok's decline code and message (`top-up-failed`), or why nothing is known yet. */
  readonly failureCode?: string;
  readonly failureMessage?: string;
  readonly consecutiveFailures?: number;
  /** For `top-up-stopped`. */
  readonly stopReason?: StopReason;
  /** ISO 8601. */
  readonly at: string;
}

/** What ngrok answered to the previous step's call. */
export type TopUpReport =
  | {
      readonly kind: 'sent';
      readonly key: string;
      readonly amountCents: number;
      readonly result: PurchaseReport;
    }
  | { readonly kind: 'read'; readonly purchaseId: string; readonly result: PurchaseReport };

export interface TopUpInput {
  /** Label used in notifications. */
  readonly account: string;
  readonly settings: TopUpSettings;
  /** This run's balance reading; undefined when it failed. */
  readonly balanceCents: number | undefined;
  readonly ledger: LedgerFacts;
  /** Whether `ledger` was read this run (a decision that needs it asks for it). */
  readonly ledgerRead: boolean;
  /** The stored top-up part, unvalidated: undefined when none was stored. */
  readonly state: unknown;
  readonly report?: TopUpReport;
  /** The run's id: names the intents it writes and seeds a new epoch. */
  readonly runId: string;
  readonly now: Date;
  /**
   * A person asked for one purchase now (the "Buy now" command): the balance need not be
   * below `belowCents`; every other condition (stop, failures, hold, the cap by ngrok's
   * ledger, a purchase in progress, dry run) applies as to an automatic purchase.
   */
  readonly requested?: boolean;
}

export type TopUpAction =
  | { readonly kind: 'none' }
  /** Read GET /credits/transactions, then decide again. */
  | { readonly kind: 'ledger' }
  /** POST /credits/purchases with the intent's key and amount. */
  | {
      readonly kind: 'send';
      readonly key: string;
      readonly amountCents: number;
    }
  /** GET /credits/purchases/{id}. */
  | { readonly kind: 'read'; readonly purchaseId: string };

export interface TopUpDecision {
  readonly state: TopUpState;
  readonly action: TopUpAction;
  readonly notifications: readonly TopUpNotification[];
  /** One line for low-balance alerts: what auto top-up is doing. */
  readonly status: string;
  /** The stored record was missing or unreadable and was started again. */
  readonly restarted: boolean;
}

/** Failed purchases in a row after which buying stops. */
export const MAX_CONSECUTIVE_FAILURES = 3;
/** After a success, wait this long (or for the balance to show the credit) before buying again. */
export const COOL_DOWN_MS = 60 * 60 * 1000;
/** How far the monitor's clock and ngrok's may differ. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/**
 * The longest a run lasts (Lambda's limit). A run decides with the time it started, so
 * what it sees can be this much later than its `now`.
 */
export const RUN_MAX_MS = 15 * 60 * 1000;
/** How far a run's `now` may be from ngrok's time of what it saw. */
const SLACK_MS = CLOCK_SKEW_MS + RUN_MAX_MS;
/**
 * A balance read this long after a success was seen shows its credit: ngrok's balance lags
 * a little (minutes), and the run that saw it and this one may each be off by SLACK_MS.
 */
export const CREDIT_SHOWS_MS = 30 * 60 * 1000;
/** ngrok lists a grant at most this long after its purchase succeeded (assumed). */
export const LEDGER_LAG_MAX_MS = 24 * 60 * 60 * 1000;
/**
 * A succeeded purchase counts this long after its success was seen, and a new or unreadable
 * record holds purchases this long: ngrok has listed every earlier grant by then.
 */
export const HOLD_MS = LEDGER_LAG_MAX_MS + CLOCK_SKEW_MS + SLACK_MS;
/** A purchase pending this long, or unanswered this long, gets one notification. */
export const PENDING_NOTICE_MS = 60 * 60 * 1000;
/** Settled purchases are remembered this long, so a late answer about one is ignored. */
export const SETTLED_KEEP_MS = 40 * 24 * 60 * 60 * 1000;
/** Prefix of every key this monitor sends, so its purchases can be told apart at ngrok. */
export const KEY_PREFIX = 'ngrok-balance-alert';
/** ngrok's largest purchase. */
const MAX_PURCHASE_CENTS = 50_000;

/** The UTC calendar month of a time, `YYYY-MM`. */
export function utcMonth(time: Date | number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** The range of a JavaScript date: a time past it is taken at its end. */
const TIME_LIMIT_MS = 8.64e15;

/**
 * A UTC calendar month as one number (year × 12 + month), ordered as time is; a time
 * beyond the range of dates is taken at its end, not as no month.
 */
export function monthIndex(time: number): number {
  const d = new Date(Math.min(Math.max(time, -TIME_LIMIT_MS), TIME_LIMIT_MS));
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** The Idempotency-Key of intent `seq` of `epoch`. */
export function idempotencyKey(epoch: string, seq: number): string {
  return `${KEY_PREFIX}-${epoch}-${seq}`;
}

/** The settings that a stop applies to: changing any of them resumes buying. */
export function configFingerprint(settings: TopUpSettings): string {
  return [
    settings.amountCents,
    settings.monthlyCapCents,
    settings.belowCents,
    settings.dryRun,
  ].join('/');
}

/** A record with nothing in it, holding purchases until `holdUntil` (undefined: no hold). */
export function freshTopUpState(epoch: string, holdUntil?: Date): TopUpState {
  return {
    epoch,
    seq: 0,
    intents: [],
    foreign: [],
    settled: [],
    failures: 0,
    ...(holdUntil && { holdUntil: holdUntil.toISOString() }),
  };
}

/** A new epoch from the run's id and clock: letters and digits only, at most 40. */
export function newEpoch(runId: string, now: Date): string {
  const id = runId.toLowerCase().replace(/[^a-z0-9]/g, '');
  return `${now.getTime().toString(36)}${id}`.slice(0, 40);
}

const STOP_TEXT: Record<StopReason, string> = {
  failures: `${MAX_CONSECUTIVE_FAILURES} purchases failed in a row`,
  no_default_payment_method: 'no saved card',
  metronome_not_provisioned: 'this account cannot buy credits by API',
  billing_disabled: 'credit billing is disabled for this account',
};

/** How an answer that says nothing of the purchase reads in the "not answering" notice. */
function noAnswerText(result: Exclude<PurchaseReport, { kind: 'purchase' }>): string {
  switch (result.kind) {
    case 'rate-limited':
      return 'ngrok asked to wait';
    case 'unavailable':
    case 'rejected':
      return result.message;
    case 'refused':
      return STOP_TEXT[result.reason];
    case 'follow':
      return `ngrok named purchase ${result.purchaseId}`;
  }
}

const UNRESOLVED: readonly Phase[] = ['open', 'pending', 'actionRequired'];
const ORDER: Record<Phase, number> = {
  open: 0,
  pending: 1,
  actionRequired: 1,
  succeeded: 2,
  failed: 2,
};

/** Decides one step of a run from the freshly read record. */
export function decideTopUp(input: TopUpInput): TopUpDecision {
  const step = new Step(input);
  if (input.report) step.apply(input.report);
  step.tidy();
  step.plan();
  return step.result();
}

/**
 * The stored top-up part if it is well-formed and within what this monitor could have
 * written, else undefined (then the record is treated as lost). Anything odd fails: a
 * stored value may make the monitor more careful, never less.
 */
export function readTopUpState(value: unknown): TopUpState | undefined {
  if (!isObject(value)) return undefined;
  const s = value;
  const ok =
    typeof s.epoch === 'string' &&
    /^[a-z0-9]{1,40}$/.test(s.epoch) &&
    isCount(s.seq) &&
    isCount(s.failures) &&
    Array.isArray(s.intents) &&
    s.intents.every(isIntent) &&
    Array.isArray(s.foreign) &&
    s.foreign.every(isForeign) &&
    Array.isArray(s.settled) &&
    s.settled.every(isSettled) &&
    optional(s.holdUntil, isTime) &&
    optional(s.cappedMonth, (m) => typeof m === 'string') &&
    optional(s.dryRunNoticed, (d) => d === true) &&
    optional(
      s.stopped,
      (t) =>
        isObject(t) &&
        typeof t.reason === 'string' &&
        t.reason in STOP_TEXT &&
        typeof t.config === 'string' &&
        isTime(t.at),
    );
  if (!ok) return undefined;
  // An intent numbered past the sequence would have its key made again.
  const epoch = s.epoch as string;
  const pastSeq = (s.intents as Intent[]).some(
    (i) => i.id.startsWith(`${epoch}-`) && Number(i.id.slice(epoch.length + 1)) > (s.seq as number),
  );
  return pastSeq ? undefined : (value as unknown as TopUpState);
}

function isIntent(value: unknown): boolean {
  if (!isObject(value)) return false;
  const i = value;
  return (
    typeof i.id === 'string' &&
    i.id.length <= 80 &&
    typeof i.key === 'string' &&
    /^[\x21-\x7e]{1,255}$/.test(i.key) &&
    isAmount(i.amountCents) &&
    typeof i.by === 'string' &&
    isTime(i.createdAt) &&
    Number.isSafeInteger(i.balanceBeforeCents) &&
    typeof i.phase === 'string' &&
    i.phase in ORDER &&
    optional(i.purchaseId, (p) => typeof p === 'string' && p !== '') &&
    optional(i.ngrokCreatedAt, isTime) &&
    optional(i.succeededAt, isTime) &&
    optional(i.unansweredSince, isTime) &&
    optional(i.blocked, (b) => b === true) &&
    (i.phase !== 'succeeded' || isTime(i.succeededAt)) &&
    isObject(i.told)
  );
}

function isForeign(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.purchaseId === 'string' &&
    isTime(value.seenAt) &&
    typeof value.phase === 'string' &&
    value.phase in ORDER &&
    optional(value.amountCents, isAmount) &&
    optional(value.createdAt, isTime) &&
    optional(value.succeededAt, isTime)
  );
}

function isSettled(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    optional(value.purchaseId, (p) => typeof p === 'string') &&
    isTime(value.at)
  );
}

function isAmount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_PURCHASE_CENTS;
}

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isTime(v: unknown): boolean {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

function optional(v: unknown, check: (v: unknown) => boolean): boolean {
  return v === undefined || check(v);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A purchase that may have charged and is counted against the cap. */
interface Counted {
  readonly amountCents: number;
  /** Earliest time its grant could be dated (ngrok's clock, skew applied). */
  readonly from: number;
  /** Latest time its grant could be dated. */
  readonly to: number;
}

/**
 * The totals the cap compares against, one per month of `months` (`monthIndex`): ngrok's
 * purchase grants dated in it, plus every purchase of this monitor (or one ngrok named as in
 * progress) that may have charged and whose `from`..`to` reaches it (taken the other way
 * round when `to` is earlier: more careful). Only the months asked for are added up: no
 * date, however far off, makes a decision loop.
 *
 * A listed grant is never taken as one of these purchases' own: nothing in a grant names
 * its purchase, and a purchase by hand of the same amount, listed while this monitor's own
 * grant still lags, would be taken for it. So a succeeded purchase counts twice (itself and
 * its grant) until ngrok has had the time to list it (HOLD_MS): more careful, never less.
 */
export function monthTotals(
  grants: readonly LedgerPurchase[],
  counted: readonly Counted[],
  months: readonly number[],
): number[] {
  const sum = (items: readonly { amountCents: number }[]) =>
    items.reduce((total, i) => total + i.amountCents, 0);
  return months.map(
    (m) =>
      sum(grants.filter((g) => isPurchaseGrant(g) && monthIndex(Date.parse(g.createdAt)) === m)) +
      sum(
        counted.filter((c) => {
          const [a, b] = [monthIndex(c.from), monthIndex(c.to)];
          // Not a time at all: every month.
          return Number.isNaN(a + b) || (Math.min(a, b) <= m && m <= Math.max(a, b));
        }),
      ),
  );
}

/** A grant that was bought: not a promotion, not a refund row. */
function isPurchaseGrant(g: LedgerPurchase): boolean {
  return g.category !== 'promotional' && g.amountCents > 0;
}

/** The mutable working copy of one step's decision. */
class Step {
  state: TopUpState;
  action: TopUpAction = { kind: 'none' };
  readonly notifications: TopUpNotification[] = [];
  status = '';
  readonly restarted: boolean;
  readonly at: string;
  readonly now: number;
  /** This step's call went unanswered or a purchase failed: nothing more this run. */
  quiet = false;

  constructor(readonly input: TopUpInput) {
    this.at = input.now.toISOString();
    this.now = input.now.getTime();
    const stored = readTopUpState(input.state);
    this.restarted = stored === undefined;
    this.state =
      stored ?? freshTopUpState(newEpoch(input.runId, input.now), new Date(this.now + HOLD_MS));
  }

  result(): TopUpDecision {
    return {
      state: this.state,
      action: this.action,
      notifications: this.notifications,
      status: this.status,
      restarted: this.restarted,
    };
  }

  notify(kind: TopUpNotificationKind, fields: Partial<TopUpNotification> = {}): void {
    const { account, settings } = this.input;
    this.notifications.push({
      kind,
      account,
      amountCents: settings.amountCents,
      capCents: settings.monthlyCapCents,
      at: this.at,
      ...fields,
    });
  }

  set(patch: Partial<TopUpState>): void {
    this.state = { ...this.state, ...patch };
  }

  without(...fields: ('holdUntil' | 'stopped' | 'dryRunNoticed' | 'cappedMonth')[]): void {
    const next: Record<string, unknown> = { ...this.state };
    for (const f of fields) delete next[f];
    this.state = next as unknown as TopUpState;
  }

  replaceIntent(intent: Intent): void {
    this.set({ intents: this.state.intents.map((i) => (i.id === intent.id ? intent : i)) });
  }

  // ---- What ngrok answered ----------------------------------------------------------

  apply(report: TopUpReport): void {
    if (report.kind === 'sent') this.applySent(report);
    else this.applyRead(report.purchaseId, report.result);
  }

  applySent(report: Extract<TopUpReport, { kind: 'sent' }>): void {
    const { result } = report;
    // The key names the purchase at ngrok, whichever intent holds it now.
    let intent = this.state.intents.find((i) => i.key === report.key);
    if (!intent) {
      // The record lost the intent (wiped, rolled back, restarted) while its POST was out:
      // a purchase it names is this monitor's and must be counted again.
      if (result.kind !== 'purchase' || this.isKnownPurchase(result.purchase.id)) return;
      intent = {
        id: `${this.state.epoch}-r${this.state.seq + 1}`,
        key: report.key,
        // `learn` below raises it to ngrok's amount when that is larger.
        amountCents: report.amountCents,
        by: this.input.runId,
        createdAt: this.at,
        balanceBeforeCents: this.input.balanceCents ?? 0,
        phase: 'open',
        told: {},
      };
      this.set({ seq: this.state.seq + 1, intents: [...this.state.intents, intent] });
    }
    switch (result.kind) {
      case 'purchase':
        this.learn(intent, result.purchase);
        return;
      case 'follow':
        if (
          result.reason === 'idempotency_key_reuse' ||
          this.ownerOf(result.purchaseId) === intent
        ) {
          // The key already names this purchase: it is this intent's, whatever its amount.
          if (intent.purchaseId === undefined) {
            this.replaceIntent({ ...intent, purchaseId: result.purchaseId, phase: 'pending' });
          }
          return;
        }
        // Another purchase is unresolved at ngrok; this request started nothing. Never
        // adopted: it is watched (counted once it shows its amount) but not announced.
        this.refused(intent);
        if (!this.ownerOf(result.purchaseId) && !this.foreignOf(result.purchaseId)) {
          this.set({
            foreign: [
              ...this.state.foreign,
              { purchaseId: result.purchaseId, seenAt: this.at, phase: 'open' },
            ],
          });
        }
        return;
      case 'refused':
        this.refused(intent);
        this.stop(result.reason, intent.amountCents);
        return;
      case 'rate-limited':
      case 'unavailable':
      case 'rejected':
        // An earlier send may have landed: the intent stays, counted, and is sent again.
        this.unanswered(intent, result);
        return;
      default:
        assertNever(result);
    }
  }

  applyRead(purchaseId: string, result: PurchaseReport): void {
    const intent = this.ownerOf(purchaseId);
    if (intent) {
      if (result.kind === 'purchase') this.learn(intent, result.purchase);
      else this.unanswered(intent, result);
      return;
    }
    const foreign = this.foreignOf(purchaseId);
    if (!foreign) return;
    if (result.kind !== 'purchase' || result.purchase.id !== purchaseId) {
      this.quiet = true;
      return;
    }
    const p = result.purchase;
    if (UNRESOLVED.includes(p.status)) this.quiet = true;
    if (ORDER[p.status] < ORDER[foreign.phase]) return;
    const next: Foreign = {
      ...foreign,
      phase: p.status,
      amountCents: p.amountCents >= 1 ? Math.min(p.amountCents, MAX_PURCHASE_CENTS) : undefined,
      ...(p.createdAt && isTime(p.createdAt) && { createdAt: p.createdAt }),
      ...(p.status === 'succeeded' && { succeededAt: foreign.succeededAt ?? this.at }),
    };
    this.set({
      foreign: this.state.foreign.map((f) => (f.purchaseId === purchaseId ? next : f)),
    });
  }

  /** A purchase record about one of this monitor's intents: move it on, announce once. */
  learn(intent: Intent, p: PurchaseRecord): void {
    if (intent.purchaseId !== undefined && intent.purchaseId !== p.id) return;
    const told = { ...intent.told };
    let next: Intent = {
      ...intent,
      purchaseId: p.id,
      ...(p.createdAt && !intent.ngrokCreatedAt && { ngrokCreatedAt: p.createdAt }),
      // ngrok's amount wins when it is larger: the cap then counts what was charged.
      amountCents: Math.min(Math.max(intent.amountCents, p.amountCents), MAX_PURCHASE_CENTS),
    };
    const { unansweredSince: _answered, blocked: _started, ...rest } = next;
    next = rest;
    if (ORDER[p.status] >= ORDER[intent.phase]) next = { ...next, phase: p.status };
    // Still unresolved: the next run reads it again (ngrok moves it on its own time).
    if (UNRESOLVED.includes(next.phase)) this.quiet = true;
    const fields = { amountCents: p.amountCents, purchaseId: p.id };
    if (!told.started) {
      told.started = true;
      this.notify('top-up-started', { ...fields, balanceCents: intent.balanceBeforeCents });
    }
    if (next.phase === 'actionRequired' && !told.action) {
      told.action = true;
      this.notify('top-up-action-required', fields);
    }
    // One "taking long" notice per purchase: ngrok slow to settle it, or not answering.
    if (next.phase === 'pending' && !told.slow && !told.unanswered) {
      const started = Date.parse(next.ngrokCreatedAt ?? next.createdAt);
      if (this.now - started >= PENDING_NOTICE_MS) {
        told.slow = true;
        this.notify('top-up-pending-long', fields);
      }
    }
    if (next.phase === 'succeeded') {
      next = { ...next, succeededAt: next.succeededAt ?? this.at };
      if (!told.succeeded) {
        told.succeeded = true;
        this.set({ failures: 0 });
        this.notify('top-up-succeeded', fields);
      }
    }
    // A failed purchase is settled by this same decision (`tidy`): announced once.
    if (next.phase === 'failed') {
      this.quiet = true;
      const failures = this.state.failures + 1;
      this.set({ failures });
      this.notify('top-up-failed', {
        ...fields,
        failureCode: p.failureCode,
        failureMessage: p.failureMessage,
        consecutiveFailures: failures,
      });
      if (failures >= MAX_CONSECUTIVE_FAILURES) this.stop('failures', p.amountCents);
    }
    this.replaceIntent({ ...next, told });
  }

  /** A send refused before anything started: no purchase has its key (see `blocked`). */
  refused(intent: Intent): void {
    const { unansweredSince: _answered, ...rest } = intent;
    this.replaceIntent({ ...rest, blocked: true });
  }

  /** No answer about an intent: after an hour of that, one notice; it is followed on. */
  unanswered(intent: Intent, result: Exclude<PurchaseReport, { kind: 'purchase' }>): void {
    this.quiet = true;
    const since = intent.unansweredSince ?? this.at;
    let told = intent.told;
    if (!told.unanswered && !told.slow && this.now - Date.parse(since) >= PENDING_NOTICE_MS) {
      told = { ...told, unanswered: true };
      this.notify('top-up-pending-long', {
        amountCents: intent.amountCents,
        purchaseId: intent.purchaseId,
        failureMessage: `ngrok has not said how this purchase ended since ${since.slice(0, 16)}Z (${noAnswerText(result).slice(0, 120)}); auto top-up keeps asking and counts it as bought meanwhile`,
      });
    }
    // It may have landed: no longer known to be unused.
    const { blocked: _unknown, ...rest } = intent;
    this.replaceIntent({ ...rest, unansweredSince: since, told });
  }

  stop(reason: StopReason, amountCents: number): void {
    if (this.state.stopped) return;
    this.set({
      stopped: { reason, config: configFingerprint(this.input.settings), at: this.at },
    });
    this.notify('top-up-stopped', { amountCents, stopReason: reason });
  }

  ownerOf(purchaseId: string): Intent | undefined {
    return this.state.intents.find((i) => i.purchaseId === purchaseId);
  }

  foreignOf(purchaseId: string): Foreign | undefined {
    return this.state.foreign.find((f) => f.purchaseId === purchaseId);
  }

  isKnownPurchase(purchaseId: string): boolean {
    return (
      this.ownerOf(purchaseId) !== undefined ||
      this.state.settled.some((s) => s.purchaseId === purchaseId)
    );
  }

  // ---- Housekeeping ---------------------------------------------------------------------

  /**
   * Settles what no longer counts: failed purchases (announced), and succeeded ones whose
   * grant ngrok had time to list. Unresolved purchases stay, whatever their age.
   */
  tidy(): void {
    // A failure is announced in the write that records it; a success counts until ngrok
    // had the time to list its grant.
    const done = (p: { phase: Phase; succeededAt?: string }) =>
      p.phase === 'failed' || (p.phase === 'succeeded' && this.sinceSuccess(p) >= HOLD_MS);
    const keep = (s: Settled) => this.now - Date.parse(s.at) < SETTLED_KEEP_MS;
    this.set({
      intents: this.state.intents.filter((i) => !done(i)),
      foreign: this.state.foreign.filter((f) => !done(f)),
      settled: [
        ...this.state.settled.filter(keep),
        ...this.state.intents
          .filter(done)
          .map((i) => ({ id: i.id, purchaseId: i.purchaseId, at: this.at })),
      ],
    });
  }

  /** How long ago a read first showed it succeeded (0 when it has not). */
  sinceSuccess(p: { succeededAt?: string }): number {
    return this.now - Date.parse(p.succeededAt ?? this.at);
  }

  // ---- What to do next -------------------------------------------------------------------

  plan(): void {
    const { settings } = this.input;
    this.liftStop();
    const unresolved = this.state.intents.find((i) => UNRESOLVED.includes(i.phase));
    const foreign = this.state.foreign.find((f) => UNRESOLVED.includes(f.phase));
    if (unresolved?.blocked && unresolved.purchaseId === undefined && !foreign) {
      // Known unused at ngrok: sent again only if it would be decided now.
      if (this.mayBuy(unresolved.amountCents, unresolved)) this.send(unresolved);
      return;
    }
    if (unresolved) {
      this.follow(unresolved, foreign);
      return;
    }
    if (foreign) {
      if (!this.quiet) this.action = { kind: 'read', purchaseId: foreign.purchaseId };
      this.status =
        "auto top-up: waiting, a purchase is in progress at ngrok (not one of auto top-up's)";
      return;
    }
    const amountCents = settings.amountCents;
    const balance = this.input.balanceCents;
    if (!this.mayBuy(amountCents) || balance === undefined) return;
    const seq = this.state.seq + 1;
    const intent: Intent = {
      id: `${this.state.epoch}-${seq}`,
      key: idempotencyKey(this.state.epoch, seq),
      amountCents,
      by: this.input.runId,
      createdAt: this.at,
      balanceBeforeCents: balance,
      phase: 'open',
      told: {},
    };
    this.set({ seq, intents: [...this.state.intents, intent] });
    this.send(intent);
  }

  send(intent: Intent): void {
    this.action = {
      kind: 'send',
      key: intent.key,
      amountCents: intent.amountCents,
    };
    this.status = `auto top-up: buying ${formatCents(intent.amountCents)}`;
  }

  /**
   * Whether a purchase of `amountCents` may start now (`pending`: an intent already written,
   * counted once). Sets the status, and the notices a refusal owes, when it may not.
   */
  mayBuy(amountCents: number, pending?: Intent): boolean {
    const { settings } = this.input;
    const balance = this.input.balanceCents;
    if (balance === undefined) {
      this.status = 'auto top-up: not buying, the balance could not be read';
      return false;
    }
    if (balance >= settings.belowCents && !this.input.requested) {
      this.without('dryRunNoticed');
      this.status = `auto top-up: not needed above ${formatCents(settings.belowCents)}`;
      return false;
    }
    const { stopped } = this.state;
    if (stopped) {
      this.status = `auto top-up stopped: ${STOP_TEXT[stopped.reason]}`;
      return false;
    }
    if (this.quiet) {
      this.status = 'auto top-up: the last purchase failed, trying again on a later run';
      return false;
    }
    const { holdUntil } = this.state;
    if (holdUntil !== undefined) {
      if (this.now < Date.parse(holdUntil)) {
        this.status =
          `auto top-up: waiting until ${holdUntil.slice(0, 16)}Z: its purchase records were ` +
          "started afresh, and a purchase made before may not show in ngrok's list yet";
        return false;
      }
      this.without('holdUntil');
    }
    const last = this.lastSuccess();
    if (last && !this.creditShows(last, balance)) {
      this.status = `auto top-up: bought ${formatCents(last.amountCents)}, waiting for the balance to show it`;
      return false;
    }
    if (!this.input.ledgerRead) {
      this.action = { kind: 'ledger' };
      this.status = "auto top-up: reading ngrok's purchase history";
      return false;
    }
    const { ledger } = this.input;
    if (!ledger.readable) {
      this.status = "auto top-up: not buying, ngrok's purchase history could not be read";
      return false;
    }
    // Near a month's end the new purchase's grant may be dated in either month: it must fit both.
    const months = [monthIndex(this.now - CLOCK_SKEW_MS), monthIndex(this.now + SLACK_MS)];
    const total = Math.max(...monthTotals(ledger.purchases, this.counted(pending), months));
    if (total + amountCents > settings.monthlyCapCents) {
      this.status = `auto top-up: blocked by the monthly cap (${formatCents(total)} of ${formatCents(settings.monthlyCapCents)} bought)`;
      const month = utcMonth(this.now);
      if (this.state.cappedMonth !== month) {
        this.notify('top-up-capped', { monthTotalCents: total, balanceCents: balance });
        this.set({ cappedMonth: month });
      }
      return false;
    }
    if (settings.dryRun) {
      this.status = `auto top-up dry run: would buy ${formatCents(amountCents)}`;
      if (!this.state.dryRunNoticed) {
        this.notify('top-up-dry-run', { balanceCents: balance, monthTotalCents: total });
        this.set({ dryRunNoticed: true });
      }
      return false;
    }
    return true;
  }

  /** The next call about an unresolved intent of ours. */
  follow(intent: Intent, foreign: Foreign | undefined): void {
    const amount = formatCents(intent.amountCents);
    if (intent.purchaseId !== undefined) {
      if (!this.quiet) this.action = { kind: 'read', purchaseId: intent.purchaseId };
      this.status =
        intent.phase === 'actionRequired'
          ? `auto top-up: ${amount} waiting for the payment to be confirmed at app.ngrok.ai`
          : `auto top-up: ${amount} started, waiting for it`;
      return;
    }
    if (foreign) {
      // Resending now would only be refused: see how the other purchase ends first.
      if (!this.quiet) this.action = { kind: 'read', purchaseId: foreign.purchaseId };
      this.status = `auto top-up: ${amount} to buy, waiting: a purchase is in progress at ngrok (not one of auto top-up's)`;
      return;
    }
    if (this.state.stopped || this.input.settings.dryRun || this.quiet) {
      // Not sent again now (stopped, a dry run never sends, or it just went unanswered);
      // it stays counted until ngrok says how it ended.
      this.status = this.state.stopped
        ? `auto top-up stopped: ${STOP_TEXT[this.state.stopped.reason]} (${amount} requested earlier, counted until ngrok says how it ended)`
        : `auto top-up: ${amount} requested, waiting for ngrok's answer`;
      return;
    }
    // No answer yet: the same key again replays the purchase if it landed, else starts it.
    this.action = {
      kind: 'send',
      key: intent.key,
      amountCents: intent.amountCents,
    };
    this.status = `auto top-up: ${amount} requested, waiting for ngrok's answer`;
  }

  /** Lifts a stop after a configuration change or a purchase bought by hand since. */
  liftStop(): void {
    const { stopped } = this.state;
    if (!stopped) return;
    const { ledger, settings } = this.input;
    const boughtByHand =
      ledger.readable &&
      ledger.purchases.some(
        (p) =>
          isPurchaseGrant(p) &&
          Date.parse(p.createdAt) > Date.parse(stopped.at) + CLOCK_SKEW_MS &&
          !this.couldBeOurs(p),
      );
    if (boughtByHand || stopped.config !== configFingerprint(settings)) {
      this.without('stopped');
      this.set({ failures: 0 });
    }
  }

  couldBeOurs(grant: LedgerPurchase): boolean {
    const at = Date.parse(grant.createdAt);
    return this.counted().some(
      (c) => c.amountCents === grant.amountCents && at >= c.from && at <= c.to,
    );
  }

  /** Every purchase that may have charged and is not settled, as the cap counts it. */
  counted(except?: Intent): Counted[] {
    // Failed purchases were settled by `tidy`; a purchase by hand whose amount ngrok has not
    // said counts nothing yet (while it is unresolved, no purchase starts anyway).
    const own = this.state.intents
      .filter((i) => i.id !== except?.id)
      .map((i) => ({
        amountCents: i.amountCents,
        from:
          Math.min(Date.parse(i.createdAt), Date.parse(i.ngrokCreatedAt ?? i.createdAt)) -
          CLOCK_SKEW_MS,
        to: this.latestGrant(i),
      }));
    const other = this.state.foreign.map((f) => ({
      amountCents: f.amountCents ?? 0,
      from: Date.parse(f.createdAt ?? f.seenAt) - (f.createdAt ? CLOCK_SKEW_MS : HOLD_MS),
      to: this.latestGrant(f),
    }));
    return [...own, ...other];
  }

  /** The latest time ngrok could date the grant of a purchase that is not settled. */
  latestGrant(p: { phase: Phase; succeededAt?: string }): number {
    return (p.phase === 'succeeded' ? this.now - this.sinceSuccess(p) : this.now) + SLACK_MS;
  }

  lastSuccess(): Intent | undefined {
    return this.state.intents
      .filter((i) => i.phase === 'succeeded')
      .sort((a, b) => this.sinceSuccess(a) - this.sinceSuccess(b))[0];
  }

  /** The balance read this run shows the last success's credit (or it is an hour old). */
  creditShows(last: Intent, balance: number): boolean {
    const since = this.sinceSuccess(last);
    return since >= COOL_DOWN_MS || (since >= CREDIT_SHOWS_MS && balance > last.balanceBeforeCents);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
