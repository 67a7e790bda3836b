/**
 * The purchase decisions of auto top-up: a pure function of (settings, this run's
 * balance reading, ngrok's ledger, the saved top-up state, what was just learnt about a
 * purchase, now) that returns the new state, the one call to make next and the
 * notifications to send. No I/O and no clock of its own, so every sequence of runs,
 * retries, redeliveries and races can be simulated in a property test.
 *
 * One run is a short loop driven by the caller:
 *   decision = decideTopUp({ ..., report: undefined })
 *   while decision.action is not none (at most a few times):
 *     report = the result of the call (POST /credits/purchases or GET /credits/purchases/{id})
 *     decision = decideTopUp({ ..., state: decision.state, report })
 *
 * What keeps the money safe:
 * - The cap is checked against ngrok's ledger (this UTC month's purchase grants), plus a
 *   purchase this monitor saw succeed that the ledger does not show yet. No readable
 *   ledger, no purchase.
 * - The Idempotency-Key is derived from the month and the ledger's purchase count, which
 *   every racing or repeated run sees alike, so a repeat replays the first attempt rather
 *   than charging again (see `idempotencyKey`).
 * - At most one purchase is in flight; a new one is started only when none is.
 * - Lost state cannot lift the cap. Without its saved state a run cannot see a purchase of
 *   its own that is unresolved or not yet in the ledger. Its key still replays that purchase
 *   unless the ledger count moved since (a purchase by hand), so while the month's ledger has
 *   any purchase, one purchase amount is held back as possibly in flight for
 *   LOST_STATE_RESERVE_MS after the loss was noticed: ledger + reserve + new ≤ cap.
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

/** This run's balance reading, as the top-up decisions need it. */
export type TopUpObservation =
  | { readonly ok: true; readonly balanceCents: number }
  | { readonly ok: false };

/** One purchase grant from GET /credits/transactions (`type: credits, category: purchase`). */
export interface LedgerPurchase {
  readonly amountCents: number;
  /** RFC 3339. */
  readonly createdAt: string;
}

/**
 * What ngrok's ledger says, read this run. `readable: false` when the call failed or the
 * list may be missing some of this month's grants (it is cut at 100 rows).
 */
export type LedgerFacts =
  | { readonly readable: true; readonly purchases: readonly LedgerPurchase[] }
  | { readonly readable: false };

/** A purchase record as POST or GET /credits/purchases returns it. */
export interface PurchaseRecord {
  readonly id: string;
  readonly status: 'pending' | 'actionRequired' | 'succeeded' | 'failed';
  readonly amountCents: number;
  readonly failureCode?: string;
  readonly failureMessage?: string;
}

/** Why buying stopped until the configuration changes or a purchase is made by hand. */
export type StopReason =
  | 'failures'
  | 'no_default_payment_method'
  | 'metronome_not_provisioned'
  | 'billing_disabled';

/**
 * What the last call (the `action` of the previous step) returned. A failed GET of a
 * purchase is always `unavailable`; the other failures are answers to the POST.
 */
export type PurchaseReport =
  /** POST or GET answered with the purchase. */
  | { readonly kind: 'purchase'; readonly purchase: PurchaseRecord }
  /** 400 that no retry fixes: the account cannot buy this way. */
  | { readonly kind: 'refused'; readonly reason: Exclude<StopReason, 'failures'> }
  /** 409 `idempotency_key_reuse` or `purchase_in_progress`: follow this purchase instead. */
  | { readonly kind: 'follow'; readonly purchaseId: string }
  /** 429: not charged; try again on a later run. */
  | { readonly kind: 'rate-limited' }
  /** 5xx, timeouts, network errors after the client's retries: outcome unknown. */
  | { readonly kind: 'unavailable'; readonly message: string }
  /** Any other refusal (another 4xx): counts as a failed purchase. */
  | { readonly kind: 'rejected'; readonly message: string };

/** The purchase this monitor is following. Small: it lives in the 4 KB state parameter. */
export interface InFlight {
  /** Absent while the POST's outcome is unknown: the next run resends the same key. */
  readonly id?: string;
  readonly key: string;
  readonly amountCents: number;
  /** ISO 8601. */
  readonly startedAt: string;
  /** UTC month (YYYY-MM) and ledger position (purchase count + 1) the key was made for. */
  readonly month: string;
  readonly n: number;
  /** The balance read when the purchase was started, so its credit can be recognised. */
  readonly balanceBeforeCents: number;
  /** The month's ledger total once this purchase shows in it. */
  readonly ledgerAfterCents: number;
  /** The purchase record was read once (its start was announced, if it was pending). */
  readonly seen?: true;
  /** Set once the one "still pending" / "confirm the payment" notification was sent. */
  readonly pendingNoticed?: true;
  readonly actionNoticed?: true;
}

