/**
 * Exact arithmetic for the dollar amounts in ngrok.ai usage responses.
 *
 * The API writes costs as decimal strings with up to five fractional digits ("3.10000").
 * Summing them as floats drifts (0.1 + 0.2 !== 0.3), and a forecast that alerts on a
 * drifted total is hard to explain, so amounts are held as whole numbers of 1e-5 dollars.
 */

/** One dollar in units: the API's finest resolution is five fractional digits. */
export const UNITS_PER_DOLLAR = 100_000n;

/** One cent in units: the rest of the monitor counts in cents. */
export const UNITS_PER_CENT = 1_000n;

/**
 * Whole dollars are capped at nine digits: no single day's cost comes near a billion dollars,
 * and anything larger is more likely garbage than spend. Rejecting it makes the forecast
 * unknown, which is safe; accepting it could raise a false alarm.
 */
const DOLLARS = /^(\d{1,9})(?:\.(\d{1,5}))?$/;

/**
 * Reads a cost from the usage API exactly, in units of 1e-5 dollars ("3.10000" is 310000n).
 *
 * Returns undefined for anything that is not a plain non-negative decimal with at most five
 * fractional digits ("", "abc", "1e3", "NaN", "-1.00000", "1.234567"): the caller must treat
 * such a cost as unknown, never as zero, or a broken response would silence the alert.
 */
export function parseDollars(text: string): bigint | undefined {
  // The response is JSON from the network: a number or null can arrive where a string is typed.
  if (typeof text !== 'string') {
    return undefined;
  }
  const match = DOLLARS.exec(text);
  if (match === null) {
    return undefined;
  }
  const [, whole = '0', fraction = ''] = match;
  return BigInt(whole) * UNITS_PER_DOLLAR + BigInt(fraction.padEnd(5, '0'));
}

/**
 * Converts an exact amount to cents only at the end of a calculation, so that rounding
 * happens once. The result is the nearest double to the exact value (both operands are
 * exact below 2^53 units, about 90 billion dollars).
 */
export function unitsToCents(units: bigint): number {
  return Number(units) / Number(UNITS_PER_CENT);
}
