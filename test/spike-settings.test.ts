import { describe, expect, test } from 'vitest';
import {
  checkSpikeSettings,
  DEFAULT_SPIKE_FACTOR,
  DEFAULT_SPIKE_MIN_CENTS_PER_HOUR,
} from '../lambda/spike-settings.ts';

const FACTOR_PROBLEM = (shown: string) =>
  `"spikeFactor": ${shown} is not valid. Expected 0 (spike alerts off) or a number from 2 to ` +
  '100, e.g. 3: an alert when the recent spend rate is 3 times the 7-day average.';
const MINIMUM_PROBLEM = (shown: string) =>
  `"spikeMinCentsPerHour": ${shown} is not valid. Expected a whole number of cents per hour ` +
  'from 1 to 10000000, e.g. 100 ($1.00/h): spend slower than this is never a spike. To turn ' +
  'spike alerts off, set "spikeFactor" to 0.';

describe('checkSpikeSettings', () => {
  test('uses the defaults when neither setting is given', () => {
    // Act
    const result = checkSpikeSettings({ spikeFactor: undefined, spikeMinCentsPerHour: '' });

    // Assess
    expect(result).toEqual({
      spikeFactor: DEFAULT_SPIKE_FACTOR,
      spikeMinCentsPerHour: DEFAULT_SPIKE_MIN_CENTS_PER_HOUR,
      problems: [],
    });
  });

  test.each([
    ['0 (off)', 0, 0],
    ['"0" from the command line', '0', 0],
    ['the lowest factor', 2, 2],
    ['a decimal factor', ' 2.5 ', 2.5],
    ['the highest factor', '100', 100],
  ])('accepts a spikeFactor of %s', (_name, value, expected) => {
    // Act
    const result = checkSpikeSettings({ spikeFactor: value });

    // Assess
    expect(result).toMatchObject({ spikeFactor: expected, problems: [] });
  });

  test.each([
    ['1.99', '"1.99"'],
    [1, '1'],
    [100.5, '100.5'],
    ['-3', '"-3"'],
    ['3x', '"3x"'],
    ['1e1', '"1e1"'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NaN, 'NaN'],
    [true, 'true'],
  ])('refuses a spikeFactor of %j, naming it and the range', (value, shown) => {
    // Act
    const result = checkSpikeSettings({ spikeFactor: value });

    // Assess
    expect(result).toEqual({
      spikeFactor: DEFAULT_SPIKE_FACTOR,
      spikeMinCentsPerHour: DEFAULT_SPIKE_MIN_CENTS_PER_HOUR,
      problems: [FACTOR_PROBLEM(shown)],
    });
  });

  test.each([
    ['1', 1],
    [250, 250],
    ['10000000', 10_000_000],
  ])('accepts a spikeMinCentsPerHour of %j', (value, expected) => {
    // Act
    const result = checkSpikeSettings({ spikeMinCentsPerHour: value });

    // Assess
    expect(result).toMatchObject({ spikeMinCentsPerHour: expected, problems: [] });
  });

  test.each([
    [0, '0'],
    ['1.5', '"1.5"'],
    [10_000_001, '10000001'],
    ['$1', '"$1"'],
    ['x'.repeat(38), `"${'x'.repeat(38)}"`],
    ['x'.repeat(39), `"${'x'.repeat(38)}…`],
  ])('refuses a spikeMinCentsPerHour of %j, naming it and the fix', (value, shown) => {
    // Act
    const result = checkSpikeSettings({ spikeMinCentsPerHour: value });

    // Assess
    expect(result.problems).toEqual([MINIMUM_PROBLEM(shown)]);
    expect(result.spikeMinCentsPerHour).toBe(DEFAULT_SPIKE_MIN_CENTS_PER_HOUR);
  });

  test('reports both problems at once', () => {
    // Act
    const result = checkSpikeSettings({ spikeFactor: '1', spikeMinCentsPerHour: '-1' });

    // Assess
    expect(result.problems).toEqual([FACTOR_PROBLEM('"1"'), MINIMUM_PROBLEM('"-1"')]);
  });
});