/** Auto top-up's part of an account's saved state. */
export interface TopUpState {
  readonly inFlight?: InFlight;
  /** Attempts already made for a ledger position (after failures the next one gets a new key). */
  readonly attempts?: { readonly month: string; readonly n: number; readonly made: number };
  /** Failed purchases in a row. */
  readonly failures: number;
  readonly stopped?: {
    readonly reason: StopReason;
    /** `configFingerprint` of the settings that were stopped: a change resumes. */
    readonly config: string;
    /** ISO 8601; a purchase grant in the ledger after it (bought by hand) resumes. */
    readonly at: string;
  };
  /** The last purchase seen to succeed, until its credit shows. */
  readonly lastSuccess?: {
    readonly id: string;
    readonly at: string;
    readonly amountCents: number;
    readonly month: string;
    readonly balanceBeforeCents: number;
    readonly ledgerAfterCents: number;
  };
  /** The month whose cap refusal was announced (once per month). */
  readonly cappedMonth?: string;
  /** A dry run announced its purchase for the current low spell. */
  readonly dryRunNoticed?: true;
  /**
   * ISO 8601: when a run found no saved state (first run, lost or reset). Until
   * LOST_STATE_RESERVE_MS later, one purchase is held back under the cap, for a purchase of
   * this monitor's that the lost state knew about and the ledger does not show yet.
   */
  readonly stateLostAt?: string;
}

export const INITIAL_TOP_UP_STATE: TopUpState = { failures: 0 };

export interface TopUpInput {
  /** Label used in notifications. */
  readonly account: string;
  readonly settings: TopUpSettings;
  readonly observation: TopUpObservation;
  /** A test invocation never buys and changes nothing. */
  readonly test: boolean;
  readonly ledger: LedgerFacts;
  /** Saved state; undefined when none was saved (first run, lost or reset state). */
  readonly state: TopUpState | undefined;
  /** The answer to the previous step's action in this run, if any. */
  readonly report?: PurchaseReport;
  readonly now: Date;
}

export type TopUpAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'buy'; readonly amountCents: number; readonly idempotencyKey: string }
  | { readonly kind: 'follow'; readonly purchaseId: string };

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
  /** This month's purchases per the ledger (plus unconfirmed ones) and the cap. */
  readonly monthTotalCents?: number;
  readonly capCents: number;
  /** ngrok's decline code and message, for `top-up-failed`. */
  readonly failureCode?: string;
  readonly failureMessage?: string;
  readonly consecutiveFailures?: number;
  /** For `top-up-stopped`. */
  readonly stopReason?: StopReason;
  /** ISO 8601. */
  readonly at: string;
}

export interface TopUpDecision {
  readonly state: TopUpState;
  readonly action: TopUpAction;
  readonly notifications: readonly TopUpNotification[];
  /** One line for low-balance alerts: what auto top-up is doing. */
  readonly status: string;
}

/** Failed purchases in a row after which buying stops. */
export const MAX_CONSECUTIVE_FAILURES = 3;
/** After a success, wait this long (or for the balance to show the credit) before buying again. */
export const COOL_DOWN_MS = 60 * 60 * 1000;
/**
 * A success the ledger does not show after this long is taken as shown (its grant may carry
 * an amount the monitor cannot match): otherwise one odd grant would stop top-ups for the
 * rest of the month.
 */
export const LEDGER_LAG_MAX_MS = 24 * 60 * 60 * 1000;
/**
 * How long after state was lost one purchase is held back under the cap: longer than a
 * purchase takes to end and its grant to reach the ledger (see LEDGER_LAG_MAX_MS).
 */
const LOST_STATE_RESERVE_MS = LEDGER_LAG_MAX_MS;
/** A purchase pending this long gets one notification. */
export const PENDING_NOTICE_MS = 60 * 60 * 1000;
/** Prefix of every key this monitor sends, so its purchases can be told apart at ngrok. */
export const KEY_PREFIX = 'ngrok-balance-alert';

/** The UTC calendar month of a time, `YYYY-MM`. */
export function utcMonth(time: Date): string {
  return time.toISOString().slice(0, 7);
}

/** This month's purchase grants: how many and how much. */
export function monthPurchases(
  purchases: readonly LedgerPurchase[],
  month: string,
): { count: number; totalCents: number } {
  const mine = purchases.filter((p) => p.createdAt.slice(0, 7) === month);
  return { count: mine.length, totalCents: mine.reduce((sum, p) => sum + p.amountCents, 0) };
}

