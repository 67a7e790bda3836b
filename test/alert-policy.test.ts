import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type {
  CheckFailureKind,
  Forecast,
  Level,
  NotificationKind,
  Observation,
} from '../lambda/common/types.ts';
import type { Runway } from '../lambda/observe/runway.ts';
import type { AlertState } from '../lambda/store/state.ts';
import { decide, type PolicyInput } from '../lambda/watches/alert-policy.ts';

const HOUR = 3_600_000;
const T0 = new Date('2026-11-02T00:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

const settings = { renotifyMs: 24 * HOUR, failureAlertAfter: 3, runwayAlertDays: 3 };
const thresholds = { thresholdCents: 1000, criticalThresholdCents: 300, recoveryMarginCents: 100 };

const balance = (balanceCents: number, forecast?: Forecast): Observation => ({
  ok: true,
  balanceCents,
  forecast,
});
const failure = (kind: CheckFailureKind = 'transient'): Observation => ({
  ok: false,
  failure: { kind, message: `${kind} failure` },
});
const runway = (runwayDays: number | null): Forecast => ({
  source: 'usage',
  dailySpendCents: 310,
  windowDays: 7,
  runwayDays,
  topSpenders: [],
});

function input(
  observation: Observation,
  previous?: AlertState,
  now = T0,
  extra: Partial<PolicyInput> = {},
): PolicyInput {
  return {
    account: 'prod',
    thresholdParameterName: '/ngrok-balance-alert/prod/threshold-cents',
    observation,
    thresholds,
    configProblems: [],
    previous,
    now,
    settings,
    ...extra,
  };
}

const state = (fields: Partial<AlertState>): AlertState => ({
  level: 'ok',
  reason: 'balance',
  since: T0.toISOString(),
  failures: 0,
  ...fields,
});

describe('decide: balance levels', () => {
  const cases: Array<{
    name: string;
    previous?: Partial<AlertState>;
    observation: Observation;
    now?: Date;
    level: Level;
    kinds: NotificationKind[];
  }> = [
    {
      name: 'first run with a healthy balance',
      observation: balance(5000),
      level: 'ok',
      kinds: [],
    },
    { name: 'balance equal to the threshold', observation: balance(1000), level: 'ok', kinds: [] },
    {
      name: 'one cent under the threshold',
      observation: balance(999),
      level: 'low',
      kinds: ['balance-alert'],
    },
    {
      name: 'under the critical threshold',
      observation: balance(299),
      level: 'critical',
      kinds: ['balance-alert'],
    },
    { name: 'zero balance', observation: balance(0), level: 'empty', kinds: ['balance-alert'] },
    {
      name: 'negative balance',
      observation: balance(-250),
      level: 'empty',
      kinds: ['balance-alert'],
    },
    {
      name: 'low to critical is a rise',
      previous: { level: 'low', lastNotifiedAt: T0.toISOString() },
      observation: balance(200),
      now: at(1),
      level: 'critical',
      kinds: ['balance-alert'],
    },
    {
      name: 'critical to low is an improvement, still above ok',
      previous: { level: 'critical', lastNotifiedAt: T0.toISOString() },
      observation: balance(800),
      now: at(1),
      level: 'low',
      kinds: ['balance-improved'],
    },
    {
      name: 'low stays low before the reminder is due',
      previous: { level: 'low', lastNotifiedAt: T0.toISOString() },
      observation: balance(900),
      now: at(23.75),
      level: 'low',
      kinds: [],
    },
    {
      name: 'low stays low when the reminder is due',
      previous: { level: 'low', lastNotifiedAt: T0.toISOString() },
      observation: balance(900),
      now: at(24),
      level: 'low',
      kinds: ['balance-reminder'],
    },
    {
      name: 'above the threshold but inside the recovery margin stays low',
      previous: { level: 'low', lastNotifiedAt: T0.toISOString() },
      observation: balance(1050),
      now: at(1),
      level: 'low',
      kinds: [],
    },
    {
      name: 'threshold plus margin recovers',
      previous: { level: 'low', lastNotifiedAt: T0.toISOString() },
      observation: balance(1100),
      now: at(1),
      level: 'ok',
      kinds: ['balance-recovered'],
    },
    {
      name: 'empty straight to healthy recovers',
      previous: { level: 'empty', lastNotifiedAt: T0.toISOString() },
      observation: balance(50_000),
      now: at(1),
      level: 'ok',
      kinds: ['balance-recovered'],
    },
    {
      name: 'short runway above the threshold alerts',
      observation: balance(600_00, runway(1.9)),
      level: 'low',
      kinds: ['balance-alert'],
    },
    {
      name: 'long runway above the threshold is ok',
      observation: balance(600_00, runway(60)),
      level: 'ok',
      kinds: [],
    },
    {
      name: 'no recent spend is ok',
      observation: balance(600_00, runway(null)),
      level: 'ok',
      kinds: [],
    },
    {
      name: 'a runway alert needs 10% more runway to recover',
      previous: { level: 'low', reason: 'runway', lastNotifiedAt: T0.toISOString() },
      observation: balance(600_00, runway(3.2)),
      now: at(1),
      level: 'low',
      kinds: [],
    },
    {
      name: 'a runway alert recovers with enough runway',
      previous: { level: 'low', reason: 'runway', lastNotifiedAt: T0.toISOString() },
      observation: balance(600_00, runway(3.5)),
      now: at(1),
      level: 'ok',
      kinds: ['balance-recovered'],
    },
    {
      name: 'a runway alert is not declared over without a forecast',
      previous: { level: 'low', reason: 'runway', lastNotifiedAt: T0.toISOString() },
      observation: balance(600_00),
      now: at(1),
      level: 'low',
      kinds: [],
    },
  ];

  it.each(cases)('$name', ({ previous, observation, now, level, kinds }) => {
    // Act
    const decision = decide(input(observation, previous && state(previous), now));
    // Assess
    expect(decision.state.level).toBe(level);
    expect(decision.notifications.map((n) => n.kind)).toEqual(kinds);
  });

  it('states the balance, thresholds and previous level in an alert', () => {
    const [alert] = decide(input(balance(499))).notifications;
    expect(alert).toMatchObject({
      kind: 'balance-alert',
      account: 'prod',
      level: 'low',
      previousLevel: 'ok',
      balanceCents: 499,
      thresholds,
      thresholdParameterName: '/ngrok-balance-alert/prod/threshold-cents',
    });
  });

  it('keeps the start of a problem across reminders', () => {
    const previous = state({
      level: 'low',
      since: T0.toISOString(),
      lastNotifiedAt: T0.toISOString(),
    });
    const { state: next, notifications } = decide(input(balance(900), previous, at(24)));
    expect(next.since).toBe(T0.toISOString());
    expect(next.lastNotifiedAt).toBe(at(24).toISOString());
    expect(notifications[0]?.since).toBe(T0.toISOString());
  });
});

describe('decide: failed checks', () => {
  it('alerts at once when the key is rejected', () => {
    const decision = decide(input(failure('auth')));
    expect(decision.notifications.map((n) => n.kind)).toEqual(['monitor-failing']);
    expect(decision.status).toBe('check-failed');
    expect(decision.state.failures).toBe(1);
  });

  it('alerts at once when the key parameter is missing', () => {
    const decision = decide(input(failure('missing-key')));
    expect(decision.notifications.map((n) => n.kind)).toEqual(['monitor-failing']);
  });

  it('waits for failureAlertAfter consecutive transient failures', () => {
    let previous: AlertState | undefined;
    const kinds: NotificationKind[][] = [];
    for (let run = 0; run < 4; run++) {
      const decision = decide(input(failure(), previous, at(run / 4)));
      kinds.push(decision.notifications.map((n) => n.kind));
      previous = decision.state;
    }
    expect(kinds).toEqual([[], [], ['monitor-failing'], []]);
  });

  it('reports a rejected key even after an outage was already reported', () => {
    const previous = state({
      failures: 5,
      failureSince: T0.toISOString(),
      failureNotifiedAt: T0.toISOString(),
      failureKind: 'transient',
    });
    const decision = decide(input(failure('auth'), previous, at(1)));
    expect(decision.notifications.map((n) => n.kind)).toEqual(['monitor-failing']);
    expect(decision.notifications[0]?.since).toBe(T0.toISOString());
  });

  it('reminds about a failing monitor every renotify interval, not every run', () => {
    const previous = state({
      failures: 3,
      failureNotifiedAt: T0.toISOString(),
      failureKind: 'auth',
    });
    expect(decide(input(failure('auth'), previous, at(23))).notifications).toEqual([]);
    expect(
      decide(input(failure('auth'), previous, at(24))).notifications.map((n) => n.kind),
    ).toEqual(['monitor-reminder']);
  });

  it('keeps the last known level through a failure and never reports a recovery', () => {
    const previous = state({
      level: 'critical',
      lastNotifiedAt: T0.toISOString(),
      lastBalanceCents: 250,
    });
    const decision = decide(input(failure('auth'), previous, at(1)));
    expect(decision.state.level).toBe('critical');
    expect(decision.notifications.every((n) => !n.kind.endsWith('recovered'))).toBe(true);
    expect(decision.notifications[0]?.balanceCents).toBe(250);
  });

  it('announces the monitor recovered after a reported failure', () => {
    const previous = state({
      failures: 4,
      failureNotifiedAt: T0.toISOString(),
      failureKind: 'transient',
    });
    const decision = decide(input(balance(5000), previous, at(1)));
    expect(decision.notifications.map((n) => n.kind)).toEqual(['monitor-recovered']);
    expect(decision.state.failures).toBe(0);
    expect(decision.state.failureNotifiedAt).toBeUndefined();
  });

  it('says nothing when a failure that was never reported clears', () => {
    const previous = state({ failures: 2, failureSince: T0.toISOString() });
    expect(decide(input(balance(5000), previous, at(1))).notifications).toEqual([]);
  });
});

describe('decide: duplicates and configuration problems', () => {
  it('does nothing for a redelivered event that already changed state', () => {
    const first = decide(input(balance(499), undefined, T0, { eventId: 'event-1' }));
    const again = decide(input(balance(499), first.state, T0, { eventId: 'event-1' }));
    expect(first.notifications).toHaveLength(1);
    expect(again.notifications).toEqual([]);
    expect(again.status).toBe('duplicate');
    expect(again.state).toBe(first.state);
  });

  it('reports an invalid threshold parameter once, on its own when nothing else is sent', () => {
    const problem = { parameterName: '/p', message: 'The threshold parameter /p holds "ten"' };
    const first = decide(input(balance(5000), undefined, T0, { configProblems: [problem] }));
    const second = decide(input(balance(5000), first.state, at(1), { configProblems: [problem] }));
    expect(first.notifications.map((n) => n.kind)).toEqual(['config-problem']);
    expect(second.notifications).toEqual([]);
  });

  it('carries a configuration problem inside an alert instead of sending two messages', () => {
    const problem = { parameterName: '/p', message: 'The threshold parameter /p holds "ten"' };
    const decision = decide(input(balance(499), undefined, T0, { configProblems: [problem] }));
    expect(decision.notifications.map((n) => n.kind)).toEqual(['balance-alert']);
    expect(decision.notifications[0]?.configProblems).toEqual([problem]);
  });
});

/** Runs the policy over a script of observations, like the scheduler would. */
function simulate(
  steps: Array<{ hours: number; observation: Observation }>,
  thresholdsOverride = thresholds,
): Array<{ hours: number; kind: NotificationKind }> {
  let previous: AlertState | undefined;
  const sent: Array<{ hours: number; kind: NotificationKind }> = [];
  for (const [index, step] of steps.entries()) {
    const decision = decide(
      input(step.observation, previous, at(step.hours), {
        eventId: `event-${index}`,
        thresholds: thresholdsOverride,
      }),
    );
    for (const n of decision.notifications) sent.push({ hours: step.hours, kind: n.kind });
    previous = decision.state;
  }
  return sent;
}

/** One observation per 15-minute run for `days` days, from `fromHours` on. */
function schedule(fromHours: number, days: number, observe: (run: number) => Observation) {
  return Array.from({ length: days * 96 }, (_, run) => ({
    hours: fromHours + run / 4,
    observation: observe(run),
  }));
}

describe('a week at a 15-minute schedule', () => {
  it('sends 1 alert and 2 reminders for 3 days below the threshold, then 1 recovery', () => {
    const sent = simulate([
      ...schedule(0, 1, () => balance(5000)),
      ...schedule(24, 3, () => balance(900)),
      ...schedule(96, 3, () => balance(5000)),
    ]);
    expect(sent).toEqual([
      { hours: 24, kind: 'balance-alert' },
      { hours: 48, kind: 'balance-reminder' },
      { hours: 72, kind: 'balance-reminder' },
      { hours: 96, kind: 'balance-recovered' },
    ]);
  });

  it('does not flap while the balance hovers around the threshold', () => {
    const sent = simulate(schedule(0, 7, (run) => balance(run % 2 === 0 ? 990 : 1010)));
    expect(sent.map((s) => s.kind)).toEqual([
      'balance-alert',
      ...Array(6).fill('balance-reminder'),
    ]);
  });

  it('sends 1 alert a day, not 96, for a revoked key', () => {
    const sent = simulate(schedule(0, 3, () => failure('auth')));
    expect(sent).toEqual([
      { hours: 0, kind: 'monitor-failing' },
      { hours: 24, kind: 'monitor-reminder' },
      { hours: 48, kind: 'monitor-reminder' },
    ]);
  });

  it('stays quiet through a one-run outage and reports a five-run outage once', () => {
    const sent = simulate(
      schedule(0, 7, (run) => {
        if (run === 10) return failure();
        if (run >= 200 && run < 205) return failure();
        return balance(5000);
      }),
    );
    expect(sent).toEqual([
      { hours: 202 / 4, kind: 'monitor-failing' },
      { hours: 205 / 4, kind: 'monitor-recovered' },
    ]);
  });

  it('follows a draining balance through every level and back after a top-up', () => {
    // Spends 10 cents a run from $15.00, is topped up to $50.00 after 4 days.
    const sent = simulate(
      schedule(0, 7, (run) => balance(run < 384 ? Math.max(-100, 1500 - run * 10) : 5000)),
    );
    expect(sent.map((s) => s.kind)).toEqual([
      'balance-alert', // below $10.00 at run 51
      'balance-alert', // below $3.00 at run 121
      'balance-alert', // empty at run 150
      'balance-reminder',
      'balance-reminder',
      'balance-recovered',
    ]);
    expect(sent.map((s) => s.hours)).toEqual([
      51 / 4,
      121 / 4,
      150 / 4,
      150 / 4 + 24,
      150 / 4 + 48,
      96,
    ]);
  });
});

describe('invariants', () => {
  const observationArb = fc.oneof(
    fc.integer({ min: -1000, max: 3000 }).map((cents) => balance(cents)),
    fc
      .tuple(
        fc.integer({ min: 1000, max: 100_000 }),
        fc.option(fc.double({ min: 0, max: 30, noNaN: true })),
      )
      .map(([cents, days]) => balance(cents, days === null ? undefined : runway(days))),
    fc
      .constantFrom<CheckFailureKind>('auth', 'transient', 'missing-key')
      .map((kind) => failure(kind)),
  );
  const scriptArb = fc.array(
    fc.record({
      observation: observationArb,
      gapHours: fc.double({ min: 0, max: 30, noNaN: true }),
    }),
    { minLength: 1, maxLength: 60 },
  );

  propertyTest.prop([scriptArb])('the same observation twice adds no notification', (script) => {
    let previous: AlertState | undefined;
    let hours = 0;
    for (const [index, step] of script.entries()) {
      hours += step.gapHours;
      const eventId = `event-${index}`;
      const first = decide(input(step.observation, previous, at(hours), { eventId }));
      // The same event delivered again, whatever it observed.
      const redelivered = decide(input(step.observation, first.state, at(hours), { eventId }));
      expect(redelivered.notifications).toEqual([]);
      // A new run that sees the same balance. (A repeated failure is a new failure: it counts
      // towards failureAlertAfter, so only successful checks are compared here.)
      if (step.observation.ok) {
        const nextRun = decide(
          input(step.observation, first.state, at(hours), { eventId: `${eventId}b` }),
        );
        expect(nextRun.notifications).toEqual([]);
      }
      previous = first.state;
    }
  });

  propertyTest.prop([scriptArb])('a failed check never yields ok or a recovery', (script) => {
    let previous: AlertState | undefined;
    let hours = 0;
    for (const step of script) {
      hours += step.gapHours;
      const decision = decide(input(step.observation, previous, at(hours)));
      if (!step.observation.ok) {
        expect(decision.status).toBe('check-failed');
        expect(decision.state.level).toBe(previous?.level ?? 'ok');
        expect(decision.notifications.filter((n) => n.kind.endsWith('recovered'))).toEqual([]);
      }
      previous = decision.state;
    }
  });

  const wobbleArb = fc.record({
    boundary: fc.constantFrom(thresholds.criticalThresholdCents, thresholds.thresholdCents),
    offsets: fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 96, maxLength: 96 }),
  });

  propertyTest.prop([wobbleArb])(
    'a balance wobbling within the margin around any threshold sends at most one message a day',
    ({ boundary, offsets }) => {
      // One day at a 15-minute schedule, within less than the $1.00 margin of one boundary.
      const sent = simulate(
        offsets.map((offset, run) => ({ hours: run / 4, observation: balance(boundary + offset) })),
      );
      // Alerts on the way down only (at most two levels); a day is too short for a reminder.
      expect(sent.filter((s) => s.kind !== 'balance-alert')).toEqual([]);
      expect(sent.length).toBeLessThanOrEqual(2);
    },
  );
});

