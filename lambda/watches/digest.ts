/**
 * The weekly digest: when it is due, what each account keeps for it, and what it holds
 * (its wording is the content model's, notify/content.ts).
 * It rides on the existing schedule: the first run at or after the digest time each week
 * sends it. Every time here is UTC, so daylight saving never moves it. Pure.
 */

import type { Forecast, Level, NotificationKind, WeeklyDigest } from '../common/types.ts';
import { type FunctionSettings, SETTINGS } from '../config/contract.ts';
import { type KeyNameCache, keyName } from './access-key-names.ts';

/** Indexed like Date.getUTCDay(): the contract lists the days from Sunday. */
const WEEKDAYS: readonly string[] = SETTINGS.digestDay.choices;

/** The digest's settings, as the contract states them (`digest`, `digestDay`, `digestHourUtc`). */
export type DigestSettings = Pick<FunctionSettings, 'digest' | 'digestDay' | 'digestHourUtc'>;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The latest digest time at or before `now`. */
export function digestSlot(settings: DigestSettings, now: Date): Date {
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const back = (now.getUTCDay() - WEEKDAYS.indexOf(settings.digestDay) + 7) % 7;
  const slot = day - back * DAY_MS + settings.digestHourUtc * HOUR_MS;
  return new Date(slot > now.getTime() ? slot - 7 * DAY_MS : slot);
}

/**
 * The week a time belongs to, named by the UTC date of its digest slot ("2026-11-30"):
 * every run between two digest times gets the same key, and keys sort by time.
 */
export function weekKey(settings: DigestSettings, now: Date): string {
  return digestSlot(settings, now).toISOString().slice(0, 10);
}

/**
 * What one account keeps for its digest: the week it is collecting for and that week's
 * running totals. About 130 bytes of JSON; replaced each week.
 */
export interface WeekRecord {
  /** weekKey of the digest slot the record started in. */
  readonly week: string;
  /** The first balance read in the week: "a week ago" in the next digest. */
  readonly startCents?: number;
  /** The latest balance read, to add up the week's falls (spend) and rises (credit added). */
  readonly lastCents?: number;
  readonly spentCents: number;
  readonly addedCents: number;
  /** Alerts sent (see COUNTED_AS_ALERT). */
  readonly alerts: number;
  /** Auto top-ups made. */
  readonly topUps: number;
}

/**
 * Whether this run publishes the digest. `records` are every account's saved records: the
 * digest is due when the newest of them is from an earlier week. So a retried or
 * redelivered run, or one whose saves partly failed, does not send a second digest once
 * any account saved the new week; a week without runs sends one digest at the next run;
 * and the first deployment (no records) starts collecting and sends the following week.
 */
export function digestDue(
  settings: DigestSettings,
  records: readonly (WeekRecord | undefined)[],
  now: Date,
): boolean {
  if (settings.digest === 'off') return false;
  const weeks = records.flatMap((record) => (record ? [record.week] : []));
  const current = weekKey(settings, now);
  return weeks.length > 0 && weeks.every((week) => week < current);
}

/** Which notifications count as an alert in the week's totals. Exhaustive: a new kind must say. */
export const COUNTED_AS_ALERT: Readonly<Record<NotificationKind, boolean>> = {
  'balance-alert': true,
  'balance-reminder': false,
  'balance-improved': false,
  'balance-recovered': false,
  'monitor-failing': true,
  'monitor-reminder': false,
  'monitor-recovered': false,
  'config-problem': false,
  test: false,
  // Auto top-up has its own line in the digest (the week's top-ups), not the alert count.
  'top-up-started': false,
  'top-up-succeeded': false,
  'top-up-failed': false,
  'top-up-action-required': false,
  'top-up-pending-long': false,
  'top-up-capped': false,
  'top-up-stopped': false,
  'top-up-dry-run': false,
  'snooze-set': false,
  'snooze-ended': false,
  'weekly-digest': false,
  'credit-expiry': false,
  'spike-started': true,
  'spike-reminder': false,
  'spike-ended': false,
};

/** What one run of one account adds to its week. */
export interface WeekRun {
  /** Absent when the balance could not be read. */
  readonly balanceCents?: number;
  /** The kinds of the notifications this run published (held ones are not counted). */
  readonly sent: readonly NotificationKind[];
  readonly topUps?: number;
}

