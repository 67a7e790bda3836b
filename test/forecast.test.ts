import { describe, expect, test } from 'vitest';
import type { Forecast } from '../lambda/common/types.ts';
import { formatRunway } from '../lambda/notify/format.ts';
import {
  type BalanceSample,
  burnFromHistory,
  MIN_HISTORY_DAYS,
  makeForecast,
  maxHistorySamples,
  recordBalanceSample,
  SAMPLE_INTERVAL_HOURS,
  summariseUsage,
  type UsageBucket,
  type UsageOverview,
  type UsageSummary,
  usageWindowStart,
} from '../lambda/observe/forecast.ts';

const HOUR_SECONDS = 3_600;
const DAY_SECONDS = 86_400;
/** Noon on a Tuesday: today's bucket is half a day old. */
const NOW = new Date('2026-11-24T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;

function bucket(day: string, cost: string, groupKey = 'ak_prod'): UsageBucket {
  return { bucketStart: `${day}T00:00:00Z`, groupKey, cost, requests: 10, errors: 0 };
}

function overview(buckets: UsageBucket[]): UsageOverview {
  return {
    uri: '/usage/overview',
    buckets,
    totals: { cost: '0.00000', requests: 0, errors: 0 },
  };
}

/** Seven full days at $3.10 and half of today at the same rate. */
function workedExample(): UsageOverview {
  const days = ['17', '18', '19', '20', '21', '22', '23'].map((d) =>
    bucket(`2026-11-${d}`, '3.10000'),
  );
  return overview([...days, bucket('2026-11-24', '1.55000')]);
}

function summary(usage: UsageSummary | { error: string }): UsageSummary {
  if ('error' in usage) {
    throw new Error(`expected a summary, got: ${usage.error}`);
  }
  return usage;
}

function usageAt(dailySpendCents: number, windowDays = 7): UsageSummary {
  return {
    fetchedAt: NOW.toISOString(),
    dailySpendCents,
    windowDays,
    topSpenders: dailySpendCents > 0 ? [{ accessKey: 'ak_prod', costCents: 1, share: 1 }] : [],
  };
}

/** One sample per `stepHours`, starting `days` before now, losing `centsPerStep` each time. */
function steadyHistory(
  days: number,
  stepHours: number,
  startCents: number,
  centsPerStep: number,
): BalanceSample[] {
  const samples: BalanceSample[] = [];
  const steps = (days * 24) / stepHours;
  for (let i = 0; i <= steps; i++) {
    samples.push([
      NOW_SECONDS - days * DAY_SECONDS + i * stepHours * HOUR_SECONDS,
      startCents - i * centsPerStep,
    ]);
  }
  return samples;
}

function forecastOf(overrides: Partial<Forecast>): Forecast {
  return {
    source: 'usage',
    dailySpendCents: 310,
    windowDays: 7,
    runwayDays: 1,
    topSpenders: [],
    ...overrides,
  };
}

describe('usageWindowStart', () => {
  test('is UTC midnight forecastDays days before today', () => {
    // Act
    const start = usageWindowStart(NOW, 7);

    // Assess
    expect(start.toISOString()).toBe('2026-11-17T00:00:00.000Z');
  });

  test.each([0, -1, 1.5, Number.NaN])('refuses forecastDays %s as a deployment bug', (days) => {
    // Act
    const act = () => usageWindowStart(NOW, days);

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('summariseUsage', () => {
  test('averages the worked example, counting half of today against half a day: $3.10/day over 7.5 days', () => {
    // Prepare
    const body = workedExample();

    // Act
    const result = summariseUsage(body, NOW, 7);

    // Assess
    expect(result).toEqual({
      fetchedAt: '2026-11-24T12:00:00.000Z',
      dailySpendCents: 310,
      windowDays: 7.5,
      topSpenders: [{ accessKey: 'ak_prod', costCents: 2325, share: 1 }],
    });
  });

  test('reports zero spend over the whole window when every cost is zero', () => {
    // Prepare
    const body = overview([bucket('2026-11-20', '0.00000'), bucket('2026-11-24', '0.00000')]);

    // Act
    const result = summariseUsage(body, NOW, 7);

    // Assess
    expect(result).toEqual({
      fetchedAt: '2026-11-24T12:00:00.000Z',
      dailySpendCents: 0,
      windowDays: 7.5,
      topSpenders: [],
    });
  });

  test('reports zero spend when there are no buckets at all', () => {
    // Act
    const result = summary(summariseUsage(overview([]), NOW, 7));

    // Assess
    expect([result.dailySpendCents, result.windowDays]).toEqual([0, 7.5]);
  });

  test('counts one day of data as at least a whole day, so a first-hour burst is not extrapolated', () => {
    // Prepare: a new account spent 50 cents in the first six hours of today.
    const body = overview([bucket('2026-11-24', '0.50000')]);

    // Act
    const result = summary(summariseUsage(body, new Date('2026-11-24T06:00:00Z'), 7));

    // Assess
    expect([result.dailySpendCents, result.windowDays]).toEqual([50, 1]);
  });

  test('averages from the first day with spend, not from the window start', () => {
    // Prepare: spend began on the 22nd, so 2.5 days have elapsed by noon on the 24th.
    const body = overview([
      bucket('2026-11-20', '0.00000'),
      bucket('2026-11-22', '1.00000'),
      bucket('2026-11-23', '1.00000'),
      bucket('2026-11-24', '0.50000'),
    ]);

    // Act
    const result = summary(summariseUsage(body, NOW, 7));

    // Assess
    expect([result.dailySpendCents, result.windowDays]).toEqual([100, 2.5]);
  });

  test('ignores buckets before the window start and after now', () => {
    // Prepare
    const body = overview([
      bucket('2026-11-16', '999.00000'),
      bucket('2026-11-17', '7.50000'),
      bucket('2026-11-25', '999.00000'),
    ]);

    // Act
    const result = summary(summariseUsage(body, NOW, 7));

    // Assess
    expect([result.dailySpendCents, result.windowDays]).toEqual([100, 7.5]);
  });

  test('sums costs exactly: ten buckets of $0.10 make exactly $1.00', () => {
    // Prepare: as floats, 0.1 added ten times is 0.9999999999999999.
    const keys = Array.from({ length: 10 }, (_, i) => `ak_${i}`);
    const body = overview(keys.map((key) => bucket('2026-11-23', '0.10000', key)));

    // Act
    const result = summary(summariseUsage(body, new Date('2026-11-24T00:00:00Z'), 7));

    // Assess
    expect([result.dailySpendCents, result.windowDays]).toEqual([100, 1]);
  });

  test('names the three largest access keys with their share, skipping keys without spend', () => {
    // Prepare
    const body = overview([
      bucket('2026-11-22', '1.00000', 'ak_small'),
      bucket('2026-11-22', '2.00000', 'ak_big'),
      bucket('2026-11-23', '2.00000', 'ak_big'),
      bucket('2026-11-23', '3.00000', 'ak_mid'),
      bucket('2026-11-23', '2.00000', 'ak_third'),
      bucket('2026-11-23', '0.00000', 'ak_idle'),
    ]);

    // Act
    const result = summary(summariseUsage(body, NOW, 7));

    // Assess
    expect(result.topSpenders).toEqual([
      { accessKey: 'ak_big', costCents: 400, share: 0.4 },
      { accessKey: 'ak_mid', costCents: 300, share: 0.3 },
      { accessKey: 'ak_third', costCents: 200, share: 0.2 },
    ]);
  });

  test('makes the forecast unknown, not zero, when a cost in the window is unreadable', () => {
    // Prepare
    const body = overview([bucket('2026-11-22', '3.10000'), bucket('2026-11-23', 'abc')]);

    // Act
    const result = summariseUsage(body, NOW, 7);

    // Assess
    expect(result).toEqual({
      error:
        'the usage overview has an unreadable cost "abc" on 2026-11-23; the burn rate is unknown, not zero',
    });
  });

  test('counts a negative cost (a refund) against the spend, exactly', () => {
    // Prepare
    const body = overview([
      bucket('2026-11-22', '5.00000'),
      bucket('2026-11-23', '-1.25'),
      bucket('2026-11-23', '3.000000000001', 'ak_other'),
    ]);

    // Act
    const result = summary(summariseUsage(body, NOW, 7));

    // Assess
    expect(result.dailySpendCents * result.windowDays).toBeCloseTo(675.0000000001, 9);
  });

  test('leaves a key whose refunds outweigh its spend out of the top spenders', () => {
    // Prepare
    const body = overview([
      bucket('2026-11-22', '1.00000', 'ak_refunded'),
      bucket('2026-11-23', '-3.00000', 'ak_refunded'),
      bucket('2026-11-23', '2.00000', 'ak_prod'),
      bucket('2026-11-23', '6.00000', 'ak_batch'),
    ]);

    // Act
    const result = summary(summariseUsage(body, NOW, 7));

    // Assess
    expect(result.topSpenders).toEqual([
      { accessKey: 'ak_batch', costCents: 600, share: 0.75 },
      { accessKey: 'ak_prod', costCents: 200, share: 0.25 },
    ]);
  });

  test('reads costs with any number of fractional digits', () => {
    // Prepare
    const body = overview([
      bucket('2026-11-22', '1.1'),
      bucket('2026-11-23', '2.2000000000000000000000'),
      bucket('2026-11-24', '0.70000'),
    ]);

    // Act
    const result = summary(summariseUsage(body, NOW, 7));

    // Assess
    expect(result.dailySpendCents * result.windowDays).toBeCloseTo(400, 9);
  });

  test('shows at most 20 characters of an unreadable cost', () => {
    // Prepare
    const body = overview([bucket('2026-11-23', 'x'.repeat(500))]);

    // Act
    const result = summariseUsage(body, NOW, 7);

    // Assess
    expect(result).toHaveProperty(
      'error',
      expect.stringContaining(`unreadable cost "${'x'.repeat(19)}…" on`),
    );
  });

  test('keeps control characters of an unreadable cost out of the message', () => {
    // Prepare
    const body = overview([bucket('2026-11-23', '1.0\n\u0000')]);

    // Act
    const result = summariseUsage(body, NOW, 7);

    // Assess
    expect(result).toHaveProperty('error', expect.stringContaining('unreadable cost "1.0??" on'));
  });

  test('ignores an unreadable cost outside the window', () => {
    // Prepare
    const body = overview([bucket('2026-11-10', 'abc'), bucket('2026-11-23', '7.50000')]);

    // Act
    const result = summary(summariseUsage(body, NOW, 7));

    // Assess
    expect(result.dailySpendCents).toBe(500);
  });

  test('makes the forecast unknown when a bucket cannot be placed in time', () => {
    // Prepare
    const body = overview([{ ...bucket('2026-11-23', '1.00000'), bucketStart: 'yesterday' }]);

    // Act
    const result = summariseUsage(body, NOW, 7);

    // Assess
    expect(result).toHaveProperty('error', expect.stringContaining('bucketStart "yesterday"'));
  });
});

describe('recordBalanceSample', () => {
  test('starts the history with the current balance', () => {
    // Act
    const history = recordBalanceSample(undefined, 600, NOW, 7);

    // Assess
    expect(history).toEqual([[NOW_SECONDS, 600]]);
  });

  test('returns the same array when the newest sample is younger than the sampling interval', () => {
    // Prepare
    const history: BalanceSample[] = [
      [NOW_SECONDS - (SAMPLE_INTERVAL_HOURS * HOUR_SECONDS - 1), 700],
    ];

    // Act
    const next = recordBalanceSample(history, 600, NOW, 7);

    // Assess
    expect(next).toBe(history);
    expect(next).toEqual([[NOW_SECONDS - (6 * HOUR_SECONDS - 1), 700]]);
  });

  test('samples at most four times a day: a new sample once the newest is six hours old', () => {
    // Prepare
    const history: BalanceSample[] = [[NOW_SECONDS - 6 * HOUR_SECONDS, 700]];

    // Act
    const next = recordBalanceSample(history, 600, NOW, 7);

    // Assess
    expect(next).toEqual([
      [NOW_SECONDS - 6 * HOUR_SECONDS, 700],
      [NOW_SECONDS, 600],
    ]);
    expect(history).toHaveLength(1);
  });

  test('drops samples older than the window plus a day of slack', () => {
    // Prepare
    const history: BalanceSample[] = [
      [NOW_SECONDS - 8 * DAY_SECONDS - 1, 900],
      [NOW_SECONDS - 8 * DAY_SECONDS, 800],
      [NOW_SECONDS - HOUR_SECONDS, 700],
    ];

    // Act
    const next = recordBalanceSample(history, 600, NOW, 7);

    // Assess
    expect(next).toEqual([
      [NOW_SECONDS - 8 * DAY_SECONDS, 800],
      [NOW_SECONDS - HOUR_SECONDS, 700],
    ]);
  });

  test('drops malformed and future entries from saved state and sorts the rest', () => {
    // Prepare
    const history = [
      [NOW_SECONDS - 2 * HOUR_SECONDS, 700],
      ['yesterday', 800],
      [NOW_SECONDS - 3 * HOUR_SECONDS, 750],
      [NOW_SECONDS + DAY_SECONDS, 1],
      [NOW_SECONDS - 4 * HOUR_SECONDS],
    ] as unknown as BalanceSample[];

    // Act
    const next = recordBalanceSample(history, 600, NOW, 7);

    // Assess
    expect(next).toEqual([
      [NOW_SECONDS - 3 * HOUR_SECONDS, 750],
      [NOW_SECONDS - 2 * HOUR_SECONDS, 700],
    ]);
  });

  test('rounds the balance to the API resolution so float noise does not bloat state', () => {
    // Act
    const history = recordBalanceSample(undefined, 0.1 + 0.2, NOW, 7);

    // Assess
    expect(history).toEqual([[NOW_SECONDS, 0.3]]);
  });

  test('does not record a balance that is not a number', () => {
    // Prepare
    const history: BalanceSample[] = [[NOW_SECONDS - DAY_SECONDS, 700]];

    // Act
    const next = recordBalanceSample(history, Number.NaN, NOW, 7);

    // Assess
    expect(next).toBe(history);
  });

  test('caps a month of 15-minute runs at four samples a day, under 1 KB of JSON', () => {
    // Prepare: large balances with fractional cents are the longest to write.
    const start = NOW.getTime() - 30 * DAY_SECONDS * 1000;
    let history: readonly BalanceSample[] | undefined;

    // Act
    for (let run = 0; run <= 30 * 24 * 4; run++) {
      const at = new Date(start + run * 15 * 60 * 1000);
      history = recordBalanceSample(history, 12_345_678.901 - run, at, 7);
    }

    // Assess
    expect(history).toHaveLength(maxHistorySamples(7));
    expect(maxHistorySamples(7)).toBe(32);
    expect(JSON.stringify(history).length).toBeLessThan(1024);
  });
});

describe('burnFromHistory', () => {
  test('measures a steady decline: 10 cents every six hours is 40 cents a day', () => {
    // Prepare
    const history = steadyHistory(3, 6, 1000, 10);

    // Act
    const burn = burnFromHistory(history, NOW, 7);

    // Assess
    expect(burn).toEqual({ dailySpendCents: 40, windowDays: 3 });
  });

  test('leaves a top-up interval out of both the spend and the time', () => {
    // Prepare: $1 a day, with a $10 top-up between days 2 and 3.
    const history: BalanceSample[] = [
      [NOW_SECONDS - 4 * DAY_SECONDS, 1000],
      [NOW_SECONDS - 3 * DAY_SECONDS, 900],
      [NOW_SECONDS - 2 * DAY_SECONDS, 800],
      [NOW_SECONDS - DAY_SECONDS, 1800],
      [NOW_SECONDS, 1700],
    ];

    // Act
    const burn = burnFromHistory(history, NOW, 7);

    // Assess
    expect(burn).toEqual({ dailySpendCents: 100, windowDays: 3 });
  });

  test('reports zero spend when the balance has not moved', () => {
    // Prepare
    const history = steadyHistory(3, 6, 1000, 0);

    // Act
    const burn = burnFromHistory(history, NOW, 7);

    // Assess
    expect(burn).toEqual({ dailySpendCents: 0, windowDays: 3 });
  });

  test(`needs ${MIN_HISTORY_DAYS} days of history`, () => {
    // Prepare: just under two days of six-hourly samples.
    const history = steadyHistory(2, 6, 1000, 10).slice(1);

    // Act
    const burn = burnFromHistory(history, NOW, 7);

    // Assess
    expect(burn).toBeUndefined();
  });

  test('needs at least three samples, however far apart', () => {
    // Prepare
    const history: BalanceSample[] = [
      [NOW_SECONDS - 5 * DAY_SECONDS, 1000],
      [NOW_SECONDS, 500],
    ];

    // Act
    const burn = burnFromHistory(history, NOW, 7);

    // Assess
    expect(burn).toBeUndefined();
  });

  test('uses only the samples inside the window', () => {
    // Prepare: a fast decline eight days ago, a slow one in the last three days.
    const history: BalanceSample[] = [
      [NOW_SECONDS - 8 * DAY_SECONDS, 100_000],
      ...steadyHistory(3, 24, 1000, 20),
    ];

    // Act
    const burn = burnFromHistory(history, NOW, 7);

    // Assess
    expect(burn).toEqual({ dailySpendCents: 20, windowDays: 3 });
  });

  test('has nothing to say without history', () => {
    // Act
    const burn = burnFromHistory(undefined, NOW, 7);

    // Assess
    expect(burn).toBeUndefined();
  });
});

describe('makeForecast', () => {
  test('forecasts the worked example: $6.00 lasts about 1.9 days at $3.10/day', () => {
    // Prepare
    const usage = summary(summariseUsage(workedExample(), NOW, 7));

    // Act
    const { forecast, note } = makeForecast({
      balanceCents: 600,
      usage,
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(note).toBeUndefined();
    expect(forecast).toEqual({
      source: 'usage',
      dailySpendCents: 310,
      windowDays: 7.5,
      runwayDays: 600 / 310,
      topSpenders: [{ accessKey: 'ak_prod', costCents: 2325, share: 1 }],
    });
    const text = formatRunway(forecast as Forecast);
    expect(text).toContain('about 1.9 days');
    expect(text).toContain('$3.10/day');
  });

  test('gives $6.00 a runway of 60 days at $0.10/day', () => {
    // Act
    const { forecast } = makeForecast({
      balanceCents: 600,
      usage: usageAt(10),
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(forecast?.runwayDays).toBe(60);
  });

  test('has no runway (null) when nothing is being spent', () => {
    // Act
    const { forecast } = makeForecast({
      balanceCents: 600,
      usage: usageAt(0),
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(forecast).toEqual({
      source: 'usage',
      dailySpendCents: 0,
      windowDays: 7,
      runwayDays: null,
      topSpenders: [],
    });
  });

  test('gives a negative balance a runway of zero days', () => {
    // Act
    const { forecast } = makeForecast({
      balanceCents: -125,
      usage: usageAt(310),
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(forecast?.runwayDays).toBe(0);
  });

  test('gives a zero balance a runway of zero days even without spend', () => {
    // Act
    const { forecast } = makeForecast({
      balanceCents: 0,
      usage: usageAt(0),
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(forecast?.runwayDays).toBe(0);
  });

  test('prefers the balance history, keeping the top spenders from usage', () => {
    // Prepare: usage says $3.10/day, but the credits fell only 40 cents a day.
    const usage = usageAt(310);
    const history = steadyHistory(3, 6, 1000, 10);

    // Act
    const { forecast } = makeForecast({
      balanceCents: 600,
      usage,
      history,
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(forecast).toEqual({
      source: 'balance-history',
      dailySpendCents: 40,
      windowDays: 3,
      runwayDays: 15,
      topSpenders: usage.topSpenders,
    });
  });

  test('falls back to usage while the history is too short', () => {
    // Prepare
    const history = steadyHistory(1, 6, 1000, 10);

    // Act
    const { forecast } = makeForecast({
      balanceCents: 600,
      usage: usageAt(10),
      history,
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect([forecast?.source, forecast?.runwayDays]).toEqual(['usage', 60]);
  });

  test('makes no forecast, rather than a zero one, when the usage cost was unreadable', () => {
    // Prepare
    const result = summariseUsage(overview([bucket('2026-11-23', 'NaN')]), NOW, 7);
    const usage = 'error' in result ? undefined : result;

    // Act
    const { forecast, note } = makeForecast({
      balanceCents: 600,
      usage,
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(forecast).toBeUndefined();
    expect(note).toBe('no usage data yet, and less than 2 days of balance history');
  });

  test('makes no forecast when the balance is not a number', () => {
    // Act
    const result = makeForecast({
      balanceCents: Number.NaN,
      usage: usageAt(10),
      now: NOW,
      forecastDays: 7,
    });

    // Assess
    expect(result).toEqual({ note: 'no forecast: the balance is not a number' });
  });
});

describe('formatRunway', () => {
  test('describes the worked example with its rate and its source', () => {
    // Prepare
    const forecast = forecastOf({ windowDays: 7.5, runwayDays: 600 / 310 });

    // Act
    const text = formatRunway(forecast);

    // Assess
    expect(text).toBe('about 1.9 days at $3.10/day (usage over the last 7.5 days)');
  });

  test('names the balance history as the source when the rate came from it', () => {
    // Prepare
    const forecast = forecastOf({
      source: 'balance-history',
      dailySpendCents: 40,
      windowDays: 3,
      runwayDays: 15,
    });

    // Act
    const text = formatRunway(forecast);

    // Assess
    expect(text).toBe('about 15 days at $0.40/day (balance history over the last 3 days)');
  });

  test.each([
    [60, 'about 60 days'],
    [9.96, 'about 10 days'],
    [12_345.6, 'more than 10 years'],
    [1, 'about 1 day'],
    [1.04, 'about 1 day'],
    [2.25, 'about 2.3 days'],
    [0.1, 'about 0.1 days'],
    [0.04, 'less than 0.1 days'],
  ])('shows a runway of %s days as "%s"', (runwayDays, expected) => {
    // Act
    const text = formatRunway(forecastOf({ runwayDays }));

    // Assess
    expect(text).toBe(`${expected} at $3.10/day (usage over the last 7 days)`);
  });

  test('says "over the last day" for a one-day window', () => {
    // Act
    const text = formatRunway(forecastOf({ windowDays: 1, runwayDays: 2 }));

    // Assess
    expect(text).toBe('about 2 days at $3.10/day (usage over the last day)');
  });

  test('does not print a trickle of spend as $0.00/day', () => {
    // Act
    const text = formatRunway(forecastOf({ dailySpendCents: 0.2, runwayDays: 3000 }));

    // Assess
    expect(text).toBe('about 3,000 days at less than $0.01/day (usage over the last 7 days)');
  });

  test('says there is no recent spend when the rate is zero', () => {
    // Act
    const text = formatRunway(forecastOf({ dailySpendCents: 0, runwayDays: null }));

    // Assess
    expect(text).toBe('no recent spend (usage over the last 7 days)');
  });

  test('says the account is out of credit when the runway is zero', () => {
    // Act
    const spending = formatRunway(forecastOf({ runwayDays: 0 }));
    const idle = formatRunway(forecastOf({ dailySpendCents: 0, runwayDays: 0 }));

    // Assess
    expect(spending).toBe('out of credit (spending $3.10/day, usage over the last 7 days)');
    expect(idle).toBe('out of credit');
  });
});
