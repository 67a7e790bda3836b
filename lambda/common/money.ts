/**
 * Money formatting shared by the monitor's modules. Amounts are kept in cents everywhere.
 */

/**
 * Formats an amount in cents as US dollars: 310 → "$3.10", -125 → "-$1.25", 123450 → "$1,234.50".
 * Fractional cents are rounded to the nearest cent (halves away from zero); an amount that
 * rounds to zero never shows a minus sign.
 * @throws RangeError when `cents` is not a finite number.
 */
export function formatCents(cents: number): string {
  if (!Number.isFinite(cents)) {
    throw new RangeError(`formatCents: not a finite amount: ${cents}`);
  }
  const whole = Math.round(Math.abs(cents));
  const dollars = Math.floor(whole / 100);
  const rest = whole % 100;
  const grouped = String(dollars).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = cents < 0 && whole !== 0 ? '-' : '';
  return `${sign}$${grouped}.${String(rest).padStart(2, '0')}`;
}