describe('decide: hysteresis at every boundary and what recoveries say', () => {
  it.each([
    { name: 'the critical threshold', low: 295, high: 305 },
    { name: 'the warning threshold', low: 995, high: 1005 },
  ])(
    'sends one alert, not one per run, while the balance wobbles around $name',
    ({ low, high }) => {
      const sent = simulate(schedule(0, 1, (run) => balance(run % 2 === 0 ? low : high)));
      expect(sent.map((s) => s.kind)).toEqual(['balance-alert']);
    },
  );

  it('leaves critical once the balance clears the critical threshold by the margin', () => {
    const previous = state({ level: 'critical', lastNotifiedAt: T0.toISOString() });
    expect(decide(input(balance(399), previous, at(1))).state.level).toBe('critical');
    expect(decide(input(balance(400), previous, at(1))).state.level).toBe('low');
  });

  it('leaves empty with any credit at all: requests are served again', () => {
    const previous = state({ level: 'empty', lastNotifiedAt: T0.toISOString() });
    const { state: next, notifications } = decide(input(balance(1), previous, at(1)));
    expect(next.level).toBe('critical');
    expect(notifications.map((n) => n.kind)).toEqual(['balance-improved']);
  });

  it('never needs more than the warning threshold to leave critical', () => {
    // Critical $9.50 and warning $10.00 are closer together than the $1.00 margin.
    const close = { thresholdCents: 1000, criticalThresholdCents: 950, recoveryMarginCents: 100 };
    const previous = state({ level: 'critical', lastNotifiedAt: T0.toISOString() });
    const decision = decide(input(balance(1020), previous, at(1), { thresholds: close }));
    expect(decision.state.level).toBe('low');
  });

  it('blames the balance, not the runway, once the runway is long again', () => {
    const previous = state({ level: 'low', reason: 'runway', lastNotifiedAt: T0.toISOString() });
    // Runway recovered, but the balance is inside the margin above the threshold.
    const decision = decide(input(balance(1050, runway(105)), previous, at(1)));
    expect(decision.state).toMatchObject({ level: 'low', reason: 'balance' });
  });

  it('reports the level found by the check that ends an outage', () => {
    // Prepare: an outage began while the account was ok; meanwhile the balance ran out.
    const previous = state({
      failures: 4,
      failureNotifiedAt: T0.toISOString(),
      failureKind: 'transient',
    });
    // Act
    const { notifications } = decide(input(balance(0), previous, at(2)));
    // Assess
    expect(notifications.map((n) => [n.kind, n.level])).toEqual([
      ['monitor-recovered', 'empty'],
      ['balance-alert', 'empty'],
    ]);
  });

  it('gives the newest known balance in a failure alert', () => {
    const sampledAt = at(30).getTime() / 1000;
    const previous = state({
      level: 'ok',
      since: T0.toISOString(),
      lastBalanceCents: 50_000,
      history: [[sampledAt, 1_200]],
    });
    const [alert] = decide(input(failure('auth'), previous, at(31))).notifications;
    expect(alert?.balanceCents).toBe(1_200);
  });
});

