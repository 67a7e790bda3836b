/**
 * The domain model shared by the monitor's modules. Nothing here knows about AWS.
 */
import type { FunctionAccountSettings, FunctionSettings } from '../config/contract.ts';
import type { Runway } from '../observe/runway.ts';
import type { ExpiryWarning } from '../watches/expiry.ts';
import { TOP_UP_NOTIFICATION_KINDS, type TopUpNotification } from '../watches/top-up/decide.ts';

/** How bad the balance is. Ordered: each level is worse than the one before. */
export const LEVELS = ['ok', 'low', 'critical', 'empty'] as const;
export type Level = (typeof LEVELS)[number];

/** Why the level is above `ok`: the balance itself, or the forecast of when it runs out. */
export type LevelReason = 'balance' | 'runway';

/**
 * What the deployment says about one ngrok account (fixed at deploy time): its settings
 * marked `function` in the contract, and where its runtime parameters live.
 * `thresholdCents` and `criticalThresholdCents` are the deployed values, used when a
 * parameter holds something that is not an amount.
 */
export type AccountConfig = FunctionAccountSettings & {
  /** String parameter holding the warning threshold in cents (created by the stack). */
  readonly thresholdParameterName: string;
  /** String parameter holding the critical threshold in cents, when one is configured. */
  readonly criticalThresholdParameterName?: string;
};

/** Settings that apply to every account (fixed at deploy time; see config/contract.ts). */
export type MonitorConfig = FunctionSettings & {
  readonly accounts: readonly AccountConfig[];
  /** The stack name: the `Deployment` dimension of the opt-in metrics. */
  readonly deployment: string;
};

/** The thresholds in force for one run, after reading the runtime parameters. */
export interface Thresholds {
  readonly thresholdCents: number;
  readonly criticalThresholdCents?: number;
  readonly recoveryMarginCents: number;
}

/** A runtime setting that could not be used, and what was used instead. */
export interface ConfigProblem {
  readonly parameterName: string;
  /** Human-readable, names the parameter, the bad value's form and the fix. */
  readonly message: string;
}

/** Why a check could not read the balance. */
export type CheckFailureKind =
  /** 401/403: the key is wrong, revoked or lacks permission. Reported at once. */
  | 'auth'
  /** The key parameter does not exist. Reported at once: nothing will fix itself. */
  | 'missing-key'
  /**
   * Anything else: timeouts, 5xx after retries, malformed bodies, other 4xx, a key
   * parameter SSM could not read. Reported after `failureAlertAfter` failed runs.
   */
  | 'transient';

export interface CheckFailure {
  readonly kind: CheckFailureKind;
  /** Safe to show a person: never contains the API key. */
  readonly message: string;
}

/** One account's spending, summarised from GET /usage/overview or from balance history. */
export interface Forecast {
  /** Where the burn rate came from. */
  readonly source: 'usage' | 'balance-history';
  /** Average spend per day in cents (may be fractional). */
  readonly dailySpendCents: number;
  /** Days the window actually covered (at most `forecastDays`). */
  readonly windowDays: number;
  /** balance / daily spend; null when nothing was spent (the balance is not being used). */
  readonly runwayDays: number | null;
  /** Access keys that spent most in the window, largest first (up to 3). */
  readonly topSpenders: readonly TopSpender[];
}

export interface TopSpender {
  readonly accessKey: string;
  /** The key's display name (access-key-names.ts), when it is known; added before sending. */
  readonly name?: string;
  readonly costCents: number;
  /** Fraction of the window's total spend, 0..1. */
  readonly share: number;
}

/** The result of checking one account once. */
export type Observation =
  | {
      readonly ok: true;
      readonly balanceCents: number;
      /** Absent when no forecast could be made; `forecastNote` says why. */
      readonly forecast?: Forecast;
      readonly forecastNote?: string;
      /**
       * The shorter of the recent rate's and the forecast's runway (runway.ts); absent when
       * neither rate is known. The runway alert uses it when it is there.
       */
      readonly runway?: Runway;
    }
  | { readonly ok: false; readonly failure: CheckFailure };

/**
 * Kinds of notification, one per thing a person should hear about:
 * - balance-alert: the level rose (including the first alert);
 * - balance-reminder: the level stayed above ok for `renotifyHours`;
 * - balance-improved: the level fell but is still above ok (a small top-up);
 * - balance-recovered: back to ok;
 * - monitor-failing / monitor-reminder / monitor-recovered: the monitor cannot read the
 *   balance, still cannot, can again;
 * - config-problem: a runtime parameter is invalid; reported once per distinct problem;
 * - test: sent on request to prove the wiring works;
 * - top-up-*: what auto top-up did (see TOP_UP_NOTIFICATION_KINDS in top-up/decide.ts).
 * - snooze-set / snooze-ended: someone snoozed the account, or ended its snooze early;
 * - weekly-digest: the week's summary of every account (informational);
 * - credit-expiry: part of the balance belongs to credit that expires soon.
 * - spike-started / spike-reminder / spike-ended: spend runs at several times its 7-day
 *   average (spike-policy.ts), still does, is back to normal.
 */
