/**
 * The rules for the two spend-spike settings, as one pure function that returns a message
 * per problem, each naming the setting, the value and what is expected. Meant for the
 * configuration contract (checked at synth, and again where the function reads its
 * configuration).
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

export interface SpikeSettingsInput {
  /** 0 turns spike alerts off; otherwise MIN_SPIKE_FACTOR to MAX_SPIKE_FACTOR, decimals allowed. */
  readonly spikeFactor?: unknown;
  /** Whole cents per hour, 1 to MAX_SPIKE_MIN_CENTS_PER_HOUR. */
  readonly spikeMinCentsPerHour?: unknown;
}

export interface SpikeSettingsResult {
  readonly spikeFactor: number;
  readonly spikeMinCentsPerHour: number;
  /** One message per invalid setting; empty when both are valid (or absent: defaults). */
  readonly problems: readonly string[];
}

/**
 * Reads and checks `spikeFactor` and `spikeMinCentsPerHour` as they come from CDK context
 * (strings on the command line, numbers in cdk.json). An absent or empty value takes the
 * default; an invalid one is reported and the default is returned alongside, so the caller
 * can list every problem at once.
 */
export function checkSpikeSettings(input: SpikeSettingsInput): SpikeSettingsResult {
  const problems: string[] = [];
  const factor = readNumber(input.spikeFactor);
  let spikeFactor = DEFAULT_SPIKE_FACTOR;
  if (factor !== undefined) {
    if (
      factor === 0 ||
      (Number.isFinite(factor) && factor >= MIN_SPIKE_FACTOR && factor <= MAX_SPIKE_FACTOR)
    ) {
      spikeFactor = factor;
    } else {
      problems.push(
        `"spikeFactor": ${show(input.spikeFactor)} is not valid. Expected 0 (spike alerts off) or ` +
          `a number from ${MIN_SPIKE_FACTOR} to ${MAX_SPIKE_FACTOR}, e.g. 3: an alert when the ` +
          'recent spend rate is 3 times the 7-day average.',
      );
    }
  }
  const minimum = readNumber(input.spikeMinCentsPerHour);
  let spikeMinCentsPerHour = DEFAULT_SPIKE_MIN_CENTS_PER_HOUR;
  if (minimum !== undefined) {
    if (Number.isInteger(minimum) && minimum >= 1 && minimum <= MAX_SPIKE_MIN_CENTS_PER_HOUR) {
      spikeMinCentsPerHour = minimum;
    } else {
      problems.push(
        `"spikeMinCentsPerHour": ${show(input.spikeMinCentsPerHour)} is not valid. Expected a ` +
          `whole number of cents per hour from 1 to ${MAX_SPIKE_MIN_CENTS_PER_HOUR}, e.g. 100 ` +
          '($1.00/h): spend slower than this is never a spike. To turn spike alerts off, set ' +
          '"spikeFactor" to 0.',
      );
    }
  }
  return { spikeFactor, spikeMinCentsPerHour, problems };
}

/** A number as context gives it, NaN when it is not one, undefined when absent. */
function readNumber(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const text = value.trim();
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
