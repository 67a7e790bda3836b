import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import {
  MAX_RECENT_SAMPLES,
  MAX_SAMPLE_AGE_SECONDS,
  MIN_SAMPLE_GAP_SECONDS,
  type RecentSample,
  recentRate,
  recordRecentSample,
} from '../lambda/observe/recent-rate.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const MINUTE = 60;

/** Readings every `stepMinutes`, the last one now, with the given balances (oldest first). */
function readings(balances: number[], stepMinutes = 15): RecentSample[] {
  return balances.map((cents, i) => [
    NOW_SECONDS - (balances.length - 1 - i) * stepMinutes * MINUTE,
    cents,
  ]);
}

describe('recentRate', () => {
  test('measures a steady burn in cents per hour over two intervals', () => {
    // Prepare: $1 every 15 minutes.
    const samples = readings([50_000, 49_900, 49_800]);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({ known: true, centsPerHour: 400, windowMinutes: 30, intervals: 2 });
  });

  test('uses only the newest two intervals', () => {
    // Prepare: a quiet start, then $40 every 15 minutes.
    const samples = readings([50_000, 50_000, 50_000, 46_000, 42_000]);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({ known: true, centsPerHour: 16_000, windowMinutes: 30, intervals: 2 });
  });

  test('a spike shows only once two intervals have it', () => {
    // Prepare: one interval of $40 after a quiet one.
    const samples = readings([50_000, 49_990, 45_990]);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess: the slower of the two intervals.
    expect(rate).toMatchObject({ known: true, centsPerHour: 40 });
  });

  test('a single lagging reading never raises the rate above the steady burn', () => {
    // Prepare: $1 every 15 minutes; the third reading lags a whole interval behind.
    const balances = [50_000, 49_900, 49_900, 49_700, 49_600, 49_500];
    const rates: number[] = [];

    // Act: the rate as each run would see it.
    for (let run = 2; run < balances.length; run++) {
      const rate = recentRate(readings(balances.slice(0, run + 1)), NOW);
      rates.push(rate.known ? rate.centsPerHour : Number.NaN);
    }

    // Assess
    expect(rates).toEqual([0, 0, 400, 400]);
  });

  test('leaves a top-up out of both spend and time', () => {
    // Prepare: $40 a quarter hour, with $100 bought between the second and third reading.
    const samples = readings([50_000, 46_000, 52_000, 48_000]);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({ known: true, centsPerHour: 16_000, windowMinutes: 30, intervals: 2 });
  });

  test('accepts one interval of 30 minutes or more on its own (a slower schedule)', () => {
    // Prepare
    const samples = readings([10_000, 9_000], 30);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({ known: true, centsPerHour: 2_000, windowMinutes: 30, intervals: 1 });
  });

  test('needs only two intervals on a faster schedule, however short', () => {
    // Prepare
    const samples = readings([10_000, 9_900, 9_800], 10);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({ known: true, centsPerHour: 600, windowMinutes: 20, intervals: 2 });
  });

  test('is unknown with one interval shorter than 30 minutes', () => {
    // Prepare
    const samples = readings([10_000, 9_000], 29);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({
      known: false,
      reason: 'the recent readings cover less than two intervals or 30 minutes without a top-up',
    });
  });

  test.each([
    ['no readings', undefined, 'no recent balance readings yet'],
    ['no readings', [], 'no recent balance readings yet'],
    ['one reading', readings([10_000]), 'only one recent balance reading so far'],
    [
      'only rises',
      readings([10_000, 12_000, 15_000]),
      'the balance only rose between the recent readings (a top-up)',
    ],
  ])('is unknown, with the reason, for a new account with %s', (_name, samples, reason) => {
    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({ known: false, reason });
  });

  test('ignores readings from the future, too old, malformed or repeated', () => {
    // Prepare
    const samples = [
      [NOW_SECONDS - MAX_SAMPLE_AGE_SECONDS, 0],
      ['soon', 1],
      [NOW_SECONDS - 30 * MINUTE, 10_000],
      [NOW_SECONDS - 15 * MINUTE, 9_900],
      [NOW_SECONDS - 15 * MINUTE, 1],
      [NOW_SECONDS, 9_800],
      [NOW_SECONDS + 60, 0],
      null,
    ] as unknown as RecentSample[];

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toEqual({ known: true, centsPerHour: 400, windowMinutes: 30, intervals: 2 });
  });

  test('reads readings saved out of order', () => {
    // Prepare
    const samples = readings([10_000, 9_900, 9_800]).reverse();

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate).toMatchObject({ known: true, centsPerHour: 400 });
  });

  propertyTest.prop([
    fc.integer({ min: 0, max: 1_000_000 }),
    fc.integer({ min: 1, max: 60 }),
    fc.integer({ min: 3, max: MAX_RECENT_SAMPLES }),
  ])('a steady burn at any rate and schedule measures that rate', (perStep, step, count) => {
    // Prepare
    const samples = readings(
      Array.from({ length: count }, (_, i) => 10_000_000 - i * perStep),
      step,
    );

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    expect(rate.known).toBe(true);
    expect(rate.known && rate.centsPerHour).toBeCloseTo((perStep * 60) / step, 6);
  });

  propertyTest.prop([
    fc.array(fc.integer({ min: -100_000, max: 100_000 }), { minLength: 2, maxLength: 5 }),
  ])('the rate is never above the fastest decline between two readings', (steps) => {
    // Prepare
    const balances = [1e7];
    for (const decline of steps) balances.push((balances.at(-1) as number) - decline);
    const samples = readings(balances);

    // Act
    const rate = recentRate(samples, NOW);

    // Assess
    const fastest = Math.max(0, ...steps) * 4;
    if (rate.known) expect(rate.centsPerHour).toBeLessThanOrEqual(fastest);
  });
});