/**
 * The Idempotency-Key for attempt `attempt` at ledger position `n` of `month`:
 * `ngrok-balance-alert-2026-12-3-1`. Built only from facts every run of the same situation
 * sees alike (the month and ngrok's count of its purchases), never from the account label,
 * a clock reading or saved state alone, so a racing run, a redelivered event, a retried
 * invocation or a run that lost its state sends the same key and ngrok replays the first
 * attempt. The attempt number moves on only after that key's purchase was seen to fail
 * (not charged), so no two keys can both charge position n.
 */
export function idempotencyKey(month: string, n: number, attempt: number): string {
  return `${KEY_PREFIX}-${month}-${n}-${attempt}`;
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

const STOP_TEXT: Record<StopReason, string> = {
  failures: `${MAX_CONSECUTIVE_FAILURES} purchases failed in a row`,
  no_default_payment_method: 'no saved card',
  metronome_not_provisioned: 'this account cannot buy credits by API',
  billing_disabled: 'credit billing is disabled for this account',
};

/** Decides one step of a run; see the module comment for how a run calls it. */
export function decideTopUp(input: TopUpInput): TopUpDecision {
  if (input.test) {
    // Missing state stays noted as lost: a test run must not clear the hold it causes.
    const state = input.state ?? lostState(input.now);
    return { state, action: NONE, notifications: [], status: 'test run: auto top-up not checked' };
  }
  const step = new Step(input);
  if (input.report) step.applyReport(input.report);
  else step.plan();
  return step.result();
}

const NONE: TopUpAction = { kind: 'none' };

/** The state a run starts from when none was saved: empty, noting when it was found lost. */
function lostState(now: Date): TopUpState {
  return { ...INITIAL_TOP_UP_STATE, stateLostAt: now.toISOString() };
}

/** The mutable working copy of one step's decision. */
class Step {
  state: TopUpState;
  action: TopUpAction = NONE;
  readonly notifications: TopUpNotification[] = [];
  status = '';
  readonly at: string;
  readonly month: string;

  constructor(readonly input: TopUpInput) {
    this.at = input.now.toISOString();
    this.month = utcMonth(input.now);
    this.state = input.state ?? lostState(input.now);
  }

  result(): TopUpDecision {
    return {
      state: this.state,
      action: this.action,
      notifications: this.notifications,
      status: this.status,
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

  /** The month's total as the cap sees it: the ledger, plus a success it does not show yet. */
  monthTotal(ledger: { count: number; totalCents: number }): number {
    const last = this.state.lastSuccess;
    const unconfirmed =
      last !== undefined &&
      last.month === this.month &&
      ledger.totalCents < last.ledgerAfterCents &&
      this.input.now.getTime() - Date.parse(last.at) < LEDGER_LAG_MAX_MS;
    return ledger.totalCents + (unconfirmed ? last.amountCents : 0);
  }

  /** The first step of a run: follow what is in flight, else perhaps buy. */
  plan(): void {
    const { inFlight } = this.state;
    if (inFlight?.id !== undefined) {
      this.action = { kind: 'follow', purchaseId: inFlight.id };
      this.status = `auto top-up: ${formatCents(inFlight.amountCents)} started, waiting for it`;
      return;
    }
    this.resumeIfStopLifted();
    this.considerBuying();
  }

  resumeIfStopLifted(): void {
    const { stopped } = this.state;
    if (!stopped) return;
    const { ledger, settings } = this.input;
    const boughtByHand =
      ledger.readable &&
      ledger.purchases.some((p) => Date.parse(p.createdAt) > Date.parse(stopped.at));
    if (boughtByHand || stopped.config !== configFingerprint(settings)) {
      const { stopped: _lifted, ...rest } = this.state;
      this.state = { ...rest, failures: 0 };
    }
  }

  considerBuying(): void {
    const { observation, settings, ledger } = this.input;
    const { stopped } = this.state;
    if (!observation.ok) {
      this.status = 'auto top-up: not buying, the balance could not be read';
      return;
    }
    const balance = observation.balanceCents;
    // A request whose outcome is unknown is resent with its key, low balance or not: if it
    // reached ngrok this replays it (and tells us about it), else it starts it now.
    const unsent = this.state.inFlight?.month === this.month ? this.state.inFlight : undefined;
    if (balance >= settings.belowCents && !unsent) {
      // A low spell is over: the next dry run may announce again.
      const { dryRunNoticed: _over, inFlight: _stale, ...rest } = this.state;
      this.state = rest;
      this.status = `auto top-up: not needed above ${formatCents(settings.belowCents)}`;
      return;
    }
    if (stopped) {
      this.status = `auto top-up stopped: ${STOP_TEXT[stopped.reason]}`;
      return;
    }
    if (!ledger.readable) {
      this.status = "auto top-up: not buying, ngrok's purchase history could not be read";
      return;
    }
    const facts = monthPurchases(ledger.purchases, this.month);
    const total = this.monthTotal(facts);
    const last = this.state.lastSuccess;
    if (last && total > facts.totalCents) {
      this.status = `auto top-up: bought ${formatCents(last.amountCents)}, waiting for ngrok's ledger to show it`;
      return;
    }
    if (last && !this.coolDownOver(last, balance)) {
      this.status = `auto top-up: bought ${formatCents(last.amountCents)}, waiting for the balance to show it`;
      return;
    }
    const amountCents = unsent?.amountCents ?? settings.amountCents;
    const reserve = this.lostStateReserve(facts.count);
    // A request whose outcome is unknown stays in the state when nothing is sent: it may
    // have charged, and forgetting it would let a later run (with a moved ledger count)
    // buy past it.
    const keepUnsent = (): TopUpState => (unsent ? this.state : this.without('inFlight'));
    if (total + amountCents > settings.monthlyCapCents) {
      this.state = keepUnsent();
      this.refuseForCap(total, balance);
      return;
    }
    if (total + reserve + amountCents > settings.monthlyCapCents) {
      // Not a cap refusal: once the reserve lapses (or the ledger shows the purchase) the
      // cap may allow this one, so it is a wait, like waiting for the ledger above.
      this.state = keepUnsent();
      const until = Date.parse(this.state.stateLostAt ?? this.at) + LOST_STATE_RESERVE_MS;
      this.status =
        `auto top-up: waiting until ${new Date(until).toISOString().slice(0, 16)}Z: the saved ` +
        `state was lost, so ${formatCents(reserve)} of the monthly cap is held back for a ` +
        'purchase that may still be in flight';
      return;
    }
    if (settings.dryRun) {
      this.state = keepUnsent();
      this.status = `auto top-up dry run: would buy ${formatCents(amountCents)}`;
      if (!this.state.dryRunNoticed) {
        this.notify('top-up-dry-run', { balanceCents: balance, monthTotalCents: total });
        this.state = { ...this.state, dryRunNoticed: true };
      }
      return;
    }
    const n = facts.count + 1;
    const attempts = this.state.attempts;
    const made = attempts && attempts.month === this.month && attempts.n === n ? attempts.made : 0;
    const inFlight: InFlight = unsent ?? {
      key: idempotencyKey(this.month, n, made + 1),
      amountCents,
      startedAt: this.at,
      month: this.month,
      n,
      balanceBeforeCents: balance,
      ledgerAfterCents: facts.totalCents + amountCents,
    };
    this.state = { ...this.state, inFlight };
    this.action = { kind: 'buy', amountCents, idempotencyKey: inFlight.key };
    this.status = `auto top-up: buying ${formatCents(amountCents)}`;
  }

  /**
   * One purchase amount while lost state is recent and the ledger count could have moved
   * past a purchase of ours (it has this month's purchases); otherwise 0. A lapsed reserve
   * is dropped from the state.
   */
  lostStateReserve(ledgerCount: number): number {
    const { stateLostAt } = this.state;
    if (stateLostAt === undefined) return 0;
    if (this.input.now.getTime() - Date.parse(stateLostAt) >= LOST_STATE_RESERVE_MS) {
      const { stateLostAt: _lapsed, ...rest } = this.state;
      this.state = rest;
      return 0;
    }
    return ledgerCount > 0 ? this.input.settings.amountCents : 0;
  }

  coolDownOver(last: NonNullable<TopUpState['lastSuccess']>, balance: number): boolean {
    return (
      balance > last.balanceBeforeCents ||
      this.input.now.getTime() - Date.parse(last.at) >= COOL_DOWN_MS
    );
  }

  refuseForCap(total: number, balance: number): void {
    const { settings } = this.input;
    this.status = `auto top-up: blocked by the monthly cap (${formatCents(total)} of ${formatCents(settings.monthlyCapCents)} bought)`;
    if (this.state.cappedMonth !== this.month) {
      this.notify('top-up-capped', {
        monthTotalCents: total,
        balanceCents: balance,
      });
      this.state = { ...this.state, cappedMonth: this.month };
    }
  }

  /** A later step of the run: what the POST or GET returned. */
  applyReport(report: PurchaseReport): void {
    const inFlight = this.state.inFlight;
    if (!inFlight) return;
    switch (report.kind) {
      case 'purchase':
        this.applyPurchase(inFlight, report.purchase);
        return;
      case 'follow':
        this.state = { ...this.state, inFlight: { ...inFlight, id: report.purchaseId } };
        this.action = { kind: 'follow', purchaseId: report.purchaseId };
        this.status = `auto top-up: following purchase ${report.purchaseId}`;
        return;
      case 'refused':
        this.stop(report.reason, inFlight);
        return;
      case 'rate-limited':
        // Not charged: the next run that still needs credit derives the same key again.
        this.state = this.without('inFlight');
        this.status = 'auto top-up: ngrok asked to wait, trying again on a later run';
        return;
      case 'unavailable':
        // The POST may have landed: the key is kept, so the next run resends it.
        this.status = `auto top-up: ${formatCents(inFlight.amountCents)} requested, no answer yet (${report.message})`;
        return;
      case 'rejected':
        this.failed(inFlight, { failureMessage: report.message });
        return;
      default:
        assertNever(report);
    }
  }

  applyPurchase(inFlight: InFlight, purchase: PurchaseRecord): void {
    const { id } = purchase;
    if (this.state.lastSuccess?.id === id) {
      // A resent key replayed the purchase that already succeeded: nothing new was charged.
      this.state = this.without('inFlight');
      this.status = `auto top-up: bought ${formatCents(purchase.amountCents)}, waiting for ngrok's ledger to show it`;
      return;
    }
    const amount = formatCents(purchase.amountCents);
    const following: InFlight = { ...inFlight, id, amountCents: purchase.amountCents, seen: true };
    const fields = { amountCents: purchase.amountCents, purchaseId: id };
    switch (purchase.status) {
      case 'succeeded':
        this.state = {
          ...this.without('inFlight'),
          failures: 0,
          lastSuccess: {
            id,
            at: this.at,
            amountCents: purchase.amountCents,
            month: inFlight.month,
            balanceBeforeCents: inFlight.balanceBeforeCents,
            ledgerAfterCents: inFlight.ledgerAfterCents,
          },
        };
        this.notify('top-up-succeeded', fields);
        this.status = `auto top-up: bought ${amount}, waiting for the balance to show it`;
        return;
      case 'failed':
        this.failed(following, purchase);
        return;
      case 'actionRequired':
        this.state = { ...this.state, inFlight: { ...following, actionNoticed: true } };
        if (!inFlight.actionNoticed) this.notify('top-up-action-required', fields);
        this.status = `auto top-up: ${amount} waiting for the payment to be confirmed at app.ngrok.ai`;
        return;
      case 'pending': {
        const long = this.input.now.getTime() - Date.parse(inFlight.startedAt) >= PENDING_NOTICE_MS;
        const noticeNow = long && !inFlight.pendingNoticed;
        this.state = {
          ...this.state,
          inFlight: noticeNow ? { ...following, pendingNoticed: true } : following,
        };
        if (!inFlight.seen) {
          this.notify('top-up-started', { ...fields, balanceCents: inFlight.balanceBeforeCents });
        }
        if (noticeNow) this.notify('top-up-pending-long', fields);
        this.status = `auto top-up: ${amount} started, waiting for it`;
        return;
      }
      default:
        assertNever(purchase.status);
    }
  }

  failed(inFlight: InFlight, detail: { failureCode?: string; failureMessage?: string }): void {
    const failures = this.state.failures + 1;
    const prior = this.state.attempts;
    const made = prior && prior.month === inFlight.month && prior.n === inFlight.n ? prior.made : 0;
    this.state = {
      ...this.without('inFlight'),
      failures,
      attempts: { month: inFlight.month, n: inFlight.n, made: made + 1 },
    };
    this.notify('top-up-failed', {
      amountCents: inFlight.amountCents,
      purchaseId: inFlight.id,
      failureCode: detail.failureCode,
      failureMessage: detail.failureMessage,
      consecutiveFailures: failures,
    });
    this.status = `auto top-up: the last purchase of ${formatCents(inFlight.amountCents)} failed`;
    if (failures >= MAX_CONSECUTIVE_FAILURES) this.stop('failures', inFlight);
  }

  stop(reason: StopReason, inFlight: InFlight): void {
    this.state = {
      ...this.without('inFlight'),
      stopped: { reason, config: configFingerprint(this.input.settings), at: this.at },
    };
    this.notify('top-up-stopped', { amountCents: inFlight.amountCents, stopReason: reason });
    this.status = `auto top-up stopped: ${STOP_TEXT[reason]}`;
  }

  without(field: 'inFlight'): TopUpState {
    const { [field]: _dropped, ...rest } = this.state;
    return rest;
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
