import { describe, expect, test } from 'vitest';
import type { KnownRecentRate, RecentRate } from '../lambda/observe/recent-rate.ts';
import {
  decideSpike,
  readSpikeState,
  SPIKE_END_MS,
  type SpikeInput,
  type SpikeSettings,
  type SpikeState,
  spikeLevel,
} from '../lambda/watches/spike-policy.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const HOUR_MS = 3_600_000;
const SETTINGS: SpikeSettings = {
  spikeFactor: 3,
  spikeMinCentsPerHour: 100,
  renotifyMs: 4 * HOUR_MS,
};
/** $240 a day: $10 an hour, so the spike level is $30/h. */
const AVERAGE_DAILY_CENTS = 24_000;

function rate(centsPerHour: number): KnownRecentRate {
  return { known: true, centsPerHour, windowMinutes: 30, intervals: 2 };
}

const UNKNOWN: RecentRate = { known: false, reason: 'only one recent balance reading so far' };

function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString();
}

function spike(overrides: Partial<SpikeState> = {}): SpikeState {
  return {
    since: ago(HOUR_MS),
    levelCentsPerHour: 3_000,
    lastNotifiedAt: ago(HOUR_MS),
    ...overrides,
  };
}

function input(overrides: Partial<SpikeInput>): SpikeInput {
  return {
    previous: undefined,
    recent: rate(0),
    averageDailyCents: AVERAGE_DAILY_CENTS,
    settings: SETTINGS,
    now: NOW,
    ...overrides,
  };
}

describe('spikeLevel', () => {
  test('is the factor times the hourly average', () => {
    // Act
    const level = spikeLevel(AVERAGE_DAILY_CENTS, SETTINGS);

    // Assess
    expect(level).toBe(3_000);
  });

  test('is never below the minimum rate', () => {
    // Act
    const level = spikeLevel(240, SETTINGS);

    // Assess
    expect(level).toBe(100);
  });
});

