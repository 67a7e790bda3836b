import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../lambda/common/log.ts';
import type { AccountConfig, MonitorConfig } from '../lambda/common/types.ts';
import { type MonitorDeps, MonitorRunError, runMonitor } from '../lambda/run/monitor.ts';
import { accountKey } from '../lambda/store/account-record.ts';
import { CLAIM_MS } from '../lambda/store/outbox.ts';
import { serveParameters, TestStore } from './support/aws-mocks.ts';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:alerts';
const NOW = new Date('2026-11-24T12:00:00Z');

function account(name: string, extra: Partial<AccountConfig> = {}): AccountConfig {
  return {
    name,
    tokenParameterName: `/keys/${name}`,
    thresholdParameterName: `/ngrok-balance-alert/${name}/threshold-cents`,
    thresholdCents: 500,
    ...extra,
  };
}

function config(accounts: AccountConfig[]): MonitorConfig {
  return {
    accounts,
    renotifyHours: 24,
    failureAlertAfter: 3,
    forecastDays: 7,
    runwayAlertDays: 3,
    usageRefreshHours: 6,
    spikeFactor: 3,
    spikeMinCentsPerHour: 100,
    metrics: 'none',
    // The digest and expiry warnings have tests of their own (monitor-weekly.test.ts).
    digest: 'off',
    digestDay: 'monday',
    digestHourUtc: 9,
    expiryWarningDays: 0,
    deployment: 'NgrokBalanceAlert',
  };
}

/** A stand-in for the ngrok API: balances and statuses per API key, overview per key. */
function fakeNgrok(
  byKey: Record<
    string,
    { balance?: number; status?: number; overview?: unknown; overviewStatus?: number }
  >,
) {
  const requests: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    requests.push(url.pathname);
    const key = String(new Headers(init?.headers).get('authorization')).replace('Bearer ', '');
    const entry = byKey[key];
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    if (!entry) return json(401, { statusCode: 401, msg: `unauthorized key ${key}`, details: {} });
    if (url.pathname === '/usage/overview') {
      if (entry.overviewStatus)
        return json(entry.overviewStatus, { statusCode: 500, msg: 'x', details: {} });
      return json(
        200,
        entry.overview ?? {
          uri: '/usage/overview',
          buckets: [],
          totals: { cost: '0', requests: 0, errors: 0 },
        },
      );
    }
    if (entry.status)
      return json(entry.status, { statusCode: entry.status, msg: 'nope', details: {} });
    return json(200, { balanceCents: entry.balance });
  };
  return { fetch, requests };
}

const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);

/** The settings in SSM (API keys, thresholds); the state is in `store`. */
let parameters: Map<string, string>;
let store: TestStore;
let logLines: string[];

beforeEach(() => {
  ssm.reset();
  sns.reset();
  parameters = new Map();
  store = new TestStore();
  logLines = [];
  serveParameters(ssm, sns, () => parameters);
});

function deps(fetch: typeof globalThis.fetch, now = NOW): MonitorDeps {
  return {
    ssm: new SSMClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    topicArn: TOPIC_ARN,
    store,
    log: createLogger((line) => logLines.push(line)),
    now: () => now,
    remainingTimeMs: () => 60_000,
    ngrok: { baseUrl: 'http://ngrok.test', fetch, sleep: async () => {}, random: () => 0.5 },
  };
}

function seed(a: AccountConfig, apiKey: string | undefined, thresholdCents = '500') {
  if (apiKey !== undefined) parameters.set(a.tokenParameterName, apiKey);
  parameters.set(a.thresholdParameterName, thresholdCents);
}

const saved = (a: AccountConfig) => store.record(a.name);
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

const published = () =>
  sns.commandCalls(PublishCommand).map((call) => {
    const input = call.args[0].input;
    return {
      subject: input.Subject ?? '',
      account: input.MessageAttributes?.account?.StringValue,
      message: JSON.parse(input.Message ?? '{}') as Record<string, string>,
    };
  });

