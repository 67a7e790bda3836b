/**
 * The recent spend rate: how fast the balance fell over the last runs, on the scale of
 * minutes rather than days, so a spike (a runaway agent loop, a leaked access key) is seen
 * while there is still time to act. Pure: the clock is passed in.
 *
 * The balance is eventually consistent with spend, so one reading can lag: it shows too
 * little spend for the interval before it and the catch-up in the interval after it. The
 * rate is therefore the lowest rate of at least two consecutive intervals (or of one
 * interval of at least 30 minutes): a lagging reading can only lower that, never raise it,
 * so it can never raise an alert. Spend that is real shows in every interval.
 */

/** A saved balance reading: [when, in seconds since the epoch; balance in cents]. */
export type RecentSample = [epochSeconds: number, balanceCents: number];

/** A rate measured from the recent readings. */
export interface KnownRecentRate {
  readonly known: true;
  /** The lowest rate of the window's intervals, in cents per hour; 0 when nothing was spent. */
  readonly centsPerHour: number;
  /** Minutes of readings the rate covers (intervals that contain a top-up are left out). */
  readonly windowMinutes: number;
  /** How many intervals the rate covers. */
  readonly intervals: number;
}

/** Why there is no recent rate. */
export interface UnknownRecentRate {
  readonly known: false;
  /** For a person: says what is missing, e.g. "only one balance reading so far". */
  readonly reason: string;
}

export type RecentRate = KnownRecentRate | UnknownRecentRate;

/** At most this many readings are saved: three give two intervals, the rest skip top-ups. */
export const MAX_RECENT_SAMPLES = 5;

/** A reading this soon after the newest saved one is not saved: runs that close say nothing. */
export const MIN_SAMPLE_GAP_SECONDS = 5 * 60;

/** Readings older than this are not recent: after an outage the rate starts afresh. */
export const MAX_SAMPLE_AGE_SECONDS = 6 * 3600;

/** One interval this long is enough on its own (a schedule of 30 minutes or more). */
export const MIN_WINDOW_SECONDS = 30 * 60;

/** Otherwise this many intervals are needed, so one lagging reading cannot decide. */
export const MIN_WINDOW_INTERVALS = 2;

const SECONDS_PER_HOUR = 3600;

/**
 * Adds the balance read by this run to the saved readings and trims them to the few the
 * rate needs: at most MAX_RECENT_SAMPLES, none older than MAX_SAMPLE_AGE_SECONDS, none
 * from the future, no malformed entry (saved state is parsed JSON). A reading less than
 * MIN_SAMPLE_GAP_SECONDS after the newest saved one is not added.
 */
export function recordRecentSample(
  samples: readonly RecentSample[] | undefined,
  balanceCents: number,
  now: Date,
): RecentSample[] {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const kept = usableSamples(samples, nowSeconds);
  const newest = kept.at(-1);
  if (
    Number.isFinite(balanceCents) &&
    (newest === undefined || nowSeconds - newest[0] >= MIN_SAMPLE_GAP_SECONDS)
  ) {
    kept.push([nowSeconds, balanceCents]);
  }
  return kept.slice(-MAX_RECENT_SAMPLES);
}

/**
 * The recent spend rate from the saved readings (this run's included).
 *
 * Walks the intervals between consecutive readings from the newest back, until it has
 * MIN_WINDOW_INTERVALS of them or MIN_WINDOW_SECONDS of time. An interval in which the
 * balance rose holds a top-up (or a refund) that hides its spend: it is left out of both
 * the spend and the time. The rate is the lowest of the window's interval rates.
 */
export function recentRate(samples: readonly RecentSample[] | undefined, now: Date): RecentRate {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const usable = usableSamples(samples, nowSeconds);
  if (usable.length < 2) {
    return {
      known: false,
      reason:
        usable.length === 0
          ? 'no recent balance readings yet'
          : 'only one recent balance reading so far',
    };
  }
  let lowest = Number.POSITIVE_INFINITY;
  let seconds = 0;
  let intervals = 0;
  for (let i = usable.length - 1; i > 0; i--) {
    const [beforeSeconds, beforeCents] = usable[i - 1] as RecentSample;
    const [afterSeconds, afterCents] = usable[i] as RecentSample;
    const decline = beforeCents - afterCents;
    if (decline < 0) continue;
    const length = afterSeconds - beforeSeconds;
    lowest = Math.min(lowest, (decline / length) * SECONDS_PER_HOUR);
    seconds += length;
    intervals++;
    if (intervals >= MIN_WINDOW_INTERVALS || seconds >= MIN_WINDOW_SECONDS) {
      return { known: true, centsPerHour: lowest, windowMinutes: seconds / 60, intervals };
    }
  }
  return {
    known: false,
    reason:
      intervals === 0
        ? 'the balance only rose between the recent readings (a top-up)'
        : 'the recent readings cover less than two intervals or 30 minutes without a top-up',
  };
}

/**
 * Well-formed readings in (now - MAX_SAMPLE_AGE_SECONDS, now], oldest first, one per second,
 * as a new array.
 */
function usableSamples(
  samples: readonly RecentSample[] | undefined,
  nowSeconds: number,
): RecentSample[] {
  const fresh = (samples ?? []).filter(
    (s) => isSample(s) && s[0] <= nowSeconds && nowSeconds - s[0] < MAX_SAMPLE_AGE_SECONDS,
  );
  fresh.sort((a, b) => a[0] - b[0]);
  // Two readings in the same second (a retried run) would make an interval of no length.
  return fresh.filter((s, i) => i === 0 || s[0] !== (fresh[i - 1] as RecentSample)[0]);
}

/** Saved state is parsed JSON: the type says RecentSample, but the value may be anything. */
function isSample(value: unknown): value is RecentSample {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isFinite(value[0]) &&
    Number.isFinite(value[1])
  );
}