export interface WeekAdvance {
  /** The record to save; undefined when the digest is off (nothing is kept). */
  readonly record: WeekRecord | undefined;
  /** The week that just ended, totalled up to this run, when this run starts a new week. */
  readonly closed?: WeekRecord;
}

/**
 * Adds a run to the account's week. On the first run of a new week, the finished week is
 * returned as `closed` (for the digest) and a new record starts from this run's balance.
 */
export function advanceWeek(
  record: WeekRecord | undefined,
  run: WeekRun,
  settings: DigestSettings,
  now: Date,
): WeekAdvance {
  if (settings.digest === 'off') return { record: undefined };
  const week = weekKey(settings, now);
  if (record === undefined || record.week < week) {
    const closed = record && withBalance(record, run.balanceCents);
    const start = run.balanceCents ?? closed?.lastCents;
    const fresh: WeekRecord = {
      week,
      startCents: start,
      lastCents: start,
      spentCents: 0,
      addedCents: 0,
      alerts: 0,
      topUps: 0,
    };
    return { record: withCounts(fresh, run), closed };
  }
  return { record: withCounts(withBalance(record, run.balanceCents), run) };
}

function withBalance(record: WeekRecord, balanceCents: number | undefined): WeekRecord {
  if (balanceCents === undefined) return record;
  if (record.lastCents === undefined) {
    return { ...record, startCents: record.startCents ?? balanceCents, lastCents: balanceCents };
  }
  const change = balanceCents - record.lastCents;
  return {
    ...record,
    lastCents: balanceCents,
    spentCents: record.spentCents + Math.max(0, -change),
    addedCents: record.addedCents + Math.max(0, change),
  };
}

function withCounts(record: WeekRecord, run: WeekRun): WeekRecord {
  return {
    ...record,
    alerts: record.alerts + run.sent.filter((kind) => COUNTED_AS_ALERT[kind]).length,
    topUps: record.topUps + (run.topUps ?? 0),
  };
}

export interface DigestAccountInput {
  readonly account: string;
  readonly level: Level;
  readonly balanceCents?: number;
  /** The week this run closed (WeekAdvance.closed). */
  readonly closed?: WeekRecord;
  readonly forecast?: Forecast;
  /**
   * The account's cached access key names (its state's `keyNames`): the digest names its top
   * spenders by them, as the alerts do. Without them, keys are shown by id.
   */
  readonly keyNames?: KeyNameCache;
  /** The snooze in force, if any. */
  readonly snooze?: { readonly until: string; readonly note?: string };
}

/** Builds the digest of a run in which `digestDue` said yes. */
export function buildDigest(
  settings: DigestSettings,
  accounts: readonly DigestAccountInput[],
  now: Date,
): WeeklyDigest {
  const to = digestSlot(settings, now);
  const starts = accounts.flatMap((a) =>
    a.closed ? [Date.parse(a.closed.week) + settings.digestHourUtc * HOUR_MS] : [],
  );
  // A week without runs makes the span longer than a week: say so rather than hide it.
  const from = new Date(starts.length > 0 ? Math.min(...starts) : to.getTime() - 7 * DAY_MS);
  return {
    kind: 'weekly-digest',
    from: from.toISOString(),
    to: to.toISOString(),
    at: now.toISOString(),
    accounts: accounts.map(({ closed, keyNames, forecast, ...account }) => ({
      ...account,
      ...(forecast && { forecast: namedSpenders(forecast, keyNames) }),
      weekAgoCents: closed?.startCents,
      week: closed && {
        spentCents: closed.spentCents,
        addedCents: closed.addedCents,
        alerts: closed.alerts,
        topUps: closed.topUps,
      },
    })),
  };
}

/** The forecast with its top spenders named from the cache, as the alerts name them. */
function namedSpenders(forecast: Forecast, cache: KeyNameCache | undefined): Forecast {
  if (cache === undefined) return forecast;
  return {
    ...forecast,
    topSpenders: forecast.topSpenders.map((s) => {
      const name = keyName(cache, s.accessKey);
      return name === s.accessKey ? s : { ...s, name };
    }),
  };
}
