/**
 * Burn-rate forecast: how many days the prepaid credit lasts at the recent rate of spend.
 *
 * Pure maths, no I/O and no clock: every function takes `now`, so runs and tests are
 * reproducible. Two sources feed the rate: the usage overview (cost per access key per
 * day) and the account's own balance, sampled a few times a day into saved state.
 */
import {
  addDollars,
  compareDollars,
  type Dollars,
  dollarsToCents,
  parseDollars,
  ZERO_DOLLARS,
} from '../common/decimal.ts';
import type { Forecast, TopSpender } from '../common/types.ts';

const MS_PER_DAY = 86_400_000;
const SECONDS_PER_DAY = 86_400;
const SECONDS_PER_HOUR = 3_600;

/** Longest stretch of a response value quoted in a message. */
const MAX_QUOTED_CHARS = 20;

/** How many access keys a forecast names: enough to point at the culprit, small enough to save. */
export const TOP_SPENDER_COUNT = 3;

/**
 * One row of GET /usage/overview: the cost of one group key (an access key id when
 * `groupBy=accessKey`) during one UTC day.
 */
export interface UsageBucket {
  /** RFC 3339, the start of a UTC day. */
  readonly bucketStart: string;
  readonly groupKey: string;
  /** US dollars as a decimal string, normally with five fractional digits ("3.10000"). */
  readonly cost: string;
  readonly requests: number;
  readonly errors: number;
}

/**
 * The 200 body of GET /usage/overview, exported so the HTTP client checks responses
 * against the same shape the forecast reads.
 */
export interface UsageOverview {
  readonly uri: string;
  readonly buckets: readonly UsageBucket[];
  readonly totals: { readonly cost: string; readonly requests: number; readonly errors: number };
}

/**
 * What the forecast keeps from a usage overview. Small on purpose: it is saved in the
 * state parameter between overview fetches.
 */
export interface UsageSummary {
  /** When the overview was read (ISO 8601), so a stale summary can be recognised. */
  readonly fetchedAt: string;
  /** Average spend per day in cents; may be fractional. */
  readonly dailySpendCents: number;
  /** Days the average covers (its denominator); always > 0. */
  readonly windowDays: number;
  /** Up to TOP_SPENDER_COUNT access keys with spend, largest first. */
  readonly topSpenders: readonly TopSpender[];
}

/** A saved balance observation: [when, in seconds since the epoch; balance in cents]. */
export type BalanceSample = [epochSeconds: number, balanceCents: number];

/** A burn rate measured from balance history. */
export interface BalanceBurn {
  readonly dailySpendCents: number;
  /** Days of history the rate was measured over. */
  readonly windowDays: number;
}

export interface ForecastInput {
  readonly balanceCents: number;
  /** The latest usage summary, when one could be read. */
  readonly usage?: UsageSummary;
  readonly history?: readonly BalanceSample[];
  readonly now: Date;
  readonly forecastDays: number;
}

/** A forecast, or a note saying why there is none (never both absent). */
export interface ForecastResult {
  readonly forecast?: Forecast;
  readonly note?: string;
}

/**
 * The balance is sampled at most once per this many hours (4 times a day): often enough to
 * see a day's spend, rarely enough that a week of samples fits in the 4 KB state parameter.
 */
export const SAMPLE_INTERVAL_HOURS = 6;

/**
 * The balance history is trusted only once it covers this many days: a shorter span
 * extrapolates one busy afternoon into a false alarm.
 */
export const MIN_HISTORY_DAYS = 2;

/** Fewer samples than this cannot tell a trend from a single change. */
export const MIN_HISTORY_SAMPLES = 3;

/**
 * The most samples kept for a window: four a day for the window plus a day of slack. The
 * cap keeps state small even if the clock or the schedule misbehaves.
 */
export function maxHistorySamples(forecastDays: number): number {
  return (24 / SAMPLE_INTERVAL_HOURS) * (forecastDays + 1);
}

/**
 * Start of the usage window: UTC midnight `forecastDays` days before today's UTC midnight.
 * Exported so the HTTP client requests exactly the window that `summariseUsage` averages.
 */
export function usageWindowStart(now: Date, forecastDays: number): Date {
  checkForecastDays(forecastDays);
  return new Date(startOfUtcDay(now.getTime()) - forecastDays * MS_PER_DAY);
}

/**
 * Averages the daily spend in a usage overview requested with `groupBy=accessKey`,
 * `startTime = usageWindowStart(now, forecastDays)` and `endTime = now`.
 *
 * Today's partial bucket: the window is [windowStart, now), and the rate is the cost of
 * every bucket in it, today's partial bucket included, divided by the time elapsed up to
 * now as a fraction of days. Counting today's partial cost against today's partial time
 * keeps the average unbiased; counting today as a full day would understate spend, which
 * for an alert is the unsafe direction.
 *
 * The elapsed time starts at the later of the window start and the UTC midnight of the
 * first day with spend, so a new account is not averaged over days before it existed; it
 * is at least one day, so a burst in a new account's first hour does not extrapolate wildly.
 *
 * Returns an error, never a zero rate, when a cost or a bucket start in the window cannot be
 * read: a broken response must make the forecast unknown, not silence it.
 * @throws RangeError when `forecastDays` is not a positive whole number (a deployment bug).
 */
