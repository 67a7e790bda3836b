/**
 * Whole days of 15-minute runs through the pure pieces, wired the way the monitor is meant
 * to wire them: record the balance, measure the recent rate, take the shorter runway into
 * the balance policy (its runway alert) and decide on a spike next to it; on a spike, name
 * the keys driving it. What a person would receive is collected and checked.
 */
import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { formatRunwayText } from '../lambda/notify/runway-text.ts';
import type { UsageOverview } from '../lambda/observe/forecast.ts';
import {
  type RecentSample,
  recentRate,
  recordRecentSample,
} from '../lambda/observe/recent-rate.ts';
import { shorterRunway } from '../lambda/observe/runway.ts';
import type { AlertState } from '../lambda/store/state.ts';
import { keyName, updateKeyNameCache } from '../lambda/watches/access-key-names.ts';
import { decide } from '../lambda/watches/alert-policy.ts';
import { spikeDrivers } from '../lambda/watches/spike-drivers.ts';
import { decideSpike, type SpikeState } from '../lambda/watches/spike-policy.ts';

const START = new Date('2026-11-24T06:00:00Z');
const RUN_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
/** $10 a day. */
const AVERAGE_DAILY_CENTS = 1_000;
const SETTINGS = {
  renotifyMs: 6 * HOUR_MS,
  failureAlertAfter: 3,
  runwayAlertDays: 3,
  spikeFactor: 3,
  spikeMinCentsPerHour: 100,
};

/** What a person would receive from one run. */
interface Sent {
  readonly run: number;
  readonly kind: string;
  readonly text?: string;
}

interface World {
  recent?: RecentSample[];
  alert?: AlertState;
  spike?: SpikeState;
}

/** The access keys the stand-in API knows, by id. */
const KEY_NAMES = new Map([
  ['ak_2pQx8bLr', 'batch-worker'],
  ['ak_7hTn3kWe', 'web-frontend'],
]);

/**
 * Usage so far: both keys at $5 a day over the week; today the batch worker has spent
 * whatever the balance lost beyond the usual.
 */
function usage(now: Date, extraTodayCents: number): UsageOverview {
  const day = (offset: number) =>
    new Date(Date.UTC(2026, 10, 24 + offset)).toISOString().replace('.000', '');
  const buckets = [];
  for (let offset = -7; offset < 0; offset++) {
    for (const key of KEY_NAMES.keys()) {
      buckets.push({
        bucketStart: day(offset),
        groupKey: key,
        cost: '5.00000',
        requests: 1,
        errors: 0,
      });
    }
  }
  const hoursToday = (now.getTime() - Date.UTC(2026, 10, 24)) / HOUR_MS;
  const usual = ((500 / 24) * hoursToday) / 100;
  buckets.push(
    {
      bucketStart: day(0),
      groupKey: 'ak_7hTn3kWe',
      cost: usual.toFixed(5),
      requests: 1,
      errors: 0,
    },
    {
      bucketStart: day(0),
      groupKey: 'ak_2pQx8bLr',
      cost: (usual + extraTodayCents / 100).toFixed(5),
      requests: 1,
      errors: 0,
    },
  );
  return { uri: '/usage/overview', buckets, totals: { cost: '0', requests: 0, errors: 0 } };
}

/** One run of the monitor's pure core. */
function run(world: World, index: number, balanceCents: number, extraTodayCents: number): Sent[] {
  const now = new Date(START.getTime() + index * RUN_MS);
  const sent: Sent[] = [];
  world.recent = recordRecentSample(world.recent, balanceCents, now);
  const recent = recentRate(world.recent, now);
  const runway = shorterRunway({
    balanceCents,
    recent,
    average: { dailySpendCents: AVERAGE_DAILY_CENTS, windowDays: 7 },
  });
  const runwayText = runway && formatRunwayText(runway);
  const decision = decide({
    account: 'prod',
    thresholdParameterName: '/ngrok/threshold',
    observation: {
      ok: true,
      balanceCents,
      forecast: {
        source: 'usage',
        dailySpendCents: AVERAGE_DAILY_CENTS,
        windowDays: 7,
        runwayDays: runway?.hours == null ? null : runway.hours / 24,
        topSpenders: [],
      },
    },
    thresholds: { thresholdCents: 1_000, recoveryMarginCents: 100 },
    configProblems: [],
    previous: world.alert,
    now,
    settings: SETTINGS,
  });
  world.alert = decision.state;
  for (const n of decision.notifications) {
    sent.push({ run: index, kind: `${n.kind}:${n.reason}`, text: runwayText });
  }

  const spike = decideSpike({
    previous: world.spike,
    recent,
    averageDailyCents: AVERAGE_DAILY_CENTS,
    settings: SETTINGS,
    now,
  });
  world.spike = spike.state;
  if (spike.event) {
    let who = '';
    if (spike.event.kind === 'spike-started') {
      const drivers = spikeDrivers(usage(now, extraTodayCents), now, 7);
      const ids = Array.isArray(drivers) ? drivers.map((d) => d.accessKey) : [];
      const names = updateKeyNameCache(undefined, KEY_NAMES, ids, now);
      who = ` driven by ${ids.map((id) => keyName(names, id)).join(', ')}`;
    }
    sent.push({ run: index, kind: spike.event.kind, text: `${runwayText}${who}` });
  }
  return sent;
}

/** Runs the monitor over `balances` (one per run) and returns everything it sent. */
function simulate(balances: readonly number[], spendAboveUsual: readonly number[] = []): Sent[] {
  const world: World = {};
  return balances.flatMap((cents, i) => run(world, i, cents, spendAboveUsual[i] ?? 0));
}

