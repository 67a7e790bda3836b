/**
 * Snooze, the weekly digest and expiry warnings over days of scheduled runs: runMonitor and
 * the snooze command driven in-process with a moving clock, against in-memory SSM, SNS and
 * state store and a fake ngrok API. The artifact test runs the same paths through the real bundle once.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../lambda/common/log.ts';
import type { AccountConfig, MonitorConfig } from '../lambda/common/types.ts';
import { DIGEST_KEY } from '../lambda/run/digest.ts';
import { type MonitorDeps, runMonitor } from '../lambda/run/monitor.ts';
import { runSnoozeCommand } from '../lambda/run/snooze-command.ts';
import { accountKey } from '../lambda/store/account-record.ts';
import { serveParameters, TestStore } from './support/aws-mocks.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:alerts';
/** A Tuesday: the default digest time (Monday 09:00 UTC) is six days on. */
const T0 = new Date('2026-11-24T12:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

const main: AccountConfig = {
  name: 'main',
  tokenParameterName: '/keys/main',
  thresholdParameterName: '/ngrok-balance-alert/main/threshold-cents',
  thresholdCents: 1000,
};
/** A second account, for the digest of a deployment of two. */
const second: AccountConfig = {
  name: 'second',
  tokenParameterName: '/keys/second',
  thresholdParameterName: '/ngrok-balance-alert/second/threshold-cents',
  thresholdCents: 1000,
};

const config = (overrides: Partial<MonitorConfig> = {}): MonitorConfig => ({
  accounts: [main],
  renotifyHours: 24,
  failureAlertAfter: 3,
  forecastDays: 7,
  runwayAlertDays: 0,
  usageRefreshHours: 6,
  metrics: 'none',
  digest: 'weekly',
  digestDay: 'monday',
  digestHourUtc: 9,
  spikeFactor: 3,
  spikeMinCentsPerHour: 100,
  expiryWarningDays: 14,
  deployment: 'NgrokBalanceAlert',
  ...overrides,
});

/** The fake ngrok API's answers; tests change them between runs. */
interface NgrokScript {
  balanceCents: number;
  grants: readonly Record<string, unknown>[];
  transactionsStatus?: number;
  transactionsCalls: number;
}

function fakeNgrok(script: NgrokScript): typeof globalThis.fetch {
  return async (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    if (url.pathname === '/credits/balance') {
      return json(200, { balanceCents: script.balanceCents });
    }
    if (url.pathname === '/credits/transactions') {
      script.transactionsCalls++;
      if (script.transactionsStatus) {
        return json(script.transactionsStatus, { statusCode: 500, msg: 'down', details: {} });
      }
      return json(200, { items: script.grants.map((g) => ({ type: 'credits', ...g })) });
    }
    return json(200, {
      uri: '/usage/overview',
      buckets: [],
      totals: { cost: '0', requests: 0, errors: 0 },
    });
  };
}

const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
let parameters: Map<string, string>;
let store: TestStore;

beforeEach(() => {
  ssm.reset();
  sns.reset();
  store = new TestStore();
  parameters = new Map([
    [main.tokenParameterName, 'key-main'],
    [main.thresholdParameterName, '1000'],
    [second.tokenParameterName, 'key-second'],
    [second.thresholdParameterName, '1000'],
  ]);
  serveParameters(ssm, sns, () => parameters);
});

const ADDRESS = { region: 'eu-west-1', functionName: 'NgrokBalanceAlert-Monitor' };

function deps(script: NgrokScript, now: Date): MonitorDeps {
  return {
    ssm: new SSMClient({ region: 'eu-west-1' }),
    sns: new SNSClient({ region: 'eu-west-1' }),
    topicArn: TOPIC_ARN,
    store,
    log: createLogger(() => {}),
    now: () => now,
    remainingTimeMs: () => 60_000,
    ngrok: {
      baseUrl: 'http://ngrok.test',
      fetch: fakeNgrok(script),
      sleep: async () => {},
      random: () => 0.5,
    },
    ...ADDRESS,
  };
}

interface Published {
  readonly kind: string;
  readonly level: string;
  readonly subject: string;
  readonly email: string;
  readonly event: string;
}

const published = (): Published[] =>
  sns.commandCalls(PublishCommand).map((call) => {
    const input = call.args[0].input;
    const message = JSON.parse(input.Message ?? '{}') as Record<string, string>;
    const structured = JSON.parse(message.lambda ?? '{}') as Record<string, string>;
    return {
      kind: structured.kind ?? '',
      level: structured.level ?? '',
      event: structured.event ?? '',
      subject: input.Subject ?? '',
      email: message.email ?? '',
    };
  });

const script = (fields: Partial<NgrokScript> = {}): NgrokScript => ({
  balanceCents: 50_000,
  grants: [],
  transactionsCalls: 0,
  ...fields,
});

/** Scheduled runs from `from` to `to` hours (inclusive) every `every` hours. */
async function runEvery(
  s: NgrokScript,
  from: number,
  to: number,
  every: number,
  cfg = config(),
  before?: (hours: number) => void,
) {
  for (let hours = from; hours <= to; hours += every) {
    before?.(hours);
    await runMonitor(cfg, deps(s, at(hours)), { eventId: `run-${hours}` });
  }
}

describe('a snoozed account over days of runs', () => {
  it('holds reminders for two days, alerts when the balance hits zero, reminds once when the snooze ends', async () => {
    // Prepare: a low balance, alerted at once.
    const s = script({ balanceCents: 500 });
    await runMonitor(config(), deps(s, at(0)), { eventId: 'run-0' });
    const snoozeUntil = at(49);

    // Act: snoozed an hour later for two days; the balance hits zero on the second day.
    const result = await runSnoozeCommand(
      { account: 'main', until: snoozeUntil.toISOString(), note: 'top-up approved' },
      config(),
      { ...deps(s, at(1)), now: () => at(1) },
    );
    await runEvery(s, 1.25, 72, 0.25, config(), (hours) => {
      s.balanceCents = hours >= 30 ? 0 : 500;
    });

    // Assess
    expect(result).toEqual({
      snooze: 'done',
      accounts: [{ account: 'main', result: 'snoozed', until: snoozeUntil.toISOString() }],
    });
    const sent = published().map((p) => `${p.kind}:${p.level}`);
    expect(sent).toEqual([
      'balance-alert:low',
      'snooze-set:low',
      // A rise to EMPTY is news the snooze lets through.
      'balance-alert:empty',
      // The one reminder owed when the snooze ends; the next is 24 hours later (hour 73).
      'balance-reminder:empty',
    ]);
    const times = sns.commandCalls(PublishCommand).length;
    expect(times).toBe(4);
    const confirmation = published()[1] as Published;
    expect(confirmation.subject).toBe('ngrok alerts snoozed (main): until 2026-11-26 13:00 UTC');
    expect(confirmation.email).toContain('Note: "top-up approved"');
    const saved = await store.record(main.name);
    expect(saved?.alert?.snooze).toBeUndefined();
    expect(saved?.outbox).toEqual([]);
  });

  it('sends the reminder at the first run after the snooze ends, not before', async () => {
    const s = script({ balanceCents: 500 });
    await runMonitor(config(), deps(s, at(0)), { eventId: 'run-0' });
    await runSnoozeCommand({ account: 'main', until: at(48).toISOString() }, config(), {
      ...deps(s, at(1)),
      now: () => at(1),
    });

    await runEvery(s, 1, 47.75, 0.25);
    const beforeEnd = published().length;
    await runEvery(s, 48, 48, 1);

    expect(beforeEnd).toBe(2);
    expect(published().map((p) => p.kind)).toEqual([
      'balance-alert',
      'snooze-set',
      'balance-reminder',
    ]);
  });

  it('ends a snooze early with "until": null, confirms it, and reminds at the next run', async () => {
    const s = script({ balanceCents: 500 });
    await runMonitor(config(), deps(s, at(0)), { eventId: 'run-0' });
    await runSnoozeCommand({ account: '*', until: at(48).toISOString() }, config(), {
      ...deps(s, at(1)),
      now: () => at(1),
    });

    const ended = await runSnoozeCommand({ account: 'main', until: null }, config(), {
      ...deps(s, at(2)),
      now: () => at(2),
    });
    await runEvery(s, 2.25, 2.25, 1);

    expect(ended).toEqual({
      snooze: 'done',
      accounts: [{ account: 'main', result: 'ended', until: at(2).toISOString() }],
    });
    expect(published().map((p) => p.kind)).toEqual([
      'balance-alert',
      'snooze-set',
      'snooze-ended',
      'balance-reminder',
    ]);
  });

  it.each([
    [{ account: 'nope', until: '2026-11-25T12:00:00Z' }, 'snooze.account'],
    [{ account: 'main', until: '2026-11-20T12:00:00Z' }, 'snooze.until'],
    [{ account: 'main', until: '2026-12-24T12:00:00Z' }, 'snooze.until'],
    [{ account: 'main', until: '2026-02-30T12:00:00Z' }, 'snooze.until'],
    [{ account: 'main', until: '2026-11-25T12:00:00Z', mood: 'x' }, 'snooze.mood'],
    ['tomorrow', 'snooze'],
  ])('refuses %j in the invocation result and changes nothing', async (payload, field) => {
    await runMonitor(config(), deps(script({ balanceCents: 500 }), at(0)), { eventId: 'run-0' });
    const before = await store.record(main.name);
    store.writeKeys.length = 0;
    sns.resetHistory();

    const result = await runSnoozeCommand(payload, config(), deps(script(), at(0)));

    expect(result).toMatchObject({ snooze: 'refused', field });
    expect((result as { error: string }).error).toMatch(/Expected/);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(store.writeKeys).toEqual([]);
    expect(await store.record(main.name)).toEqual(before);
  });

  it('keeps a snooze set while a scheduled run was under way', async () => {
    // Prepare: the command lands between the run's read and its first write.
    const s = script({ balanceCents: 500 });
    let commandSent = false;
    store = new TestStore({
      beforeWrite: async (key) => {
        if (commandSent || key !== accountKey(main.name)) return;
        commandSent = true;
        await runSnoozeCommand({ account: 'main', until: at(24).toISOString() }, config(), {
          ...deps(s, at(0)),
          now: () => at(0),
        });
      },
    });

    // Act
    await runMonitor(config(), deps(s, at(0)), { eventId: 'run-0' });

    // Assess: the run lost the race, re-decided on the command's state and kept its snooze.
    expect(commandSent).toBe(true);
    const saved = await store.record(main.name);
    expect(saved?.alert?.level).toBe('low');
    expect(saved?.alert?.snooze?.until).toBe(at(24).toISOString());
    // The confirmation went out once, and nothing is left unsent.
    expect(published().filter((p) => p.kind === 'snooze-set')).toHaveLength(1);
    expect(saved?.outbox).toEqual([]);
  });
});

describe('the weekly digest over eight days of runs', () => {
  it('sends exactly one digest, at the first run after Monday 09:00 UTC, as information', async () => {
    // Prepare: spending $1 an hour from $500.
    const s = script({ balanceCents: 50_000 });

    // Act: every 15 minutes for eight days, each run delivered twice.
    await runEvery(s, 0, 8 * 24, 0.25, config(), (hours) => {
      s.balanceCents = 50_000 - Math.floor(hours) * 100;
    });
    await runMonitor(config(), deps(s, at(8 * 24)), { eventId: 'run-192-redelivered' });

    // Assess
    const digests = published().filter((p) => p.kind === 'weekly-digest');
    expect(digests).toHaveLength(1);
    const [digest] = digests as [Published];
    expect(digest.event).toBe('info');
    expect(digest.subject).toBe('Weekly summary of ngrok credits (main): 2026-11-23 to 2026-11-30');
    // Monday 09:00 is hour 141 after Tuesday 12:00; the week started at the first run.
    expect(digest.email).toContain(
      'main: $359.00 now (ok), $500.00 a week ago. Spent about $141.00; 0 alert(s), 0 top-up(s) this week.',
    );
    expect(published().filter((p) => p.kind !== 'weekly-digest')).toEqual([]);
  });

  it('sends none when the digest is off', async () => {
    const s = script();
    await runEvery(s, 0, 8 * 24, 1, config({ digest: 'off' }));

    expect(published()).toEqual([]);
  });

  it('sends the digest again when its publish failed, once, when Lambda retries the run', async () => {
    const s = script();
    await runEvery(s, 0, 140, 4);
    sns.on(PublishCommand).rejectsOnce(new Error('SNS is down')).resolves({ MessageId: 'm' });

    await expect(runMonitor(config(), deps(s, at(141)), { eventId: 'slot' })).rejects.toThrow(
      /SNS is down/,
    );
    await runMonitor(config(), deps(s, at(141)), { eventId: 'slot' });
    await runMonitor(config(), deps(s, at(142)), { eventId: 'next' });

    const calls = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
    expect(calls).toEqual([
      'Weekly summary of ngrok credits (main): 2026-11-23 to 2026-11-30',
      'Weekly summary of ngrok credits (main): 2026-11-23 to 2026-11-30',
    ]);
  });

  it("saves every account's state when the digest publish fails, and the next run sends it once", async () => {
    // Prepare: two accounts a week into collecting; both are low at the digest run.
    const s = script();
    const two = config({ accounts: [main, second] });
    await runEvery(s, 0, 140, 4, two);
    s.balanceCents = 500;
    // Only the digest fails to publish.
    sns.on(PublishCommand).callsFake((input: { Subject?: string }) => {
      if (input.Subject?.startsWith('Weekly summary')) throw new Error('SNS is down');
      return { MessageId: 'm' };
    });

    // Act
    await expect(runMonitor(two, deps(s, at(141)), { eventId: 'slot' })).rejects.toThrow(
      /SNS is down/,
    );
    const states = [await store.record(main.name), await store.record(second.name)];
    const digestRecord = (await store.peek(DIGEST_KEY)) as { outbox: unknown[] };
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    await runMonitor(two, deps(s, at(141.25)), { eventId: 'next' });
    await runMonitor(two, deps(s, at(141.5)), { eventId: 'after' });

    // Assess: both accounts committed the run (the alert, the week closed) despite the digest.
    for (const saved of states) {
      expect(saved?.alert?.lastEventId).toBe('slot');
      expect(saved?.alert?.week?.week).toBe('2026-11-30');
      expect(saved?.alert?.closedWeek?.week).toBe('2026-11-23');
      expect(saved?.outbox).toEqual([]);
    }
    expect(states.map((saved) => saved?.alert?.level)).toEqual(['low', 'low']);
    expect(digestRecord.outbox).toHaveLength(1);
    const subjects = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject ?? '');
    expect(subjects.filter((t) => t.startsWith('Weekly summary'))).toEqual([
      'Weekly summary of ngrok credits (NgrokBalanceAlert): 2026-11-23 to 2026-11-30',
      'Weekly summary of ngrok credits (NgrokBalanceAlert): 2026-11-23 to 2026-11-30',
    ]);
    // One alert per account, sent by the run whose digest failed.
    expect(published().filter((p) => p.kind === 'balance-alert')).toHaveLength(2);
    expect(((await store.peek(DIGEST_KEY)) as { outbox: unknown[] }).outbox).toEqual([]);
  });
});

