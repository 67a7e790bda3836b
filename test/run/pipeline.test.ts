/**
 * The run as a pipeline over one versioned record per account (issue: one run, one record):
 * what a user of the monitor would notice when runs race, publishes fail, a snooze is set
 * mid-run, or a capability is added as a watch.
 */
import { describe, expect, it } from 'vitest';
import { runMonitor } from '../../lambda/run/monitor.ts';
import { runSnoozeCommand } from '../../lambda/run/snooze-command.ts';
import { CLAIM_MS } from '../../lambda/store/outbox.ts';
import type { AlertState } from '../../lambda/store/state.ts';
import { MemoryStore } from '../../lambda/store/store.ts';
import { WATCHES } from '../../lambda/watches/index.ts';
import { watch } from '../../lambda/watches/watch.ts';
import { accountConfig, HOUR, MINUTE, monitorConfig, NOW, World } from '../support/run-harness.ts';

const prod = accountConfig('prod');
const config = monitorConfig([prod]);
const later = (ms: number) => new Date(NOW.getTime() + ms);

describe('the run loop over the state store', () => {
  it('alerts once for a low balance, then stays quiet until the reminder is due', async () => {
    // Prepare
    const world = new World();
    world.seed(prod, 499);
    // Act
    await runMonitor(config, world.deps(NOW), { eventId: 'e1' });
    await runMonitor(config, world.deps(later(15 * MINUTE)), { eventId: 'e2' });
    await runMonitor(config, world.deps(later(30 * MINUTE)), { eventId: 'e3' });
    // Assess
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    const record = await world.record(prod);
    expect(record?.alert?.level).toBe('low');
    expect(record?.outbox).toEqual([]);
  });

  it('delivers a notification whose publish failed on the next run, once', async () => {
    const world = new World();
    world.seed(prod, 499);
    world.failPublishes = 1;
    await expect(runMonitor(config, world.deps(NOW), { eventId: 'e1' })).rejects.toThrow(
      /SNS is unavailable/,
    );
    expect(world.published).toEqual([]);
    // The decision was committed with the alert in the outbox: nothing says "sent".
    const kept = await world.record(prod);
    expect(kept?.alert?.level).toBe('low');
    expect(kept?.outbox.map((e) => e.notification.kind)).toEqual(['balance-alert']);

    await runMonitor(config, world.deps(later(15 * MINUTE)), { eventId: 'e2' });
    await runMonitor(config, world.deps(later(30 * MINUTE)), { eventId: 'e3' });
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    expect((await world.record(prod))?.outbox).toEqual([]);
  });

  it('retries a first run whose publish failed (Lambda redelivers the same event) and alerts', async () => {
    const world = new World();
    world.seed(prod, 499);
    world.failPublishes = 1;
    await expect(runMonitor(config, world.deps(NOW), { eventId: 'e1' })).rejects.toThrow();
    // Lambda's retry of the same event: judged a duplicate for deciding, yet the alert goes out.
    await runMonitor(config, world.deps(later(MINUTE)), { eventId: 'e1' });
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
  });

  it('sends each notification once when two runs start at the same instant', async () => {
    // Both runs read the record before either writes (the worst interleaving).
    let reads = 0;
    let release: () => void = () => {};
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store = new MemoryStore<unknown>({
      beforeWrite: async () => {
        if (reads < 2) await bothRead;
      },
    });
    const read = store.read.bind(store);
    store.read = async (key) => {
      const value = await read(key);
      if (++reads === 2) release();
      return value;
    };
    const world = new World(store);
    world.seed(prod, 499);
    const results = await Promise.all([
      runMonitor(config, world.deps(NOW, { runId: 'run-a' }), { eventId: 'e1' }),
      runMonitor(config, world.deps(NOW, { runId: 'run-b' }), { eventId: 'e2' }),
    ]);
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    expect(results.flatMap((r) => r.accounts.flatMap((a) => a.notifications))).toEqual([
      'balance-alert',
    ]);
  });

  it('keeps a snooze set while a run is in flight', async () => {
    let during: (() => Promise<void>) | undefined;
    const world = new World(
      new MemoryStore<unknown>({
        beforeWrite: async () => {
          const command = during;
          during = undefined;
          await command?.();
        },
      }),
    );
    world.seed(prod, 2000);
    await runMonitor(config, world.deps(NOW), { eventId: 'e0' });
    // The snooze command runs between the scheduled run's read and its write.
    const until = later(25 * HOUR)
      .toISOString()
      .replace('.000Z', 'Z');
    during = async () => {
      const result = await runSnoozeCommand(
        { account: 'prod', until, note: 'deploy freeze' },
        config,
        world.deps(later(HOUR)),
      );
      expect(result, JSON.stringify(result)).toMatchObject({ snooze: 'done' });
    };
    world.setBalance(prod, 1500);
    await runMonitor(config, world.deps(later(HOUR)), { eventId: 'e1' });
    expect(during).toBeUndefined();
    const record = await world.record(prod);
    expect(record?.alert?.snooze?.note).toBe('deploy freeze');
    expect(Date.parse(record?.alert?.snooze?.until ?? '')).toBe(Date.parse(until));
    // The run's own change survived too: its reading is in the recent readings.
    expect(record?.alert?.recent?.at(-1)?.[1], JSON.stringify(record)).toBe(1500);
  });

  it('publishes a left-over notification from only one of two racing runs', async () => {
    const world = new World();
    world.seed(prod, 499);
    world.failPublishes = 1;
    await expect(runMonitor(config, world.deps(NOW), { eventId: 'e1' })).rejects.toThrow();
    const runs = await Promise.all([
      runMonitor(config, world.deps(later(15 * MINUTE), { runId: 'a' }), { eventId: 'e2' }),
      runMonitor(config, world.deps(later(15 * MINUTE), { runId: 'b' }), { eventId: 'e3' }),
    ]);
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    expect(runs.flatMap((r) => r.accounts.flatMap((a) => a.notifications))).toEqual([
      'balance-alert',
    ]);
  });

  it('repeats a notification at most once after a run died between publishing and marking it sent', async () => {
    // The write that marks the alert sent fails (the function timed out, say).
    let writes = 0;
    const store = new MemoryStore<unknown>();
    const write = store.write.bind(store);
    store.write = async (key, version, value) => {
      if (++writes === 2) throw new Error('the invocation timed out');
      return write(key, version, value);
    };
    const world = new World(store);
    world.seed(prod, 499);
    await expect(runMonitor(config, world.deps(NOW), { eventId: 'e1' })).rejects.toThrow(
      /timed out/,
    );
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    // While the dead run's claim holds, nobody publishes it again...
    await runMonitor(config, world.deps(later(5 * MINUTE)), { eventId: 'e2' });
    expect(world.published).toHaveLength(1);
    // ...after it lapses, the next run sends it once more (the one documented repeat).
    await runMonitor(config, world.deps(later(CLAIM_MS + MINUTE)), { eventId: 'e3' });
    await runMonitor(config, world.deps(later(CLAIM_MS + 20 * MINUTE)), { eventId: 'e4' });
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert', 'balance-alert']);
  });

  it('makes one settings read, one state read and at most one write per account on a quiet run', async () => {
    const accounts = Array.from({ length: 5 }, (_, i) => accountConfig(`a${i}`));
    const store = new MemoryStore<unknown>();
    const world = new World(store);
    for (const a of accounts) world.seed(a, 5000);
    const many = monitorConfig(accounts);
    await runMonitor(many, world.deps(NOW), { eventId: 'e1' });
    const before = { reads: store.reads, writes: store.writes, ssm: world.calls.getParameters };
    // The schedule's spacing (15 minutes), so the run is an ordinary later run.
    await runMonitor(many, world.deps(later(15 * MINUTE)), { eventId: 'e2' });
    expect(world.calls.getParameters - before.ssm).toBe(1);
    expect(store.reads - before.reads).toBe(accounts.length);
    expect(store.writes - before.writes).toBeLessThanOrEqual(accounts.length);
    expect(world.published).toEqual([]);
  });

  it("sends the balance alert when another watch's effect fails, then fails the run", async () => {
    const world = new World();
    world.seed(prod, 499);
    const broken = watch<undefined>({
      name: 'broken',
      effect: async () => {
        throw new Error('the ledger read blew up');
      },
      decide: (_input, step) => step,
    });
    await expect(
      runMonitor(config, world.deps(NOW, { watches: [broken, ...WATCHES] }), { eventId: 'e1' }),
    ).rejects.toThrow(/the ledger read blew up/);
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    expect((await world.record(prod))?.alert?.level).toBe('low');
  });

  it('runs and commits a watch added to the list, with no change to the loop', async () => {
    const world = new World();
    world.seed(prod, 5000);
    const counter = watch<number>({
      name: 'counter',
      effect: async () => 41,
      decide(_input, step, effect) {
        const state = step.state as AlertState & { counted?: number };
        return {
          ...step,
          state: { ...state, counted: (state.counted ?? 0) + (effect ?? 0) + 1 } as AlertState,
          notifications: [
            ...step.notifications,
            {
              ...notificationLike(step.state),
              kind: 'test',
              account: 'prod',
              at: NOW.toISOString(),
            },
          ],
        };
      },
    });
    await runMonitor(config, world.deps(NOW, { watches: [...WATCHES, counter] }), {
      eventId: 'e1',
    });
    const record = await world.record(prod);
    expect((record?.alert as { counted?: number } | undefined)?.counted).toBe(42);
    expect(world.published.map((p) => p.kind)).toEqual(['test']);
  });
});

function notificationLike(state: AlertState) {
  return {
    level: state.level,
    reason: state.reason,
    thresholds: { thresholdCents: 500, recoveryMarginCents: 50 },
    thresholdParameterName: '/t',
    configProblems: [],
  };
}