describe('runMonitor: one account', () => {
  const prod = account('prod');

  it('publishes one alert for a balance of 499 with a threshold of 500, then saves state', async () => {
    // Prepare
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 499 } });
    // Act
    const summary = await runMonitor(config([prod]), deps(ngrok.fetch), { eventId: 'e1' });
    // Assess
    expect(summary.accounts[0]).toMatchObject({
      status: 'alerting',
      notifications: ['balance-alert'],
    });
    const [alert] = published();
    expect(published()).toHaveLength(1);
    expect(alert?.account).toBe('prod');
    expect(alert?.message.default).toBeDefined();
    expect(alert?.message.email).toContain('$4.99');
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ TopicArn: TOPIC_ARN, MessageStructure: 'json' });
    const record = await saved(prod);
    expect(record?.alert).toMatchObject({ level: 'low' });
    // Published, so nothing is left to send.
    expect(record?.outbox).toEqual([]);
  });

  it('publishes nothing for a balance equal to the threshold', async () => {
    seed(prod, 'key-prod');
    await runMonitor(config([prod]), deps(fakeNgrok({ 'key-prod': { balance: 500 } }).fetch));
    expect(published()).toHaveLength(0);
  });

  it('reads every setting in one GetParameters call with decryption, and the state once from the store', async () => {
    seed(prod, 'key-prod');
    await runMonitor(config([prod]), deps(fakeNgrok({ 'key-prod': { balance: 900 } }).fetch));
    const calls = ssm.commandCalls(GetParametersCommand);
    // The state is not a parameter any more: SSM holds only what users set.
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { Names: [prod.tokenParameterName, prod.thresholdParameterName], WithDecryption: true },
    ]);
    expect(store.readKeys).toEqual([accountKey(prod.name)]);
  });

  it('makes one settings call, one state read and at most one write per account on a quiet run', async () => {
    // Prepare: three healthy accounts, checked once already.
    const accounts = ['a', 'b', 'c'].map((name) => account(name));
    for (const a of accounts) seed(a, `k-${a.name}`);
    const ngrok = fakeNgrok(
      Object.fromEntries(accounts.map((a) => [`k-${a.name}`, { balance: 90_000 }])),
    );
    await runMonitor(config(accounts), deps(ngrok.fetch), { eventId: 'e1' });
    ssm.resetHistory();
    store.readKeys.length = 0;
    store.writeKeys.length = 0;
    // Act: the next scheduled run, 15 minutes on.
    await runMonitor(config(accounts), deps(ngrok.fetch, minutes(15)), { eventId: 'e2' });
    // Assess
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1);
    for (const a of accounts) {
      const { reads, writes } = store.calls(accountKey(a.name));
      expect(reads).toBe(1);
      expect(writes).toBeLessThanOrEqual(1);
    }
    expect(store.readKeys).toHaveLength(3);
    expect(published()).toHaveLength(0);
  });

  it('keeps every scheduled reading of an alerting account, for the forecast and the recent rate', async () => {
    // Prepare: an account already alerting, so each run starts from a saved alert state.
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 400 } });
    // Act: three runs 15 minutes apart.
    for (const n of [0, 15, 30]) {
      await runMonitor(config([prod]), deps(ngrok.fetch, minutes(n)), { eventId: `e${n}` });
    }
    // Assess: each run's reading was saved beside the alert state it did not change.
    const alert = (await saved(prod))?.alert;
    expect(alert?.recent?.map(([at]) => at)).toEqual(
      [0, 15, 30].map((n) => minutes(n).getTime() / 1000),
    );
    expect(alert?.level).toBe('low');
    expect(store.calls(accountKey(prod.name)).writes).toBe(4);
  });

  it('writes state only when it changes', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 900 } });
    await runMonitor(config([prod]), deps(ngrok.fetch), { eventId: 'e1' });
    // Two minutes on: too soon for a new recent reading, so nothing in the state changes.
    await runMonitor(config([prod]), deps(ngrok.fetch, minutes(2)), { eventId: 'e2' });
    expect(store.calls(accountKey(prod.name))).toEqual({ reads: 2, writes: 1 });
  });

  it('sends one notification when the same scheduled event is delivered twice', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 100 } });
    await runMonitor(config([prod]), deps(ngrok.fetch), { eventId: 'same' });
    await runMonitor(config([prod]), deps(ngrok.fetch), { eventId: 'same' });
    expect(published()).toHaveLength(1);
  });

  it('fails the invocation and keeps the alert in the outbox when publishing fails; the retry sends it once', async () => {
    // Prepare
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 100 } });
    sns.on(PublishCommand).rejectsOnce(new Error('SNS is down')).resolves({ MessageId: 'm-2' });
    // Act: the publish fails; Lambda retries the same event.
    await expect(runMonitor(config([prod]), deps(ngrok.fetch), { eventId: 'e1' })).rejects.toThrow(
      /SNS is down/,
    );
    const afterFailure = await saved(prod);
    await runMonitor(config([prod]), deps(ngrok.fetch), { eventId: 'e1' });
    await runMonitor(config([prod]), deps(ngrok.fetch, minutes(15)), { eventId: 'e2' });
    // Assess: the state and the unsent alert were saved together; it went out once.
    expect(afterFailure?.alert).toMatchObject({ level: 'low' });
    expect(afterFailure?.outbox.map((e) => [e.notification.kind, e.claim])).toEqual([
      ['balance-alert', undefined],
    ]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(published().map((p) => p.message.email)).toEqual([
      expect.stringContaining('$1.00'),
      expect.stringContaining('$1.00'),
    ]);
    expect((await saved(prod))?.outbox).toEqual([]);
  });

  it('sends the alert once when two runs start at the same instant', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 100 } });
    const [a, b] = await Promise.all([
      runMonitor(config([prod]), { ...deps(ngrok.fetch), runId: 'run-a' }, { eventId: 'e-a' }),
      runMonitor(config([prod]), { ...deps(ngrok.fetch), runId: 'run-b' }, { eventId: 'e-b' }),
    ]);
    expect(published()).toHaveLength(1);
    expect([a, b].flatMap((run) => run.accounts.flatMap((r) => r.notifications))).toEqual([
      'balance-alert',
    ]);
    expect((await saved(prod))?.outbox).toEqual([]);
  });

  it('does not start a publish the invocation has no time left to finish: the next run sends it', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 100 } });
    // The invocation's time runs short while the run commits.
    let left = 60_000;
    store = new TestStore({
      beforeWrite: async () => {
        left = 3_000;
      },
    });
    const short = { ...deps(ngrok.fetch), remainingTimeMs: () => left };
    await expect(runMonitor(config([prod]), short)).rejects.toThrow(/about to time out/);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect((await saved(prod))?.outbox.map((e) => e.notification.kind)).toEqual(['balance-alert']);
    await runMonitor(config([prod]), deps(ngrok.fetch, minutes(15)));
    expect(published()).toHaveLength(1);
    expect((await saved(prod))?.outbox).toEqual([]);
  });

  it('publishes nothing and fails the invocation when the commit fails; the next run alerts once', async () => {
    // Prepare: the store fails the first write (a timeout: its outcome unknown, so not written).
    let writes = 0;
    store = new TestStore({
      beforeWrite: async () => {
        if (++writes === 1) throw new Error('store timed out');
      },
    });
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 100 } });
    // Act
    await expect(runMonitor(config([prod]), deps(ngrok.fetch))).rejects.toThrow(
      /prod: store timed out/,
    );
    const before = published().length;
    await runMonitor(config([prod]), deps(ngrok.fetch, minutes(15)));
    // Assess
    expect(before).toBe(0);
    expect(published()).toHaveLength(1);
  });

  it('fails the invocation when marking a published alert sent fails, and repeats it at most once', async () => {
    // Prepare: the write after the publish (removing it from the outbox) fails.
    let writes = 0;
    store = new TestStore({
      beforeWrite: async () => {
        if (++writes === 2) throw new Error('store timed out');
      },
    });
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 100 } });
    // Act
    await expect(runMonitor(config([prod]), deps(ngrok.fetch))).rejects.toBeInstanceOf(
      MonitorRunError,
    );
    const first = published().length;
    // The next run comes while the failed run's claim still holds: it leaves the alert alone.
    await runMonitor(config([prod]), deps(ngrok.fetch, minutes(15)));
    const whileClaimed = published().length;
    // Once the claim lapses, the alert goes out again: the one documented repeat.
    await runMonitor(config([prod]), deps(ngrok.fetch, minutes(CLAIM_MS / 60_000 + 15)));
    await runMonitor(config([prod]), deps(ngrok.fetch, minutes(CLAIM_MS / 60_000 + 30)));
    // Assess
    expect([first, whileClaimed]).toEqual([1, 1]);
    expect(published()).toHaveLength(2);
    expect((await saved(prod))?.outbox).toEqual([]);
  });

  it('alerts at once that the monitor cannot read the balance when the key is rejected', async () => {
    seed(prod, 'revoked-key');
    await runMonitor(config([prod]), deps(fakeNgrok({}).fetch));
    const [alert] = published();
    expect(published()).toHaveLength(1);
    expect(alert?.message.email).toMatch(/cannot read the balance/i);
  });

  it('names the missing key parameter and the command that creates it', async () => {
    seed(prod, undefined);
    await runMonitor(config([prod]), deps(fakeNgrok({}).fetch));
    const [alert] = published();
    expect(alert?.message.email).toContain(prod.tokenParameterName);
    expect(alert?.message.email).toContain('--type SecureString');
  });

  it('names the region it runs in in every command of a message', async () => {
    // Prepare
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 499 } });

    // Act
    await runMonitor(config([prod]), { ...deps(ngrok.fetch), region: 'ap-southeast-2' });

    // Assess
    const [alert] = published();
    expect(alert?.message.email).toContain(
      `aws ssm put-parameter --region ap-southeast-2 --name ${prod.thresholdParameterName}`,
    );
  });

  it('falls back to the deployed threshold when the parameter is not an amount, and says so', async () => {
    seed(prod, 'key-prod', '$10');
    await runMonitor(config([prod]), deps(fakeNgrok({ 'key-prod': { balance: 450 } }).fetch));
    const [alert] = published();
    expect(published()).toHaveLength(1);
    expect(alert?.message.email).toContain(prod.thresholdParameterName);
    expect(logLines.some((l) => l.includes('runtime setting ignored'))).toBe(true);
  });

  it('still sends the low-balance alert when the usage overview fails', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 400, overviewStatus: 503 } });
    await runMonitor(config([prod]), deps(ngrok.fetch));
    const [alert] = published();
    expect(published()).toHaveLength(1);
    expect(alert?.message.email).toMatch(/forecast unavailable/i);
  });

  it('sends a test notification without touching state', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 100 } });
    const summary = await runMonitor(config([prod]), deps(ngrok.fetch), { test: true });
    expect(summary.accounts[0]?.status).toBe('test');
    expect(published()).toHaveLength(1);
    expect(published()[0]?.subject).toMatch(/^\[TEST\]/);
    expect([store.readKeys, store.writeKeys]).toEqual([[], []]);
    expect(ngrok.requests).toEqual([]);
  });

  it('never writes the API key to logs or messages', async () => {
    const secret = 'ngrok-unit-key-NEVER-LOG-9876';
    seed(prod, secret);
    await runMonitor(config([prod]), deps(fakeNgrok({ [secret]: { balance: 100 } }).fetch));
    await runMonitor(
      config([prod]),
      deps(fakeNgrok({}).fetch, new Date(NOW.getTime() + 86_400_000)),
    );
    const everything = [
      ...logLines,
      ...sns.commandCalls(PublishCommand).map((c) => JSON.stringify(c.args)),
      JSON.stringify(await saved(prod)),
    ];
    expect(everything.length).toBeGreaterThan(2);
    expect(everything.join('\n')).not.toContain(secret);
  });

  it('declares no custom metric by default, and logs the values for Logs Insights', async () => {
    seed(prod, 'key-prod');
    await runMonitor(config([prod]), deps(fakeNgrok({ 'key-prod': { balance: 1234 } }).fetch));
    const lines = logLines.map((l) => JSON.parse(l));
    expect(lines.filter((l) => l._aws)).toEqual([]);
    expect(lines.find((l) => l.message === 'account checked')).toMatchObject({
      account: 'prod',
      balanceCents: 1234,
      balanceDollars: 12.34,
    });
  });

  it('emits embedded metrics for the account with metrics: per-account', async () => {
    seed(prod, 'key-prod');
    await runMonitor(
      { ...config([prod]), metrics: 'per-account', deployment: 'Clients' },
      deps(fakeNgrok({ 'key-prod': { balance: 1234 } }).fetch),
    );
    const emf = logLines.map((l) => JSON.parse(l)).find((l) => l._aws);
    expect(emf).toMatchObject({
      Deployment: 'Clients',
      Account: 'prod',
      CheckSucceeded: 1,
      BalanceDollars: 12.34,
    });
  });
});

