/**
 * Exact arithmetic for the dollar amounts in ngrok.ai usage responses.
 *
 * The API writes costs as decimal strings ("3.10000"); its spec does not fix the number of
 * fractional digits, and refunds or corrections can be negative. Summing them as floats
 * drifts (0.1 + 0.2 !== 0.3), and a forecast that alerts on a drifted total is hard to
 * explain, so an amount is held exactly, as a whole number of units of 10^-scale dollars.
 */

/** An exact amount of US dollars: `units` × 10^-`scale`. */
export interface Dollars {
  readonly units: bigint;
  /** Fractional digits; never negative. */
  readonly scale: number;
}

export const ZERO_DOLLARS: Dollars = { units: 0n, scale: 0 };

/** Fractional digits of a cent kept when converting: more than a double can hold anyway. */
const MAX_CENT_DIGITS = 17;

/**
 * Whole dollars are capped at nine digits: no single day's cost comes near a billion dollars,
 * and anything larger is more likely garbage than spend. Rejecting it makes the forecast
 * unknown, which is safe; accepting it could raise a false alarm. Fractional digits are not
 * capped (the response as a whole is).
 */
const DOLLARS = /^(-?)(\d{1,9})(?:\.(\d+))?$/;

/**
 * Reads a cost from the usage API exactly: "3.10000" is 3.1 dollars, "-0.25" a refund of a
 * quarter, "0.000000001" a billionth of a dollar.
 *
 * Returns undefined for anything that is not a plain decimal number ("", "abc", "1e3",
 * "NaN", "+1", "1.", ".5", "1,000"): the caller must treat such a cost as unknown, never as
 * zero, or a broken response would silence the alert.
 */
export function parseDollars(text: string): Dollars | undefined {
  // The response is JSON from the network: a number or null can arrive where a string is typed.
  if (typeof text !== 'string') {
    return undefined;
  }
  const match = DOLLARS.exec(text);
  if (match === null) {
    return undefined;
  }
  const [, sign, whole = '0', digits = ''] = match;
  // Trailing zeros carry no value; dropping them keeps sums at the scale they need.
  const fraction = digits.replace(/0+$/, '');
  const units = BigInt(whole + fraction);
  return { units: sign === '-' ? -units : units, scale: fraction.length };
}

/** The exact sum of two amounts. */
export function addDollars(a: Dollars, b: Dollars): Dollars {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
}

/** Compares two amounts exactly: negative when a < b, 0 when equal, positive when a > b. */
export function compareDollars(a: Dollars, b: Dollars): number {
  const scale = Math.max(a.scale, b.scale);
  const difference = rescale(a, scale) - rescale(b, scale);
  return difference === 0n ? 0 : difference < 0n ? -1 : 1;
}

/**
 * Converts an exact amount to cents only at the end of a calculation, so that rounding
 * happens once: the result is within a rounding of the exact value.
 */
export function dollarsToCents(amount: Dollars): number {
  // Cents are dollars at two fewer fractional digits.
  const centsScale = amount.scale - 2;
  if (centsScale <= 0) return Number(amount.units * 10n ** BigInt(-centsScale));
  // Digits below a double's precision are cut before the division, which would otherwise
  // meet numbers too large for a double (Infinity / Infinity).
  const kept = Math.min(centsScale, MAX_CENT_DIGITS);
  return Number(amount.units / 10n ** BigInt(centsScale - kept)) / 10 ** kept;
}

function rescale(amount: Dollars, scale: number): bigint {
  return amount.units * 10n ** BigInt(scale - amount.scale);
}
