import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { cutAt, oneLine } from '../lambda/common/text.ts';

describe('oneLine', () => {
  test('collapses line breaks, tabs and runs of spaces to one space and trims', () => {
    expect(oneLine('  a\r\nb\t\tc   d\n')).toBe('a b c d');
  });

  test('treats Unicode spaces as whitespace', () => {
    expect(oneLine('a\u00a0\u2028b\u3000c')).toBe('a b c');
  });

  test('never leaves a line break', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(oneLine(s)).not.toMatch(/[\r\n]/);
      }),
    );
  });
});

describe('cutAt', () => {
  test('cuts plain text at the given length', () => {
    expect(cutAt('abcdef', 3)).toBe('abc');
    expect(cutAt('abc', 10)).toBe('abc');
    expect(cutAt('abc', 0)).toBe('');
  });

  test('does not split a surrogate pair', () => {
    // '😀' is two UTF-16 code units.
    expect(cutAt('ab😀cd', 3)).toBe('ab');
    expect(cutAt('ab😀cd', 4)).toBe('ab😀');
  });

  test('returns a prefix of at most `end` characters with no lone high surrogate at the end', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(40), (s, end) => {
        const cut = cutAt(s, end);
        expect(s.startsWith(cut)).toBe(true);
        expect(cut.length).toBeLessThanOrEqual(end);
        expect(cut.length).toBeGreaterThanOrEqual(Math.min(end, s.length) - 1);
        const last = cut.charCodeAt(cut.length - 1);
        expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
      }),
    );
  });
});