describe('runMonitor: forecast', () => {
  const prod = account('prod');
  const days = ['17', '18', '19', '20', '21', '22', '23'];
  const overview = (dailyCost: string, todayCost: string) => ({
    uri: '/usage/overview',
    buckets: [
      ...days.map((d) => ({
        bucketStart: `2026-11-${d}T00:00:00Z`,
        groupKey: 'ak_prod_web',
        cost: dailyCost,
        requests: 10,
        errors: 0,
      })),
      {
        bucketStart: '2026-11-24T00:00:00Z',
        groupKey: 'ak_prod_web',
        cost: todayCost,
        requests: 5,
        errors: 0,
      },
    ],
    totals: { cost: '0', requests: 0, errors: 0 },
  });

  it('alerts once when $6.00 lasts about 1.9 days at $3.10/day, naming the top key', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({
      'key-prod': { balance: 600, overview: overview('3.10000', '1.55000') },
    });
    await runMonitor(config([prod]), deps(ngrok.fetch));
    expect(published()).toHaveLength(1);
    const text = published()[0]?.message.email ?? '';
    expect(text).toContain('about 1.9 days');
    expect(text).toContain('ak_prod_web');
  });

  it('does not alert when $6.00 is spent at $0.10/day', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({
      'key-prod': { balance: 600, overview: overview('0.10000', '0.05000') },
    });
    await runMonitor(config([prod]), deps(ngrok.fetch));
    expect(published()).toHaveLength(0);
  });

  it('fetches the overview at most once per usageRefreshHours', async () => {
    seed(prod, 'key-prod');
    const ngrok = fakeNgrok({ 'key-prod': { balance: 5000, overview: overview('0.10000', '0') } });
    for (let run = 0; run < 8; run++) {
      await runMonitor(
        config([prod]),
        deps(ngrok.fetch, new Date(NOW.getTime() + run * 15 * 60_000)),
        {
          eventId: `e${run}`,
        },
      );
    }
    expect(ngrok.requests.filter((p) => p === '/usage/overview')).toHaveLength(1);
    expect(ngrok.requests.filter((p) => p === '/credits/balance')).toHaveLength(8);
  });
});