export function summariseUsage(
  overview: UsageOverview,
  now: Date,
  forecastDays: number,
): UsageSummary | { error: string } {
  const nowMs = now.getTime();
  const windowStartMs = usageWindowStart(now, forecastDays).getTime();
  let total = ZERO_DOLLARS;
  let firstSpendDayMs: number | undefined;
  const byKey = new Map<string, Dollars>();

  for (const bucket of overview.buckets) {
    const startMs = Date.parse(bucket.bucketStart);
    if (Number.isNaN(startMs)) {
      // A bucket that cannot be placed in time may be in the window: skipping it could undercount.
      return {
        error: `the usage overview has an unreadable bucketStart "${quote(bucket.bucketStart)}"; the burn rate is unknown`,
      };
    }
    if (startMs < windowStartMs || startMs >= nowMs) {
      continue;
    }
    const cost = parseDollars(bucket.cost);
    if (cost === undefined) {
      return {
        error: `the usage overview has an unreadable cost "${quote(bucket.cost)}" on ${new Date(startMs).toISOString().slice(0, 10)}; the burn rate is unknown, not zero`,
      };
    }
    if (cost.units === 0n) {
      continue;
    }
    total = addDollars(total, cost);
    byKey.set(bucket.groupKey, addDollars(byKey.get(bucket.groupKey) ?? ZERO_DOLLARS, cost));
    const dayMs = startOfUtcDay(startMs);
    if (firstSpendDayMs === undefined || dayMs < firstSpendDayMs) {
      firstSpendDayMs = dayMs;
    }
  }

  const fetchedAt = now.toISOString();
  if (firstSpendDayMs === undefined) {
    return {
      fetchedAt,
      dailySpendCents: 0,
      windowDays: (nowMs - windowStartMs) / MS_PER_DAY,
      topSpenders: [],
    };
  }
  const spanStartMs = Math.max(windowStartMs, firstSpendDayMs);
  const windowDays = Math.max(1, (nowMs - spanStartMs) / MS_PER_DAY);
  return {
    fetchedAt,
    dailySpendCents: dollarsToCents(total) / windowDays,
    windowDays,
    topSpenders: topSpenders(byKey),
  };
}

/**
 * Adds the current balance to the saved history and trims it, so the history forecast has
 * data while the state parameter stays far below its 4 KB limit.
 *
 * Appends a sample only when the newest is at least SAMPLE_INTERVAL_HOURS old; drops
 * samples older than `forecastDays` + 1 day, samples from the future and malformed entries
 * (state is parsed JSON); keeps at most `maxHistorySamples(forecastDays)`.
 *
 * Returns `history` itself when nothing was added, dropped or reordered, so the caller can
 * tell that the state did not change.
 * @throws RangeError when `forecastDays` is not a positive whole number (a deployment bug).
 */
export function recordBalanceSample(
  history: readonly BalanceSample[] | undefined,
  balanceCents: number,
  now: Date,
  forecastDays: number,
): readonly BalanceSample[] {
  checkForecastDays(forecastDays);
  const previous = history ?? [];
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const oldestSeconds = nowSeconds - (forecastDays + 1) * SECONDS_PER_DAY;
  const kept = sortedSamples(previous, oldestSeconds, nowSeconds);
  let changed = kept.length !== previous.length || kept.some((s, i) => s !== previous[i]);

  const newest = kept.at(-1);
  if (
    Number.isFinite(balanceCents) &&
    (newest === undefined || nowSeconds - newest[0] >= SAMPLE_INTERVAL_HOURS * SECONDS_PER_HOUR)
  ) {
    // The API's resolution is 1e-5 dollars (1e-3 cents); rounding there removes float noise
    // that would only lengthen the saved JSON.
    kept.push([nowSeconds, Math.round(balanceCents * 1000) / 1000]);
    changed = true;
  }
  const limit = maxHistorySamples(forecastDays);
  if (kept.length > limit) {
    kept.splice(0, kept.length - limit);
    changed = true;
  }
  return changed ? kept : previous;
}

/**
 * Measures the burn rate from the account's own balance over the last `forecastDays`. This is
 * what the credits actually paid for, which the usage overview may overstate.
 *
 * The spend is the sum of the declines between consecutive samples. A rise is a top-up (or a
 * refund): its interval is left out of both the spend and the elapsed time, because the
 * spend during it is hidden by the top-up; counting its time with no spend would understate
 * the rate, the unsafe direction for an alert.
 *
 * Returns undefined ("not enough history") with fewer than MIN_HISTORY_SAMPLES samples in
 * the window or less than MIN_HISTORY_DAYS of measured time.
 */
