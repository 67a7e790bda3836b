import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseDollars, UNITS_PER_DOLLAR, unitsToCents } from '../lambda/decimal.ts';

/** Writes whole units the way the API does: "d.ddddd". */
function formatUnits(units: bigint): string {
  const whole = units / UNITS_PER_DOLLAR;
  const fraction = (units % UNITS_PER_DOLLAR).toString().padStart(5, '0');
  return `${whole}.${fraction}`;
}

describe('parseDollars', () => {
  test.each([
    ['3.10000', 310_000n],
    ['0.00000', 0n],
    ['0.00001', 1n],
    ['3', 300_000n],
    ['3.1', 310_000n],
    ['12.34', 1_234_000n],
    ['007.50000', 750_000n],
    ['999999999.99999', 99_999_999_999_999n],
  ])('reads %s exactly as %s units of 1e-5 dollars', (text, expected) => {
    // Act
    const units = parseDollars(text);

    // Assess
    expect(units).toBe(expected);
  });

  test.each([
    '',
    'abc',
    '1e3',
    'NaN',
    'Infinity',
    '1.234567',
    '-1.00000',
    '-0',
    '+1.00000',
    ' 1.00000',
    '1.00000 ',
    '1.',
    '.5',
    '1,000.00000',
    '0x10',
    '1000000000.00000',
  ])('rejects %j rather than guessing', (text) => {
    // Act
    const units = parseDollars(text);

    // Assess
    expect(units).toBeUndefined();
  });

  test('rejects values that are not strings, which a JSON body can carry', () => {
    // Prepare
    const values: unknown[] = [3.1, null, undefined, {}, ['1.00000']];

    // Act
    const parsed = values.map((v) => parseDollars(v as string));

    // Assess
    expect(parsed).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  test('summing parsed costs equals the exact decimal sum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 99_999_999_999_999n }), { maxLength: 50 }),
        (amounts) => {
          // Prepare
          const texts = amounts.map(formatUnits);

          // Act
          const sum = texts.reduce((acc, text) => acc + (parseDollars(text) ?? -1n), 0n);

          // Assess
          expect(sum).toBe(amounts.reduce((acc, units) => acc + units, 0n));
        },
      ),
    );
  });

  test('trailing fractional zeros do not change the amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 99_999_999_999_999n }), (units) => {
        // Prepare
        const full = formatUnits(units);
        const trimmed = full.replace(/\.?0+$/, '') || '0';

        // Act
        const parsed = parseDollars(trimmed);

        // Assess
        expect(parsed).toBe(units);
      }),
    );
  });
});

describe('unitsToCents', () => {
  test('converts units of 1e-5 dollars to cents, keeping fractions of a cent', () => {
    // Act
    const cents = [unitsToCents(310_000n), unitsToCents(1n), unitsToCents(0n)];

    // Assess
    expect(cents).toEqual([310, 0.001, 0]);
  });
});
