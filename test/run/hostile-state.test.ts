/**
 * Saved state is validated on read and can only make the monitor more careful: a hand-edited
 * record neither silences an alert nor crashes the account, run after run.
 */
import { describe, expect, it } from 'vitest';
import { runMonitor } from '../../lambda/run/monitor.ts';
import { accountKey } from '../../lambda/store/account-record.ts';
import { MemoryStore } from '../../lambda/store/store.ts';
import { accountConfig, MINUTE, monitorConfig, NOW, World } from '../support/run-harness.ts';

const prod = accountConfig('prod');
const config = monitorConfig([prod]);
const later = (ms: number) => new Date(NOW.getTime() + ms);

function hostileWorld(alert: Record<string, unknown>, outbox: unknown = []) {
  const store = new MemoryStore<unknown>();
  store.put(accountKey('prod'), { alert, outbox });
  const world = new World(store);
  world.seed(prod, 400);
  return world;
}

const healthy = { level: 'ok', reason: 'balance', since: '2026-11-20T00:00:00Z', failures: 0 };

describe('a hand-edited saved state', () => {
  it('does not silence a balance alert with a snooze ending in the year 9999', async () => {
    const world = hostileWorld({
      ...healthy,
      snooze: { until: '9999-12-31T00:00:00Z', level: 'empty', note: 'forever' },
    });
    await runMonitor(config, world.deps(NOW), { eventId: 'e1' });
    const kinds = world.published.map((p) => p.kind);
    expect(kinds).toContain('balance-alert');
    expect(kinds).toContain('config-problem');
    expect((await world.record(prod))?.alert?.snooze).toBeUndefined();
  });

  it('does not crash the account when the history, readings and outbox are not lists', async () => {
    const world = hostileWorld(
      { ...healthy, history: 'not a list', recent: { a: 1 }, keyNames: { names: 7 } },
      'not a list',
    );
    const summary = await runMonitor(config, world.deps(NOW), { eventId: 'e1' });
    expect(summary.accounts[0]?.status).toBe('alerting');
    await runMonitor(config, world.deps(later(15 * MINUTE)), { eventId: 'e2' });
    // Repaired once: one notice, then quiet (the alert itself is not repeated either).
    expect(world.published.map((p) => p.kind).sort()).toEqual(['balance-alert', 'config-problem']);
  });

  it('treats a level it does not know as a first run, and alerts', async () => {
    const world = hostileWorld({ ...healthy, level: 'fine', failures: -3 });
    await runMonitor(config, world.deps(NOW), { eventId: 'e1' });
    expect(world.published.map((p) => p.kind)).toContain('balance-alert');
  });

  it('names the damaged part, never the value someone wrote', async () => {
    const world = hostileWorld({
      ...healthy,
      snooze: { until: '[click](https://evil.example)', level: 'ok' },
    });
    await runMonitor(config, world.deps(NOW), { eventId: 'e1' });
    const log = world.logs.join('\n');
    expect(log).toContain('saved snooze');
    expect(log).not.toContain('evil.example');
  });
});
