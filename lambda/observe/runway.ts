/**
 * The runway shown and alerted on: the shorter of the recent rate's runway and the
 * long-term (7-day) rate's runway. A spike empties the balance long before the 7-day
 * average notices; a quiet hour must not hide a week of steady spend. Numbers only: the
 * words are in notify/runway-text.ts. Pure.
 */
import type { RecentRate } from './recent-rate.ts';

/** Which rate gave the shorter runway. */
export type RunwayBasis = 'recent' | 'average';

export interface Runway {
  /** Hours until the balance reaches zero; 0 when it already has, null when nothing is spent. */
  readonly hours: number | null;
  /** The rate that gave `hours`. */
  readonly basis: RunwayBasis;
  /** The rate `hours` was computed at, in cents per hour; 0 when nothing is spent. */
  readonly centsPerHour: number;
  /** The recent rate, as measured (for the text, also when the average won). */
  readonly recent: RecentRate;
  /** The long-term rate in cents per day, when there is one. */
  readonly averageDailyCents?: number;
  /** Days the long-term rate covers. */
  readonly averageWindowDays?: number;
}

export interface RunwayInput {
  readonly balanceCents: number;
  readonly recent: RecentRate;
  /** The forecast's long-term rate (forecast.ts), when it has one. */
  readonly average?: { readonly dailySpendCents: number; readonly windowDays: number };
}

/**
 * The shorter runway of the two rates. On a tie the long-term rate is named, the one a
 * reader already knows. Returns undefined when neither rate is known.
 */
export function shorterRunway(input: RunwayInput): Runway | undefined {
  const { balanceCents, recent, average } = input;
  const candidates: { basis: RunwayBasis; centsPerHour: number }[] = [];
  if (average !== undefined) {
    candidates.push({ basis: 'average', centsPerHour: average.dailySpendCents / 24 });
  }
  if (recent.known) candidates.push({ basis: 'recent', centsPerHour: recent.centsPerHour });
  const fastest = candidates.reduce<(typeof candidates)[number] | undefined>(
    (best, c) => (best === undefined || c.centsPerHour > best.centsPerHour ? c : best),
    undefined,
  );
  if (fastest === undefined) return undefined;
  const rate = Math.max(0, fastest.centsPerHour);
  return {
    hours: balanceCents <= 0 ? 0 : rate > 0 ? balanceCents / rate : null,
    basis: fastest.basis,
    centsPerHour: rate,
    recent,
    averageDailyCents: average?.dailySpendCents,
    averageWindowDays: average?.windowDays,
  };
}
