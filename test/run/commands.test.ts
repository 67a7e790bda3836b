/**
 * The check and topUp commands (run/commands.ts), as the handler dispatches them: a check is
 * a normal run for one account only; a topUp is checked and handed to the purchase seam, which
 * refuses until a purchase is wired in. Both refuse a payload that names no configured account.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lambda/common/log.ts';
import type { AccountConfig } from '../../lambda/common/types.ts';
import {
  expandSnooze,
  parseAccountCommand,
  runCheckCommand,
  runTopUpCommand,
} from '../../lambda/run/commands.ts';
import { runMonitor } from '../../lambda/run/monitor.ts';
import { accountConfig, monitorConfig, NOW, World } from '../support/run-harness.ts';

const prod = accountConfig('prod');
const staging = accountConfig('staging');
const buyer = accountConfig('buyer', { autoTopUpCents: 2000 } as Partial<AccountConfig>);
const config = monitorConfig([prod, staging, buyer]);
const log = createLogger(() => {});

function checkDeps(world: World) {
  return {
    run: (request: Parameters<typeof runMonitor>[2]) =>
      runMonitor(config, world.deps(NOW), request),
    store: world.store,
    log,
  };
}

describe('the check command', () => {
  it('runs a normal run for that account only and says what it found', async () => {
    const world = new World();
    world.seed(prod, 499);
    world.seed(staging, 100);
    world.seed(buyer, 100);
    const result = await runCheckCommand({ account: 'prod' }, config, checkDeps(world));
    expect(result).toEqual({
      check: 'done',
      account: 'prod',
      status: 'alerting',
      balanceCents: 499,
      level: 'low',
      sent: ['balance-alert'],
      summary: 'prod: balance $4.99, level low; sent balance-alert.',
    });
    // The other accounts wait for the schedule.
    expect(world.published.map((p) => p.account)).toEqual(['prod']);
    expect(await world.record(staging)).toBeUndefined();
  });

  it('takes the account name alone', async () => {
    const world = new World();
    world.seed(prod, 5_000);
    const result = await runCheckCommand('prod', config, checkDeps(world));
    expect(result).toMatchObject({
      check: 'done',
      level: 'ok',
      sent: [],
      summary: 'prod: balance $50.00, level ok; nothing sent.',
    });
  });

  it.each([
    [{ account: 'nope' }, 'check.account', /"nope" is not an account of this deployment/],
    [{ account: 'prod', for: '1h' }, 'check.for', /not a known field/],
    [42, 'check', /42 is not an account/],
    [{}, 'check.account', /undefined is not an account of this deployment/],
  ])('refuses %j and runs nothing', async (payload, field, error) => {
    const world = new World();
    world.seed(prod, 499);
    const result = await runCheckCommand(payload, config, checkDeps(world));
    expect(result).toMatchObject({ check: 'refused', field });
    expect(result.check === 'refused' && result.error).toMatch(error);
    expect(world.published).toEqual([]);
  });
});

describe('the topUp command', () => {
  it('hands a configured account to the purchase seam, which refuses for now', async () => {
    const asked: string[] = [];
    const result = await runTopUpCommand({ account: 'buyer' }, config, {
      buy: async (account) => {
        asked.push(account.name);
        return { topUp: 'refused', error: 'buying from chat is not available yet' };
      },
      log,
    });
    expect(asked).toEqual(['buyer']);
    expect(result).toEqual({ topUp: 'refused', error: 'buying from chat is not available yet' });
  });

  it('passes on what the purchase did', async () => {
    const result = await runTopUpCommand('buyer', config, {
      buy: async (account) => ({ topUp: 'done', account: account.name, summary: 'bought $20.00' }),
      log,
    });
    expect(result).toEqual({ topUp: 'done', account: 'buyer', summary: 'bought $20.00' });
  });

  it.each([
    [{ account: 'nope' }, 'topUp.account', /is not an account of this deployment/],
    [{ account: 'prod' }, 'topUp.account', /auto top-up is not configured for "prod"/],
    [{ account: 'buyer', amount: 5000 }, 'topUp.amount', /not a known field/],
    [null, 'topUp', /null is not an account/],
  ])('refuses %j without asking to buy', async (payload, field, error) => {
    const result = await runTopUpCommand(payload, config, {
      buy: () => {
        throw new Error('must not be asked');
      },
      log,
    });
    expect(result).toMatchObject({ topUp: 'refused', field });
    expect(result.topUp === 'refused' && result.error).toMatch(error);
  });
});

describe('the short forms', () => {
  it('a snooze with the account name alone is a snooze for one day', () => {
    expect(expandSnooze('prod')).toEqual({ account: 'prod', for: '24h' });
    const long = { account: 'prod', until: '2026-11-25T09:00:00Z' };
    expect(expandSnooze(long)).toBe(long);
  });

  it('a name alone and the object form name the same account', () => {
    expect(parseAccountCommand('check', 'staging', config)).toEqual({ account: staging });
    expect(parseAccountCommand('check', { account: 'staging' }, config)).toEqual({
      account: staging,
    });
  });
});