describe('runMonitor: several accounts', () => {
  it('alerts for the low account and the rejected key, each named, and not for the healthy one', async () => {
    const low = account('client-low');
    const healthy = account('client-ok');
    const revoked = account('client-revoked');
    seed(low, 'k-low');
    seed(healthy, 'k-ok');
    seed(revoked, 'k-revoked');
    const ngrok = fakeNgrok({ 'k-low': { balance: 120 }, 'k-ok': { balance: 90_000 } });
    await expect(
      runMonitor(config([low, healthy, revoked]), deps(ngrok.fetch)),
    ).resolves.toBeDefined();
    const sent = published();
    expect(sent.map((p) => p.account).sort()).toEqual(['client-low', 'client-revoked']);
    expect(sent.find((p) => p.account === 'client-low')?.subject).toContain('client-low');
    expect(sent.find((p) => p.account === 'client-revoked')?.subject).toContain('client-revoked');
  });

  it('batches settings reads 10 names per call', async () => {
    const accounts = Array.from({ length: 12 }, (_, i) => account(`acct-${i}`));
    for (const a of accounts) seed(a, `k-${a.name}`);
    const byKey = Object.fromEntries(accounts.map((a) => [`k-${a.name}`, { balance: 90_000 }]));
    const summary = await runMonitor(config(accounts), deps(fakeNgrok(byKey).fetch));
    const calls = ssm.commandCalls(GetParametersCommand);
    // 24 names: an API key and a threshold per account.
    expect(summary.ssmReadCalls).toBe(3);
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.args[0].input.WithDecryption)).toBe(true);
    expect(calls.every((c) => (c.args[0].input.Names?.length ?? 0) <= 10)).toBe(true);
  });

  it("still publishes other accounts' alerts when one account's publish fails", async () => {
    const a = account('a');
    const b = account('b');
    seed(a, 'k-a');
    seed(b, 'k-b');
    sns
      .on(PublishCommand)
      .callsFake((input: { MessageAttributes?: { account?: { StringValue?: string } } }) => {
        if (input.MessageAttributes?.account?.StringValue === 'a')
          throw new Error('publish failed');
        return { MessageId: 'ok' };
      });
    const ngrok = fakeNgrok({ 'k-a': { balance: 1 }, 'k-b': { balance: 1 } });
    const run = runMonitor(config([a, b]), deps(ngrok.fetch));
    await expect(run).rejects.toThrow(/a: publish failed/);
    // Both states are saved; a's alert waits in its outbox for the next run.
    const [savedA, savedB] = [await saved(a), await saved(b)];
    expect([savedA?.alert?.level, savedB?.alert?.level]).toEqual(['low', 'low']);
    expect(savedA?.outbox.map((e) => e.notification.kind)).toEqual(['balance-alert']);
    expect(savedB?.outbox).toEqual([]);
  });
});