describe('expiry warnings over days of runs', () => {
  const old = {
    category: 'purchase',
    amountCents: 10_000,
    createdAt: new Date(T0.getTime() - 355 * DAY).toISOString(),
    expiresAt: new Date(T0.getTime() + 10 * DAY).toISOString(),
  };
  const newer = {
    category: 'purchase',
    amountCents: 5000,
    createdAt: new Date(T0.getTime() - 30 * DAY).toISOString(),
    expiresAt: new Date(T0.getTime() + 335 * DAY).toISOString(),
  };

  it('warns once about $30.00 of a $100 grant expiring in ten days, with $80 left and a newer $50 grant', async () => {
    // Prepare
    const s = script({ balanceCents: 8000, grants: [newer, old] });

    // Act: every hour for six days (the last warning is due three days before expiry).
    await runEvery(s, 0, 6 * 24, 1, config({ digest: 'off' }));

    // Assess
    expect(published().map((p) => p.kind)).toEqual(['credit-expiry']);
    const [warning] = published() as [Published];
    expect(warning.email).toContain(
      'About $30.00 of credit bought on 2025-12-04 expires on 2026-12-04 unless spent.',
    );
    expect(warning.email).toContain('assuming credits are spent oldest first');
    expect(warning.event).toBe('info');
    // Read once a UTC day: the first run, then each day from 2026-11-25 to 2026-11-30.
    expect(s.transactionsCalls).toBe(7);
  });

  it('never delays a balance alert when the transactions call fails, and retries the next day', async () => {
    // $5 left, all of it from the grant that expires in ten days.
    const s = script({ balanceCents: 500, grants: [old], transactionsStatus: 500 });

    await runEvery(s, 0, 1, 1, config({ digest: 'off' }));
    const [first] = published();
    s.transactionsStatus = undefined;
    await runEvery(s, 12, 12, 1, config({ digest: 'off' }));

    expect(first?.kind).toBe('balance-alert');
    expect(published().map((p) => p.kind)).toEqual(['balance-alert', 'credit-expiry']);
    // The failed day is read once (a retry within the call), not at every run.
    expect(s.transactionsCalls).toBe(3);
  });
});