export const NOTIFICATION_KINDS = [
  'balance-alert',
  'balance-reminder',
  'balance-improved',
  'balance-recovered',
  'monitor-failing',
  'monitor-reminder',
  'monitor-recovered',
  'config-problem',
  'test',
  ...TOP_UP_NOTIFICATION_KINDS,
  'snooze-set',
  'snooze-ended',
  'weekly-digest',
  'credit-expiry',
  'spike-started',
  'spike-reminder',
  'spike-ended',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Everything a renderer needs to describe one account's situation. */
export interface Notification {
  readonly kind: NotificationKind;
  readonly account: string;
  readonly level: Level;
  readonly reason: LevelReason;
  /** The previous level, for alerts and recoveries. */
  readonly previousLevel?: Level;
  /** Absent when the balance could not be read. */
  readonly balanceCents?: number;
  readonly thresholds: Thresholds;
  /** Where the warning threshold lives, so the message can say how to change it. */
  readonly thresholdParameterName: string;
  /** Where the API key lives, so a key alert can say how to replace it. */
  readonly tokenParameterName?: string;
  readonly forecast?: Forecast;
  readonly forecastNote?: string;
  /** The shorter runway of the recent and the 7-day rate, when either is known. */
  readonly runway?: Runway;
  /** What a spike notification reports; set on the spike kinds only. */
  readonly spike?: SpikeReport;
  readonly failure?: CheckFailure;
  readonly consecutiveFailures?: number;
  /** When the current problem started (ISO 8601). */
  readonly since?: string;
  readonly configProblems: readonly ConfigProblem[];
  /** For the top-up kinds: what the purchase decisions reported. */
  readonly topUp?: Omit<TopUpNotification, 'kind' | 'account' | 'at'>;
  /** When auto top-up is on: what it is doing (every balance alert says so). */
  readonly topUpStatus?: string;
  /** ISO 8601 time of the run that produced it. */
  readonly at: string;
  /** snooze-set, snooze-ended: the snooze's end time (or when it was ended) and note. */
  readonly snooze?: { readonly until: string; readonly note?: string };
  /** weekly-digest: the summary of every account. */
  readonly digest?: WeeklyDigest;
  /** credit-expiry: the grant and the part of the balance estimated to belong to it. */
  readonly expiry?: Omit<ExpiryWarning, 'kind' | 'account' | 'at'>;
  /**
   * Balance, runway and spike alerts and reminders, when auto top-up will not buy: a checkout
   * page where a person pays `amountCents` (watches/pay-link.ts). Absent when none could be
   * made in time; the credits page is then the way to buy.
   */
  readonly payLink?: PayLink;
}

/** A Stripe-hosted checkout page for the account (POST /credits/checkout-session). */
export interface PayLink {
  /** https only (checked when ngrok returned it). */
  readonly url: string;
  readonly amountCents: number;
  /** ISO 8601: when the page stops working (see CHECKOUT_LIFETIME_MS). */
  readonly expiresAt: string;
}

/** A spend spike as a notification reports it. */
export interface SpikeReport {
  /** The rate that counts as a spike, in cents per hour (spike-policy.ts). */
  readonly levelCentsPerHour: number;
  /** The recent rate behind the event, when one was measured this run. */
  readonly recentCentsPerHour?: number;
  /** Minutes of readings the recent rate covers. */
  readonly windowMinutes?: number;
  /** The long-term rate it was compared with, in cents per day. */
  readonly averageDailyCents?: number;
  /** The access keys spending faster today than their own average, largest excess first. */
  readonly drivers: readonly SpikeDriverReport[];
  /** Why the drivers are unknown, when they are. */
  readonly driversNote?: string;
}

/** One access key driving a spike. */
export interface SpikeDriverReport {
  readonly accessKey: string;
  /** The key's display name, when it is known. */
  readonly name?: string;
  /** Today's spend so far, per hour elapsed (UTC day). */
  readonly todayCentsPerHour: number;
  /** The key's average over the days before today, per hour. */
  readonly averageCentsPerHour: number;
}

/** One account's part of the weekly digest (watches/digest.ts builds it). */
export interface DigestAccount {
  readonly account: string;
  readonly level: Level;
  /** Now; absent when this run could not read it. */
  readonly balanceCents?: number;
  /** At the start of the week; absent when no balance was read then. */
  readonly weekAgoCents?: number;
  /** Absent when the week has no record (an account added since). */
  readonly week?: {
    readonly spentCents: number;
    readonly addedCents: number;
    readonly alerts: number;
    readonly topUps: number;
  };
  readonly forecast?: Forecast;
  readonly snooze?: { readonly until: string; readonly note?: string };
}

/** The weekly summary: informational, never a PagerDuty incident. */
export interface WeeklyDigest {
  readonly kind: 'weekly-digest';
  /** The digest slots the summary runs from and to (ISO 8601). */
  readonly from: string;
  readonly to: string;
  readonly accounts: readonly DigestAccount[];
  /** ISO 8601 time of the run. */
  readonly at: string;
}