describe('runMonitor: an API that never answers', () => {
  /** A fetch that hangs until the client gives up on it. */
  const hanging: typeof globalThis.fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
    });

  it('ends by the run deadline for 30 accounts, counting each as a failed check', async () => {
    // Prepare: 10 s left in the invocation leaves 2 s for checks after the finishing reserve.
    const accounts = Array.from({ length: 30 }, (_, i) => account(`slow-${i}`));
    for (const a of accounts) seed(a, `k-${a.name}`);
    const started = Date.now();
    // Act
    const summary = await runMonitor(config(accounts), {
      ...deps(hanging),
      remainingTimeMs: () => 10_000,
    });
    // Assess: a correctness bound (the function must not time out), not a speed measurement.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(summary.accounts.map((a) => a.status)).toEqual(Array(30).fill('check-failed'));
    expect(published()).toHaveLength(0);
  });

  it("does not hold back another account's alert, however many accounts hang", async () => {
    const slow = Array.from({ length: 15 }, (_, i) => account(`slow-${i}`));
    const low = account('low');
    for (const a of slow) seed(a, `k-${a.name}`);
    seed(low, 'k-low');
    const answering = fakeNgrok({ 'k-low': { balance: 10 } }).fetch;
    const mixed: typeof globalThis.fetch = (input, init) =>
      new Headers(init?.headers).get('authorization') === 'Bearer k-low'
        ? answering(input, init)
        : hanging(input, init);
    // The healthy account is listed last, behind every hanging one.
    await runMonitor(config([...slow, low]), { ...deps(mixed), remainingTimeMs: () => 10_000 });
    expect(published().map((p) => p.account)).toEqual(['low']);
  });
});