describe('decideSpike', () => {
  test('starts a spike when the recent rate reaches the level, with one alert', () => {
    // Act
    const decision = decideSpike(input({ recent: rate(3_000) }));

    // Assess
    expect(decision).toEqual({
      state: {
        since: NOW.toISOString(),
        levelCentsPerHour: 3_000,
        lastNotifiedAt: NOW.toISOString(),
      },
      event: {
        kind: 'spike-started',
        since: NOW.toISOString(),
        levelCentsPerHour: 3_000,
        recent: rate(3_000),
        averageDailyCents: AVERAGE_DAILY_CENTS,
      },
    });
  });

  test('says nothing just below the level', () => {
    // Act
    const decision = decideSpike(input({ recent: rate(2_999.99) }));

    // Assess
    expect(decision).toEqual({ state: undefined });
  });

  test('does not page a small account for cents: the minimum rate applies', () => {
    // Prepare: $2.40 a day; 3 times that is 30 cents an hour, under the $1 minimum.
    const small = input({ averageDailyCents: 240 });

    // Act
    const below = decideSpike({ ...small, recent: rate(99) });
    const at = decideSpike({ ...small, recent: rate(100) });

    // Assess
    expect([below.event?.kind, at.event?.kind]).toEqual([undefined, 'spike-started']);
  });

  test('starts nothing without a recent rate or without a long-term rate (a new account)', () => {
    // Act
    const noRecent = decideSpike(input({ recent: UNKNOWN }));
    const noAverage = decideSpike(input({ recent: rate(1_000_000), averageDailyCents: undefined }));

    // Assess
    expect([noRecent, noAverage]).toEqual([{ state: undefined }, { state: undefined }]);
  });

  test('is off with a factor of 0, and drops a saved spike without a message', () => {
    // Prepare
    const off = { ...SETTINGS, spikeFactor: 0 };

    // Act
    const fresh = decideSpike(input({ recent: rate(1_000_000), settings: off }));
    const ongoing = decideSpike(
      input({ previous: spike(), recent: rate(1_000_000), settings: off }),
    );

    // Assess
    expect([fresh, ongoing]).toEqual([{ state: undefined }, { state: undefined }]);
  });

  test('stays quiet while a spike lasts, until a reminder is due', () => {
    // Prepare
    const previous = spike({ lastNotifiedAt: ago(SETTINGS.renotifyMs - 1) });

    // Act
    const decision = decideSpike(input({ previous, recent: rate(16_000) }));

    // Assess
    expect(decision).toEqual({ state: previous });
  });

  test('reminds every renotify period, keeping when the spike started', () => {
    // Prepare
    const previous = spike({ since: ago(5 * HOUR_MS), lastNotifiedAt: ago(SETTINGS.renotifyMs) });

    // Act
    const decision = decideSpike(input({ previous, recent: rate(16_000) }));

    // Assess
    expect(decision).toEqual({
      state: { ...previous, lastNotifiedAt: NOW.toISOString() },
      event: {
        kind: 'spike-reminder',
        since: previous.since,
        levelCentsPerHour: 3_000,
        recent: rate(16_000),
        averageDailyCents: AVERAGE_DAILY_CENTS,
      },
    });
  });

  test('reminds without a rate when the rate is unknown, and without an average when there is none', () => {
    // Prepare
    const previous = spike({ lastNotifiedAt: ago(SETTINGS.renotifyMs) });

    // Act
    const decision = decideSpike(
      input({ previous, recent: UNKNOWN, averageDailyCents: undefined }),
    );

    // Assess
    expect(decision.event).toEqual({
      kind: 'spike-reminder',
      since: previous.since,
      levelCentsPerHour: 3_000,
    });
  });

  test('starts counting the hour when the rate falls below half the level', () => {
    // Act
    const decision = decideSpike(input({ previous: spike(), recent: rate(1_499) }));

    // Assess
    expect(decision).toEqual({ state: { ...spike(), belowSince: NOW.toISOString() } });
  });

  test('does not count a rate of exactly half the level as normal', () => {
    // Act
    const decision = decideSpike(input({ previous: spike(), recent: rate(1_500) }));

    // Assess
    expect(decision).toEqual({ state: spike() });
  });

  test('ends the spike once the rate has stayed below half the level for an hour', () => {
    // Prepare
    const previous = spike({ since: ago(3 * HOUR_MS), belowSince: ago(SPIKE_END_MS) });

    // Act
    const decision = decideSpike(input({ previous, recent: rate(50) }));

    // Assess
    expect(decision).toEqual({
      state: undefined,
      event: {
        kind: 'spike-ended',
        since: previous.since,
        levelCentsPerHour: 3_000,
        recent: rate(50),
        averageDailyCents: AVERAGE_DAILY_CENTS,
      },
    });
  });

  test('keeps the spike a moment short of the hour', () => {
    // Prepare
    const previous = spike({ belowSince: ago(SPIKE_END_MS - 1) });

    // Act
    const decision = decideSpike(input({ previous, recent: rate(50) }));

    // Assess
    expect(decision).toEqual({ state: previous });
  });

  test('measures the end against the level the spike started at, not today’s average', () => {
    // Prepare: the spike itself has raised the average to $100/h (level $300/h).
    const previous = spike({ belowSince: ago(SPIKE_END_MS) });

    // Act
    const decision = decideSpike(
      input({ previous, recent: rate(2_000), averageDailyCents: 240_000 }),
    );

    // Assess: $20/h is above half the $30/h the spike started at.
    expect(decision).toEqual({ state: spike() });
  });

  test('starts the hour again when the rate climbs back', () => {
    // Prepare
    const previous = spike({ belowSince: ago(30 * 60_000) });

    // Act
    const decision = decideSpike(input({ previous, recent: rate(10_000) }));

    // Assess
    expect(decision).toEqual({ state: spike() });
  });

  test('keeps counting the hour through a run without a rate (a top-up)', () => {
    // Prepare
    const previous = spike({ belowSince: ago(30 * 60_000) });

    // Act
    const decision = decideSpike(input({ previous, recent: UNKNOWN }));

    // Assess
    expect(decision).toEqual({ state: previous });
  });
});

describe('readSpikeState', () => {
  test('reads a saved spike', () => {
    // Prepare
    const saved = JSON.parse(JSON.stringify(spike({ belowSince: ago(60_000) })));

    // Act
    const state = readSpikeState(saved);

    // Assess
    expect(state).toEqual(spike({ belowSince: ago(60_000) }));
  });

  test('reads a saved spike whose rate has not fallen', () => {
    // Act
    const state = readSpikeState(JSON.parse(JSON.stringify(spike())));

    // Assess
    expect(state).toEqual(spike());
  });

  test.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'spike'],
    ['no since', { ...spike(), since: undefined }],
    ['a since that is not a time', { ...spike(), since: 'yesterday' }],
    ['no lastNotifiedAt', { ...spike(), lastNotifiedAt: 3 }],
    ['a level of 0', { ...spike(), levelCentsPerHour: 0 }],
    ['a level that is not a number', { ...spike(), levelCentsPerHour: '3000' }],
    ['a belowSince that is not a time', { ...spike(), belowSince: 'soon' }],
  ])('treats %s as no spike', (_name, value) => {
    // Act
    const state = readSpikeState(value);

    // Assess
    expect(state).toBeUndefined();
  });

  test('saved as JSON, a spike takes at most 160 bytes', () => {
    // Prepare
    const state = spike({ levelCentsPerHour: 123_456.789, belowSince: ago(1) });

    // Act
    const bytes = Buffer.byteLength(JSON.stringify(state));

    // Assess
    expect(bytes).toBeLessThanOrEqual(160);
  });
});
