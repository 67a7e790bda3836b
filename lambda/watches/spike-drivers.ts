/**
 * Who is driving a spend spike: each access key's spend today against its own average over
 * the days before, from a usage overview grouped by access key (the same response the
 * forecast reads). Pure.
 */
import {
  addDollars,
  type Dollars,
  dollarsToCents,
  parseDollars,
  ZERO_DOLLARS,
} from '../common/decimal.ts';
import { TOP_SPENDER_COUNT, type UsageOverview, usageWindowStart } from '../observe/forecast.ts';

const MS_PER_HOUR = 3_600_000;
const HOURS_PER_DAY = 24;

/**
 * Today's spend is spread over at least this many hours, so a key's first requests after
 * midnight UTC are not extrapolated into a spike.
 */
export const MIN_TODAY_HOURS = 1;

/** One access key's spend today next to its own usual rate. */
export interface SpikeDriver {
  readonly accessKey: string;
  /** Today's spend so far (UTC day), per hour elapsed. */
  readonly todayCentsPerHour: number;
  /** The key's average over the full days before today, per hour; 0 for a new key. */
  readonly averageCentsPerHour: number;
  /** How much faster the key spends today than usual, in cents per hour. */
  readonly excessCentsPerHour: number;
}

/**
 * The access keys spending faster today than their own average over the `forecastDays`
 * full days before today, largest excess first, at most TOP_SPENDER_COUNT. The average
 * leaves today out, so a key's spike does not raise its own baseline.
 *
 * `overview` must come from `groupBy=accessKey` with `startTime = usageWindowStart(now,
 * forecastDays)`. Returns an error when a cost or bucket start cannot be read: the keys are
 * then unknown, and the caller says so rather than naming the wrong ones.
 */
export function spikeDrivers(
  overview: UsageOverview,
  now: Date,
  forecastDays: number,
): readonly SpikeDriver[] | { error: string } {
  const nowMs = now.getTime();
  const windowStartMs = usageWindowStart(now, forecastDays).getTime();
  const todayStartMs = windowStartMs + forecastDays * HOURS_PER_DAY * MS_PER_HOUR;
  const today = new Map<string, Dollars>();
  const before = new Map<string, Dollars>();
  for (const bucket of overview.buckets) {
    const startMs = Date.parse(bucket.bucketStart);
    if (Number.isNaN(startMs)) {
      return { error: 'the usage overview has an unreadable bucketStart' };
    }
    if (startMs < windowStartMs || startMs >= nowMs) continue;
    const cost = parseDollars(bucket.cost);
    if (cost === undefined) return { error: 'the usage overview has an unreadable cost' };
    const into = startMs >= todayStartMs ? today : before;
    into.set(bucket.groupKey, addDollars(into.get(bucket.groupKey) ?? ZERO_DOLLARS, cost));
  }
  const todayHours = Math.max(MIN_TODAY_HOURS, (nowMs - todayStartMs) / MS_PER_HOUR);
  const beforeHours = forecastDays * HOURS_PER_DAY;
  const drivers: SpikeDriver[] = [];
  for (const [accessKey, cost] of today) {
    const todayCentsPerHour = dollarsToCents(cost) / todayHours;
    const averageCentsPerHour = Math.max(
      0,
      dollarsToCents(before.get(accessKey) ?? ZERO_DOLLARS) / beforeHours,
    );
    const excessCentsPerHour = todayCentsPerHour - averageCentsPerHour;
    if (excessCentsPerHour > 0) {
      drivers.push({ accessKey, todayCentsPerHour, averageCentsPerHour, excessCentsPerHour });
    }
  }
  return drivers
    .sort(
      (a, b) => b.excessCentsPerHour - a.excessCentsPerHour || (a.accessKey < b.accessKey ? -1 : 1),
    )
    .slice(0, TOP_SPENDER_COUNT);
}