export function burnFromHistory(
  history: readonly BalanceSample[] | undefined,
  now: Date,
  forecastDays: number,
): BalanceBurn | undefined {
  if (history === undefined) {
    return undefined;
  }
  checkForecastDays(forecastDays);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const samples = sortedSamples(history, nowSeconds - forecastDays * SECONDS_PER_DAY, nowSeconds);
  if (samples.length < MIN_HISTORY_SAMPLES) {
    return undefined;
  }
  let spendCents = 0;
  let measuredSeconds = 0;
  for (let i = 1; i < samples.length; i++) {
    const [beforeSeconds, beforeCents] = samples[i - 1] as BalanceSample;
    const [afterSeconds, afterCents] = samples[i] as BalanceSample;
    const decline = beforeCents - afterCents;
    if (decline < 0) {
      continue;
    }
    spendCents += decline;
    measuredSeconds += afterSeconds - beforeSeconds;
  }
  const windowDays = measuredSeconds / SECONDS_PER_DAY;
  if (windowDays < MIN_HISTORY_DAYS) {
    return undefined;
  }
  return { dailySpendCents: spendCents / windowDays, windowDays };
}

/**
 * Turns the balance and whatever spend data exists into a forecast.
 *
 * Balance history wins when it is long enough: usage cost can include traffic that the
 * credits do not pay for. Otherwise the usage summary is used; with neither, there is no
 * forecast and the note says why. Top spenders always come from the usage summary, the only
 * source that knows access keys.
 *
 * runwayDays is 0 when the balance is already at or below zero, and null when nothing is
 * being spent (the balance is not running down, so it has no end date).
 */
export function makeForecast(input: ForecastInput): ForecastResult {
  const { balanceCents, usage } = input;
  if (!Number.isFinite(balanceCents)) {
    return { note: 'no forecast: the balance is not a number' };
  }
  const burn = burnFromHistory(input.history, input.now, input.forecastDays);
  const rate: Pick<Forecast, 'source' | 'dailySpendCents' | 'windowDays'> | undefined = burn
    ? { source: 'balance-history', ...burn }
    : usage
      ? { source: 'usage', dailySpendCents: usage.dailySpendCents, windowDays: usage.windowDays }
      : undefined;
  if (rate === undefined) {
    return {
      note: `no usage data yet, and less than ${MIN_HISTORY_DAYS} days of balance history`,
    };
  }
  const runwayDays =
    balanceCents <= 0 ? 0 : rate.dailySpendCents > 0 ? balanceCents / rate.dailySpendCents : null;
  return {
    forecast: {
      ...rate,
      runwayDays,
      topSpenders: usage?.topSpenders ?? [],
    },
  };
}

/**
 * The keys that spent most. A key whose refunds outweigh its spend spent nothing; shares
 * are of the spending keys' total, so a refund elsewhere cannot push one past 100%.
 */
function topSpenders(byKey: ReadonlyMap<string, Dollars>): TopSpender[] {
  const spending = [...byKey].filter(([, cost]) => cost.units > 0n);
  const totalCents = dollarsToCents(
    spending.reduce((sum, [, c]) => addDollars(sum, c), ZERO_DOLLARS),
  );
  return spending
    .sort(([keyA, a], [keyB, b]) => compareDollars(b, a) || (keyA < keyB ? -1 : 1))
    .slice(0, TOP_SPENDER_COUNT)
    .map(([accessKey, cost]) => ({
      accessKey,
      costCents: dollarsToCents(cost),
      share: dollarsToCents(cost) / totalCents,
    }));
}

/** Well-formed samples in [fromSeconds, toSeconds], oldest first, as a new array. */
function sortedSamples(
  history: readonly BalanceSample[],
  fromSeconds: number,
  toSeconds: number,
): BalanceSample[] {
  const samples = history.filter((s) => isSample(s) && s[0] >= fromSeconds && s[0] <= toSeconds);
  // Saved state is written in order; sorting only when it is not keeps the common case cheap.
  if (samples.some((s, i) => i > 0 && s[0] < (samples[i - 1] as BalanceSample)[0])) {
    samples.sort((a, b) => a[0] - b[0]);
  }
  return samples;
}

/** Saved state is parsed JSON: the type says BalanceSample, but the value may be anything. */
function isSample(value: unknown): value is BalanceSample {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isFinite(value[0]) &&
    Number.isFinite(value[1])
  );
}

function checkForecastDays(forecastDays: number): void {
  if (!Number.isInteger(forecastDays) || forecastDays < 1) {
    throw new RangeError(
      `forecastDays must be a whole number of days, at least 1: ${forecastDays}`,
    );
  }
}

function startOfUtcDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
}

/** A response value fit for a message: short, and free of control characters. */
function quote(value: unknown): string {
  const text = String(value).replace(/\p{Cc}/gu, '?');
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS - 1)}…` : text;
}
