import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  addDollars,
  compareDollars,
  type Dollars,
  dollarsToCents,
  parseDollars,
  ZERO_DOLLARS,
} from '../lambda/common/decimal.ts';

/** Writes `units` × 10^-`digits` dollars as a decimal string with exactly `digits` digits. */
function formatUnits(units: bigint, digits: number): string {
  const sign = units < 0n ? '-' : '';
  const abs = (units < 0n ? -units : units).toString().padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${abs}` : `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}

/** An amount as a comparable pair, the way a person would write it down. */
function exact(amount: Dollars | undefined): string | undefined {
  return amount === undefined ? undefined : formatUnits(amount.units, amount.scale);
}

describe('parseDollars', () => {
  test.each([
    ['3.10000', '3.1'],
    ['0.00000', '0'],
    ['0.00001', '0.00001'],
    ['3', '3'],
    ['3.1', '3.1'],
    ['12.34', '12.34'],
    ['007.50000', '7.5'],
    ['999999999.99999', '999999999.99999'],
    ['1.234567', '1.234567'],
    ['0.000000000000000000001', '0.000000000000000000001'],
    ['2.50000000000000000000000000', '2.5'],
    ['-1.00000', '-1'],
    ['-0.25', '-0.25'],
    ['-0', '0'],
    ['-0.000', '0'],
  ])('reads %s exactly as %s dollars', (text, expected) => {
    // Act
    const amount = parseDollars(text);

    // Assess
    expect(exact(amount)).toBe(expected);
  });

  test.each([
    '',
    'abc',
    '1e3',
    'NaN',
    'Infinity',
    '-',
    '--1',
    '+1.00000',
    ' 1.00000',
    '1.00000 ',
    '1.',
    '.5',
    '-.5',
    '1,000.00000',
    '1.000.0',
    '0x10',
    '1000000000.00000',
    '-1000000000',
  ])('rejects %j rather than guessing', (text) => {
    // Act
    const amount = parseDollars(text);

    // Assess
    expect(amount).toBeUndefined();
  });

  test('rejects values that are not strings, which a JSON body can carry', () => {
    // Prepare
    const values: unknown[] = [3.1, null, undefined, {}, ['1.00000']];

    // Act
    const parsed = values.map((v) => parseDollars(v as string));

    // Assess
    expect(parsed).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  test('summing parsed costs of any precision and sign equals the exact decimal sum', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
            fc.integer({ min: 0, max: 3 }),
          ),
          { maxLength: 30 },
        ),
        (amounts) => {
          // Prepare: every amount written with 0 to 3 digits beyond its exact 12 fractional digits.
          const texts = amounts.map(
            ([units, padding]) => `${formatUnits(units, 12)}${'0'.repeat(padding)}`,
          );

          // Act
          const sum = texts.reduce<Dollars>(
            (acc, text) => addDollars(acc, parseDollars(text) ?? { units: 10n ** 40n, scale: 0 }),
            ZERO_DOLLARS,
          );

          // Assess
          const expected = amounts.reduce((acc, [units]) => acc + units, 0n);
          expect(compareDollars(sum, { units: expected, scale: 12 })).toBe(0);
        },
      ),
    );
  });

  test('trailing fractional zeros do not change the amount', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -99_999_999_999_999n, max: 99_999_999_999_999n }),
        fc.integer({ min: 0, max: 30 }),
        (units, zeros) => {
          // Prepare
          const plain = formatUnits(units, 5);

          // Act
          const padded = parseDollars(`${plain}${'0'.repeat(zeros)}`);

          // Assess
          expect(padded).toBeDefined();
          expect(compareDollars(padded as Dollars, { units, scale: 5 })).toBe(0);
        },
      ),
    );
  });
});

describe('addDollars', () => {
  test('adds amounts of different precision exactly', () => {
    // Prepare
    const a = parseDollars('0.1') as Dollars;
    const b = parseDollars('0.2') as Dollars;
    const c = parseDollars('-0.000000000000000000003') as Dollars;

    // Act
    const sum = addDollars(addDollars(a, b), c);

    // Assess
    expect(exact(sum)).toBe('0.299999999999999999997');
  });
});

describe('compareDollars', () => {
  test.each([
    ['1.5', '1.50000', 0],
    ['1.5', '1.49999999', 1],
    ['-2', '1', -1],
    ['0.000000001', '0', 1],
  ])('compares %s with %s as %i', (a, b, expected) => {
    // Act
    const order = compareDollars(parseDollars(a) as Dollars, parseDollars(b) as Dollars);

    // Assess
    expect(order).toBe(expected);
  });
});

describe('dollarsToCents', () => {
  test.each([
    ['3.10000', 310],
    ['0.00001', 0.001],
    ['0', 0],
    ['12', 1200],
    ['-1.25', -125],
    ['0.1', 10],
    ['123.456789', 12345.6789],
    [`0.${'0'.repeat(400)}1`, 0],
    [`1.${'3'.repeat(400)}`, 133.33333333333334],
  ])('converts %s dollars to %s cents, keeping fractions of a cent', (text, cents) => {
    // Act
    const converted = dollarsToCents(parseDollars(text) as Dollars);

    // Assess
    expect(converted).toBe(cents);
  });
});