describe('recordRecentSample', () => {
  test('starts the readings with this run’s balance', () => {
    // Act
    const samples = recordRecentSample(undefined, 12_345, NOW);

    // Assess
    expect(samples).toEqual([[NOW_SECONDS, 12_345]]);
  });

  test(`keeps the newest ${MAX_RECENT_SAMPLES} readings`, () => {
    // Prepare
    const saved = readings([1, 2, 3, 4, 5, 6]).map(([s, c]): RecentSample => [s - 15 * MINUTE, c]);

    // Act
    const samples = recordRecentSample(saved, 7, NOW);

    // Assess
    expect(samples.map(([, c]) => c)).toEqual([3, 4, 5, 6, 7]);
  });

  test('skips a reading taken less than five minutes after the newest', () => {
    // Prepare
    const saved: RecentSample[] = [[NOW_SECONDS - MIN_SAMPLE_GAP_SECONDS + 1, 100]];

    // Act
    const samples = recordRecentSample(saved, 90, NOW);

    // Assess
    expect(samples).toEqual(saved);
  });

  test('adds a reading taken exactly five minutes after the newest', () => {
    // Prepare
    const saved: RecentSample[] = [[NOW_SECONDS - MIN_SAMPLE_GAP_SECONDS, 100]];

    // Act
    const samples = recordRecentSample(saved, 90, NOW);

    // Assess
    expect(samples).toEqual([...saved, [NOW_SECONDS, 90]]);
  });

  test('drops readings older than six hours, and a balance that is not a number', () => {
    // Prepare
    const saved: RecentSample[] = [
      [NOW_SECONDS - MAX_SAMPLE_AGE_SECONDS, 100],
      [NOW_SECONDS - MAX_SAMPLE_AGE_SECONDS + 1, 99],
    ];

    // Act
    const samples = recordRecentSample(saved, Number.NaN, NOW);

    // Assess
    expect(samples).toEqual([[NOW_SECONDS - MAX_SAMPLE_AGE_SECONDS + 1, 99]]);
  });

  test('five readings of a large balance fit in 120 bytes of state', () => {
    // Prepare
    let samples: RecentSample[] = [];

    // Act
    for (let i = 0; i < 10; i++) {
      samples = recordRecentSample(
        samples,
        99_999_999 - i,
        new Date(NOW.getTime() + i * 15 * 60_000),
      );
    }

    // Assess
    expect(JSON.stringify(samples).length).toBeLessThanOrEqual(120);
  });
});