describe('decide: the shorter runway of the recent and the 7-day rate', () => {
  /** A runway measured by the monitor: `hours` left at the faster of the two rates. */
  const withRunway = (observation: Observation, runwayNow: Runway): Observation =>
    observation.ok ? { ...observation, runway: runwayNow } : observation;
  const shorter = (hours: number | null): Runway => ({
    hours,
    basis: 'recent',
    centsPerHour: 16_000,
    recent: { known: true, centsPerHour: 16_000, windowMinutes: 30, intervals: 2 },
    averageDailyCents: 1_000,
    averageWindowDays: 7,
  });

  it('raises a runway alert on the shorter runway even when the forecast says weeks', () => {
    // Prepare: $420 left; the 7-day rate says 42 days, the last half hour 2.6 hours.
    const observation = withRunway(balance(420_00, runway(42)), shorter(2.625));
    // Act
    const decision = decide(input(observation, undefined, at(0)));
    // Assess
    expect(decision.state).toMatchObject({ level: 'low', reason: 'runway' });
    expect(decision.notifications[0]?.runway?.hours).toBe(2.625);
  });

  it('uses the shorter runway over the forecast also when it is long', () => {
    const observation = withRunway(balance(420_00, runway(1)), shorter(24 * 30));
    expect(decide(input(observation, undefined, at(0))).state.level).toBe('ok');
  });

  it('raises nothing when nothing is being spent', () => {
    const observation = withRunway(balance(420_00, runway(1)), shorter(null));
    expect(decide(input(observation, undefined, at(0))).state.level).toBe('ok');
  });
});
