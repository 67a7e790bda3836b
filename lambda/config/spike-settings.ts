/**
 * The bounds of the two spend-spike settings. The configuration contract
 * (config/contract.ts) states the settings with these numbers and checks them at synth and
 * where the function reads its configuration.
 */

export const DEFAULT_SPIKE_FACTOR = 3;
export const DEFAULT_SPIKE_MIN_CENTS_PER_HOUR = 100;

/**
 * The lowest factor that is not 0. Spend follows the working day: a day's spend made in
 * eight busy hours runs at three times the 24-hour average, so a factor below 2 would page
 * on ordinary afternoons. (It also keeps the rule clear of estimator noise, though the
 * estimator takes the lowest of two intervals, which a lagging reading can only lower.)
 */
export const MIN_SPIKE_FACTOR = 2;

/** Above this a spike alert could hardly fire before the balance alert: use 0 to turn it off. */
export const MAX_SPIKE_FACTOR = 100;

/** $100,000 an hour: any larger minimum means spike alerts are off; say so with a factor of 0. */
export const MAX_SPIKE_MIN_CENTS_PER_HOUR = 10_000_000;
