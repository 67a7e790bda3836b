import { describe, expect, test } from 'vitest';
import {
  formatMinutes,
  formatRunwayHours,
  formatRunwayText,
} from '../lambda/notify/runway-text.ts';
import type { RecentRate } from '../lambda/observe/recent-rate.ts';
import { type Runway, shorterRunway } from '../lambda/observe/runway.ts';

const UNKNOWN: RecentRate = { known: false, reason: 'only one recent balance reading so far' };

function recent(centsPerHour: number, windowMinutes = 45): RecentRate {
  return { known: true, centsPerHour, windowMinutes, intervals: 3 };
}

const WEEK = { dailySpendCents: 1_000, windowDays: 7 };

describe('shorterRunway', () => {
  test('takes the recent rate when it runs out sooner: $500 at $160/h lasts about 3 hours', () => {
    // Act
    const runway = shorterRunway({ balanceCents: 50_000, recent: recent(16_000), average: WEEK });

    // Assess
    expect(runway).toEqual({
      hours: 3.125,
      basis: 'recent',
      centsPerHour: 16_000,
      recent: recent(16_000),
      averageDailyCents: 1_000,
      averageWindowDays: 7,
    });
  });

  test('takes the 7-day rate when the last hour was quiet', () => {
    // Act
    const runway = shorterRunway({ balanceCents: 50_000, recent: recent(0), average: WEEK });

    // Assess
    expect(runway).toMatchObject({ hours: 1_200, basis: 'average', centsPerHour: 1_000 / 24 });
  });

  test('names the 7-day rate on a tie', () => {
    // Act
    const runway = shorterRunway({
      balanceCents: 50_000,
      recent: recent(1_000 / 24),
      average: WEEK,
    });

    // Assess
    expect(runway?.basis).toBe('average');
  });

  test('uses the 7-day rate alone while the recent rate is unknown', () => {
    // Act
    const runway = shorterRunway({ balanceCents: 1_000, recent: UNKNOWN, average: WEEK });

    // Assess
    expect(runway).toMatchObject({ hours: 24, basis: 'average', recent: UNKNOWN });
  });

  test('uses the recent rate alone for a new account without a 7-day rate', () => {
    // Act
    const runway = shorterRunway({ balanceCents: 1_000, recent: recent(500) });

    // Assess
    expect(runway).toEqual({ hours: 2, basis: 'recent', centsPerHour: 500, recent: recent(500) });
  });

  test('has no runway without either rate', () => {
    // Act
    const runway = shorterRunway({ balanceCents: 1_000, recent: UNKNOWN });

    // Assess
    expect(runway).toBeUndefined();
  });

  test.each([
    ['0 when the balance is already gone', 0, recent(100), 0],
    ['0 when the balance is overdrawn', -5, recent(100), 0],
    ['0 when the balance is gone and nothing is spent', 0, recent(0), 0],
    ['null when nothing is being spent', 1_000, recent(0), null],
  ])('is %s', (_name, balanceCents, rate, hours) => {
    // Act
    const runway = shorterRunway({
      balanceCents,
      recent: rate,
      average: { dailySpendCents: 0, windowDays: 7 },
    });

    // Assess
    expect(runway?.hours).toBe(hours);
  });

  test('treats a negative long-term rate (refunds) as no spend', () => {
    // Act
    const runway = shorterRunway({
      balanceCents: 1_000,
      recent: UNKNOWN,
      average: { dailySpendCents: -50, windowDays: 7 },
    });

    // Assess
    expect(runway).toMatchObject({ hours: null, centsPerHour: 0 });
  });
});

describe('formatRunwayText', () => {
  function runway(overrides: Partial<Runway>): Runway {
    return {
      hours: 2.1,
      basis: 'recent',
      centsPerHour: 16_000,
      recent: recent(16_000),
      averageDailyCents: 1_000,
      averageWindowDays: 7,
      ...overrides,
    };
  }

  test('says the recent runway in hours, at which rate, and the 7-day average beside it', () => {
    // Act
    const text = formatRunwayText(runway({}));

    // Assess
    expect(text).toBe(
      'about 2.1 hours at $160/h over the last 45 minutes; the 7-day average is $10/day',
    );
  });

  test('says the 7-day runway in days when the average runs out sooner', () => {
    // Act
    const text = formatRunwayText(
      runway({ hours: 1_200, basis: 'average', centsPerHour: 41.67, recent: recent(12.5, 30) }),
    );

    // Assess
    expect(text).toBe(
      'about 50 days at the 7-day average of $10/day; the last 30 minutes ran at $0.13/h',
    );
  });

  test('leaves out what is not known', () => {
    // Act
    const onlyAverage = formatRunwayText(
      runway({
        hours: 30,
        basis: 'average',
        recent: { known: false, reason: 'x' },
        averageWindowDays: 2.5,
      }),
    );
    const onlyRecent = formatRunwayText(
      runway({
        averageDailyCents: undefined,
        averageWindowDays: undefined,
        recent: recent(125, 60),
      }),
    );

    // Assess
    expect([onlyAverage, onlyRecent]).toEqual([
      'about 30 hours at the 2.5-day average of $10/day',
      'about 2.1 hours at $1.25/h over the last hour',
    ]);
  });

  test('says when the credit is gone, or nothing is being spent', () => {
    // Act
    const gone = formatRunwayText(runway({ hours: 0 }));
    const idle = formatRunwayText(
      runway({ hours: null, recent: recent(0, 30), averageDailyCents: 0, averageWindowDays: 1 }),
    );
    const idleNew = formatRunwayText(
      runway({ hours: null, recent: recent(0, 30), averageDailyCents: undefined }),
    );

    // Assess
    expect([gone, idle, idleNew]).toEqual([
      'out of credit',
      'no spend to run out on ($0/h over the last 30 minutes; the 1-day average is $0/day)',
      'no spend to run out on ($0/h over the last 30 minutes)',
    ]);
  });

  test('shows a trickle as less than a cent', () => {
    // Act
    const text = formatRunwayText(
      runway({ hours: 1_000, basis: 'average', recent: recent(0.2), averageDailyCents: 0.4 }),
    );

    // Assess
    expect(text).toBe(
      'about 42 days at the 7-day average of less than $0.01/day; the last 45 minutes ran at less than $0.01/h',
    );
  });
});

describe('formatRunwayHours', () => {
  test.each([
    [0.001, 'about 1 minute'],
    [0.5, 'about 30 minutes'],
    [1 / 60, 'about 1 minute'],
    [1, 'about 1 hour'],
    [1.04, 'about 1 hour'],
    [2.375, 'about 2.4 hours'],
    [9.96, 'about 10 hours'],
    [10.4, 'about 10 hours'],
    [47.9, 'about 48 hours'],
    [48, 'about 2 days'],
    [60, 'about 2.5 days'],
  ])('says %f hours as "%s"', (hours, expected) => {
    // Act
    const text = formatRunwayHours(hours);

    // Assess
    expect(text).toBe(expected);
  });
});

describe('formatMinutes', () => {
  test.each([
    [1, '1 minute'],
    [29.6, '30 minutes'],
    [45, '45 minutes'],
    [59.4, '59 minutes'],
    [60, 'hour'],
    [90, '1.5 hours'],
    [120, '2 hours'],
  ])('says %f minutes as "%s"', (minutes, expected) => {
    // Act
    const text = formatMinutes(minutes);

    // Assess
    expect(text).toBe(expected);
  });
});
