import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCents } from '../lambda/common/money.ts';

describe('formatCents', () => {
  it.each([
    [310, '$3.10'],
    [0, '$0.00'],
    [5, '$0.05'],
    [-125, '-$1.25'],
    [123450, '$1,234.50'],
    [100_000_000, '$1,000,000.00'],
    [-123456789, '-$1,234,567.89'],
  ])('formats %d cents as %s', (cents, expected) => {
    expect(formatCents(cents)).toBe(expected);
  });

  it('rounds fractional cents to the nearest cent', () => {
    expect(formatCents(310.4)).toBe('$3.10');
    expect(formatCents(310.5)).toBe('$3.11');
    expect(formatCents(-0.5)).toBe('-$0.01');
  });

  it('never shows a minus sign on an amount that rounds to zero', () => {
    expect(formatCents(-0)).toBe('$0.00');
    expect(formatCents(-0.4)).toBe('$0.00');
  });

  it('rejects amounts that are not finite', () => {
    expect(() => formatCents(Number.NaN)).toThrow(RangeError);
    expect(() => formatCents(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('round-trips any whole number of cents', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (cents) => {
        const text = formatCents(cents);
        expect(text).toMatch(/^-?\$\d{1,3}(,\d{3})*\.\d{2}$/);
        expect(Math.round(Number(text.replace(/[$,]/g, '')) * 100)).toBe(cents === 0 ? 0 : cents);
      }),
    );
  });
});
