import { describe, expect, test } from 'vitest';
import type { UsageBucket, UsageOverview } from '../lambda/observe/forecast.ts';
import { spikeDrivers } from '../lambda/watches/spike-drivers.ts';

/** Noon: today's bucket covers 12 hours. */
const NOW = new Date('2026-11-24T12:00:00Z');
const WEEK = ['17', '18', '19', '20', '21', '22', '23'];

function bucket(day: string, groupKey: string, cost: string): UsageBucket {
  return { bucketStart: `2026-11-${day}T00:00:00Z`, groupKey, cost, requests: 1, errors: 0 };
}

function overview(buckets: UsageBucket[]): UsageOverview {
  return { uri: '/usage/overview', buckets, totals: { cost: '0', requests: 0, errors: 0 } };
}

/** $24 a day for each key over the week before today: $1 an hour. */
function usualWeek(keys: string[]): UsageBucket[] {
  return WEEK.flatMap((day) => keys.map((key) => bucket(day, key, '24.00000')));
}

describe('spikeDrivers', () => {
  test('names the key spending faster today than its own average', () => {
    // Prepare: ak_leaked spent $1,200 in today's 12 hours; ak_prod kept to its $1/h.
    const body = overview([
      ...usualWeek(['ak_prod', 'ak_leaked']),
      bucket('24', 'ak_prod', '12.00000'),
      bucket('24', 'ak_leaked', '1200'),
    ]);

    // Act
    const drivers = spikeDrivers(body, NOW, 7);

    // Assess
    expect(drivers).toEqual([
      {
        accessKey: 'ak_leaked',
        todayCentsPerHour: 10_000,
        averageCentsPerHour: 100,
        excessCentsPerHour: 9_900,
      },
    ]);
  });

  test('ranks keys by how much faster they spend, at most three, and counts a new key from zero', () => {
    // Prepare
    const body = overview([
      ...usualWeek(['ak_a', 'ak_b', 'ak_c', 'ak_d']),
      bucket('24', 'ak_a', '36'),
      bucket('24', 'ak_b', '120'),
      bucket('24', 'ak_c', '24'),
      bucket('24', 'ak_d', '60'),
      bucket('24', 'ak_new', '48'),
    ]);

    // Act
    const drivers = spikeDrivers(body, NOW, 7);

    // Assess: per hour today: a $3, b $10, c $2, d $5, new $4; usual $1 ($0 for the new key).
    expect(
      Array.isArray(drivers) && drivers.map((d) => [d.accessKey, d.excessCentsPerHour]),
    ).toEqual([
      ['ak_b', 900],
      ['ak_d', 400],
      ['ak_new', 400],
    ]);
  });

  test('names nobody when every key spends as usual or less', () => {
    // Prepare
    const body = overview([...usualWeek(['ak_prod']), bucket('24', 'ak_prod', '12.00000')]);

    // Act
    const drivers = spikeDrivers(body, NOW, 7);

    // Assess
    expect(drivers).toEqual([]);
  });

  test('spreads a key’s first minutes after midnight over an hour', () => {
    // Prepare: ten minutes into the day, $1 spent.
    const body = overview([bucket('24', 'ak_prod', '1')]);

    // Act
    const drivers = spikeDrivers(body, new Date('2026-11-24T00:10:00Z'), 7);

    // Assess
    expect(drivers).toMatchObject([{ accessKey: 'ak_prod', todayCentsPerHour: 100 }]);
  });

  test('counts refunds against a key, never below zero', () => {
    // Prepare
    const body = overview([
      bucket('22', 'ak_prod', '-500'),
      bucket('24', 'ak_prod', '12'),
      bucket('23', 'ak_other', '168'),
      bucket('23', 'ak_other', '-168'),
      bucket('24', 'ak_other', '6'),
    ]);

    // Act
    const drivers = spikeDrivers(body, NOW, 7);

    // Assess
    expect(drivers).toEqual([
      {
        accessKey: 'ak_prod',
        todayCentsPerHour: 100,
        averageCentsPerHour: 0,
        excessCentsPerHour: 100,
      },
      {
        accessKey: 'ak_other',
        todayCentsPerHour: 50,
        averageCentsPerHour: 0,
        excessCentsPerHour: 50,
      },
    ]);
  });

  test('ignores buckets outside the window', () => {
    // Prepare
    const body = overview([
      bucket('10', 'ak_prod', 'garbage'),
      bucket('16', 'ak_prod', '10000'),
      { ...bucket('24', 'ak_prod', '10000'), bucketStart: '2026-11-24T12:00:00Z' },
      bucket('24', 'ak_prod', '12'),
    ]);

    // Act
    const drivers = spikeDrivers(body, NOW, 7);

    // Assess
    expect(drivers).toMatchObject([{ accessKey: 'ak_prod', averageCentsPerHour: 0 }]);
  });

  test.each([
    ['cost', bucket('23', 'ak_prod', 'lots'), 'the usage overview has an unreadable cost'],
    [
      'bucketStart',
      { ...bucket('23', 'ak_prod', '1'), bucketStart: 'yesterday' },
      'the usage overview has an unreadable bucketStart',
    ],
  ])('names no key when a %s cannot be read', (_name, broken, error) => {
    // Act
    const drivers = spikeDrivers(overview([bucket('24', 'ak_prod', '12'), broken]), NOW, 7);

    // Assess
    expect(drivers).toEqual({ error });
  });
});