describe('runMonitor: unreadable settings', () => {
  it('counts an undecryptable key as a failed check for that account only', async () => {
    const cmk = account('cmk');
    const prod = account('prod');
    seed(cmk, 'k-cmk');
    seed(prod, 'k-prod');
    ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => {
      if (input.Names.includes(cmk.tokenParameterName)) {
        throw Object.assign(new Error('not authorized to use the KMS key'), {
          name: 'AccessDeniedException',
        });
      }
      return {
        Parameters: input.Names.filter((n) => parameters.has(n)).map((Name) => ({
          Name,
          Value: parameters.get(Name),
        })),
      };
    });
    const summary = await runMonitor(
      config([cmk, prod]),
      deps(fakeNgrok({ 'k-prod': { balance: 100 } }).fetch),
    );
    expect(summary.accounts.map((a) => [a.account, a.status])).toEqual([
      ['cmk', 'check-failed'],
      ['prod', 'alerting'],
    ]);
    expect((await saved(cmk))?.alert?.failures).toBe(1);
  });

  it('counts a threshold SSM could not read as a failed check, never falling back to the default', async () => {
    // Prepare: the user raised the threshold to $50.00 and an alert is active.
    const prod = account('prod');
    seed(prod, 'k-prod', '5000');
    store.seedAlert(prod.name, {
      level: 'low',
      reason: 'balance',
      since: NOW.toISOString(),
      lastNotifiedAt: NOW.toISOString(),
      failures: 0,
    });
    ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => {
      if (input.Names.includes(prod.thresholdParameterName)) {
        throw Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
      }
      return { Parameters: input.Names.map((Name) => ({ Name, Value: parameters.get(Name) })) };
    });
    // Act: $30.00 is above the $5.00 default but below the real $50.00 threshold.
    const summary = await runMonitor(
      config([prod]),
      deps(fakeNgrok({ 'k-prod': { balance: 3000 } }).fetch),
    );
    // Assess: no false recovery.
    expect(summary.accounts[0]?.status).toBe('check-failed');
    expect(published()).toEqual([]);
  });

  it('fails the run, naming the account, when its saved state cannot be read, and checks the others', async () => {
    // Prepare: the store cannot read prod's record.
    const prod = account('prod');
    const other = account('other');
    seed(prod, 'k-prod');
    seed(other, 'k-other');
    const read = store.read.bind(store);
    store.read = async (key) => {
      if (key === accountKey(prod.name)) {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      return read(key);
    };
    // Act
    const run = runMonitor(
      config([prod, other]),
      deps(fakeNgrok({ 'k-prod': { balance: 100 }, 'k-other': { balance: 100 } }).fetch),
    );
    // Assess: no alert decided from unknown state; the other account is alerted.
    await expect(run).rejects.toThrow(
      /^1 account\(s\) could not complete the run: prod: Rate exceeded$/,
    );
    expect(published().map((p) => p.account)).toEqual(['other']);
  });

  it('counts a settings read SSM throttles as a failed check, and alerts once it keeps failing', async () => {
    const prod = account('prod');
    seed(prod, 'k-prod');
    ssm
      .on(GetParametersCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const ngrok = fakeNgrok({ 'k-prod': { balance: 100 } });
    for (const n of [0, 15, 30]) {
      const summary = await runMonitor(config([prod]), deps(ngrok.fetch, minutes(n)));
      expect(summary.accounts[0]?.status).toBe('check-failed');
    }
    expect(ngrok.requests).toEqual([]);
    expect((await saved(prod))?.alert?.failures).toBe(3);
    expect(published().map((p) => p.message.email)).toEqual([
      expect.stringMatching(/ThrottlingException/),
    ]);
  });
});