/** $10 a day is 10.42 cents per quarter hour. */
const STEADY_PER_RUN = AVERAGE_DAILY_CENTS / 96;

function steady(runs: number, fromCents: number, perRun = STEADY_PER_RUN): number[] {
  return Array.from({ length: runs }, (_, i) => Math.round(fromCents - i * perRun));
}

describe('the done-when scenario: threshold $10, $10 a day, then $40 every 15 minutes', () => {
  test('within four runs one alert says about two hours and names the spending key', () => {
    // Prepare: two quiet hours at $500, then the fall.
    const before = steady(8, 50_083);
    const fall = [46_000, 42_000, 38_000, 34_000];
    const extra = [...before.map(() => 0), 4_000, 8_000, 12_000, 16_000];

    // Act
    const sent = simulate([...before, ...fall], extra);

    // Assess
    const firstFallRun = before.length;
    expect(sent).toEqual([
      {
        run: firstFallRun + 1,
        kind: 'balance-alert:runway',
        text: 'about 2.6 hours at $160/h over the last 30 minutes; the 7-day average is $10/day',
      },
      {
        run: firstFallRun + 1,
        kind: 'spike-started',
        text:
          'about 2.6 hours at $160/h over the last 30 minutes; the 7-day average is $10/day' +
          ' driven by batch-worker',
      },
    ]);
  });

  test('a steady decline, a top-up and one lagging reading send nothing', () => {
    // Prepare: a day at $10/day; $100 bought at noon; the 2 pm reading lags a run behind.
    const balances = steady(96, 50_000).map((cents, i) => (i >= 24 ? cents + 10_000 : cents));
    balances[32] = balances[31] as number;

    // Act
    const sent = simulate(balances);

    // Assess
    expect(sent).toEqual([]);
  });
});

describe('a simulated day at 15-minute runs with a two-hour spike in the middle', () => {
  // 06:00 to 06:00: quiet until 14:00 (run 32), $160/h until 16:00 (run 40), quiet again.
  // Simulated inside each test, not once at collection: mutation testing must see it run.
  function spikeDay(): Sent[] {
    const spikeRuns = new Set(Array.from({ length: 8 }, (_, i) => 33 + i));
    const balances: number[] = [];
    let cents = 80_000;
    for (let i = 0; i < 96; i++) {
      cents -= spikeRuns.has(i) ? 4_000 : STEADY_PER_RUN;
      balances.push(Math.round(cents));
    }
    return simulate(balances);
  }

  test('gives exactly one spike alert, within the hour', () => {
    // Act
    const sent = spikeDay();

    // Assess
    const started = sent.filter((s) => s.kind === 'spike-started');
    expect(started).toHaveLength(1);
    expect(started[0]?.run).toBeLessThanOrEqual(32 + 4);
  });

  test('raises the runway alert in hours', () => {
    // Act
    const sent = spikeDay();

    // Assess
    const alerts = sent.filter((s) => s.kind === 'balance-alert:runway');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.text).toMatch(/^about \d+(\.\d)? hours at \$160\/h over the last 30 minutes/);
  });

  test('says "back to normal" once, an hour after the spike stops', () => {
    // Act
    const sent = spikeDay();

    // Assess
    const ended = sent.filter((s) => s.kind === 'spike-ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]?.run).toBe(40 + 1 + 4);
  });

  test('sends nothing else but the runway alert’s recovery', () => {
    // Act
    const sent = spikeDay();

    // Assess
    expect(sent.map((s) => s.kind)).toEqual([
      'balance-alert:runway',
      'spike-started',
      'balance-recovered:balance',
      'spike-ended',
    ]);
  });
});

describe('properties over any day', () => {
  propertyTest.prop([
    fc.integer({ min: 0, max: 100_000 }),
    fc.integer({ min: 3, max: 90 }),
    fc.integer({ min: 1, max: 1_000_000 }),
  ])('a top-up never produces a spike', (perRun, topUpRun, topUpCents) => {
    // Prepare: a steady burn at any rate, its own 7-day average, and a top-up of any size.
    const balances = steady(96, 20_000_000, perRun).map((c, i) =>
      i >= topUpRun ? c + topUpCents : c,
    );
    const world: World = {};

    // Act
    const events = balances.flatMap((c, i) => spikeEvents(world, i, c, perRun * 96));

    // Assess
    expect(events).toEqual([]);
  });

  propertyTest.prop([fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 95 })])(
    'a steady burn at any rate never does, even with one lagging reading',
    (perRun, lagRun) => {
      // Prepare
      const balances = steady(96, 100_000_000, perRun);
      balances[lagRun] = balances[lagRun - 1] as number;
      const world: World = {};

      // Act
      const events = balances.flatMap((c, i) => spikeEvents(world, i, c, perRun * 96));

      // Assess
      expect(events).toEqual([]);
    },
  );
});

/** The spike events of one run, for an account whose 7-day average is `dailyCents`. */
function spikeEvents(world: World, index: number, balanceCents: number, dailyCents: number) {
  const now = new Date(START.getTime() + index * RUN_MS);
  world.recent = recordRecentSample(world.recent, balanceCents, now);
  const decision = decideSpike({
    previous: world.spike,
    recent: recentRate(world.recent, now),
    averageDailyCents: dailyCents,
    settings: SETTINGS,
    now,
  });
  world.spike = decision.state;
  return decision.event ? [decision.event.kind] : [];
}
