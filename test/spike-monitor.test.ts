/**
 * Spend spikes through the whole monitor: runMonitor in process, every 15 minutes on a fake
 * clock, against the fake ngrok.ai API on loopback (balance, usage overview, access keys),
 * with SSM and SNS mocked and the state in an in-memory store. This is the "done when", as a new user would meet it.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../lambda/common/log.ts';
import type { AccountConfig, MonitorConfig } from '../lambda/common/types.ts';
import { runMonitor } from '../lambda/run/monitor.ts';
import { serveParameters, TestStore } from './support/aws-mocks.ts';
import { FakeNgrokApi, type NgrokAccountScript } from './support/stand-ins/ngrok-api.ts';

const API_KEY = 'key-prod';
/** Noon UTC: half of today is in the usage window. */
const START = new Date('2026-11-24T12:00:00Z');
const RUN_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

const prod: AccountConfig = {
  name: 'prod',
  tokenParameterName: '/keys/prod',
  thresholdParameterName: '/ngrok-balance-alert/prod/threshold-cents',
  thresholdCents: 1000,
};

const config: MonitorConfig = {
  accounts: [prod],
  renotifyHours: 24,
  failureAlertAfter: 3,
  forecastDays: 7,
  runwayAlertDays: 3,
  usageRefreshHours: 6,
  spikeFactor: 3,
  spikeMinCentsPerHour: 100,
  metrics: 'none',
  deployment: 'NgrokBalanceAlert',
  // Nothing but the spike: no weekly digest or expiry warning among the messages counted.
  digest: 'off',
  digestDay: 'monday',
  digestHourUtc: 9,
  expiryWarningDays: 0,
};

const ACCESS_KEYS = [
  { id: 'ak_2batch', name: 'batch-worker' },
  { id: 'ak_2web', keyRedacted: 'ak_...w3b' },
];

/**
 * Usage grouped by access key: $8/day on ak_2batch and $2/day on ak_2web for the seven
 * days before today, the same pace today until noon (a 7-day average of $10/day), and
 * `extraCents` more on ak_2batch today (the spike so far).
 */
function usageBuckets(extraCents = 0): NgrokAccountScript['usageBuckets'] {
  const today = Date.parse('2026-11-24T00:00:00Z');
  const day = (offset: number) => new Date(today - offset * DAY_MS).toISOString();
  const bucket = (offset: number, groupKey: string, cents: number) => ({
    bucketStart: day(offset),
    groupKey,
    cost: (cents / 100).toFixed(5),
    requests: 1,
    errors: 0,
  });
  const before = [1, 2, 3, 4, 5, 6, 7].flatMap((d) => [
    bucket(d, 'ak_2batch', 800),
    bucket(d, 'ak_2web', 200),
  ]);
  return [...before, bucket(0, 'ak_2batch', 400 + extraCents), bucket(0, 'ak_2web', 100)];
}

const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
let parameters: Map<string, string>;
let store: TestStore;
let api: FakeNgrokApi;

beforeAll(async () => {
  api = await new FakeNgrokApi().start();
});
afterAll(async () => {
  await api.close();
});

beforeEach(() => {
  ssm.reset();
  sns.reset();
  api.requests.length = 0;
  store = new TestStore();
  parameters = new Map([
    [prod.tokenParameterName, API_KEY],
    [prod.thresholdParameterName, '1000'],
  ]);
  serveParameters(ssm, sns, () => parameters);
});

interface Sent {
  readonly run: number;
  readonly kind: string;
  readonly subject: string;
  readonly email: string;
}

/**
 * Runs the monitor once per balance, 15 minutes apart, the API answering each run with
 * that balance (and the usage `usageAt` gives for the run); returns what was published.
 */
async function runEvery15Minutes(
  balances: readonly number[],
  usageAt: (run: number) => NgrokAccountScript['usageBuckets'] = () => usageBuckets(),
  options: {
    settings?: Partial<MonitorConfig>;
    eventId?: (run: number) => string;
    accessKeysStatus?: number;
  } = {},
): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (const [run, balanceCents] of balances.entries()) {
    api.setAccount(API_KEY, {
      balanceCents,
      usageBuckets: usageAt(run),
      accessKeys: ACCESS_KEYS,
      ...(options.accessKeysStatus !== undefined && {
        accessKeysStatus: options.accessKeysStatus,
      }),
    });
    const before = sns.commandCalls(PublishCommand).length;
    const now = new Date(START.getTime() + run * RUN_MS);
    await runMonitor(
      { ...config, ...options.settings },
      {
        ssm: new SSMClient({ region: 'us-east-1' }),
        sns: new SNSClient({ region: 'us-east-1' }),
        topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
        store,
        log: createLogger(() => {}),
        now: () => now,
        remainingTimeMs: () => 60_000,
        ngrok: { baseUrl: api.url, sleep: async () => {}, random: () => 0.5 },
      },
      { eventId: options.eventId?.(run) ?? `run-${run}` },
    );
    for (const call of sns.commandCalls(PublishCommand).slice(before)) {
      const input = call.args[0].input;
      const message = JSON.parse(input.Message ?? '{}') as Record<string, string>;
      const structured = JSON.parse(message.lambda ?? '{}') as { kind: string };
      sent.push({
        run: run + 1,
        kind: structured.kind,
        subject: input.Subject ?? '',
        email: message.email ?? '',
      });
    }
  }
  return sent;
}

describe('spend spikes, from the balance to the message', () => {
  it('alerts within four runs when $500 starts falling $40 every 15 minutes, in hours and by key name', async () => {
    // Prepare: $500, then $40 less at every run; the usage shows the spike on batch-worker.
    const balances = [50_000, 46_000, 42_000, 38_000];

    // Act
    const sent = await runEvery15Minutes(balances, (run) => usageBuckets(run * 4000));

    // Assess: the third run (two falling intervals) sends the runway alert and the spike.
    expect(sent.map((s) => [s.run, s.kind])).toEqual([
      [3, 'balance-alert'],
      [3, 'spike-started'],
    ]);
    const [runway, spike] = sent;
    // $420 at $160/h lasts 2.625 hours: the honest number, close to the "two hours".
    expect(runway?.subject).toBe('ngrok credits run out in about 2.6 hours (prod): $420.00 left');
    expect(runway?.email).toContain(
      'Runway: about 2.6 hours at $160/h over the last 30 minutes; the 7.5-day average is $10/day',
    );
    expect(runway?.email).toContain('Top access keys by spend (last 7.5 days): batch-worker');
    expect(spike?.subject).toBe('ngrok spend spike (prod): $160/h, runs out in about 2.6 hours');
    expect(spike?.email).toContain(
      'Spend on the ngrok AI Gateway credits for prod has spiked: $160/h over the last 30 minutes; ' +
        'the average over the last 7.5 days is $10/day. At this rate the credits run out in about 2.6 hours. ' +
        'Driving it: batch-worker',
    );
    expect(spike?.email).not.toContain('ak_2batch');
    expect(spike?.email).not.toMatch(/Driving it:.*ak_\.\.\.w3b/);
  });

  it('reads the key names once, not on every run', async () => {
    await runEvery15Minutes([50_000, 46_000, 42_000, 38_000], (run) => usageBuckets(run * 4000));
    expect(api.requests.filter((r) => r.path === '/access-keys')).toHaveLength(1);
  });

  it('sends one "back to normal" once the spend has stayed low for an hour, and one spike alert in all', async () => {
    // Prepare: the spike of the test above, then the balance holds for two hours.
    const balances = [50_000, 46_000, 42_000, 38_000, ...Array<number>(8).fill(38_000)];

    // Act
    const sent = await runEvery15Minutes(balances, (run) => usageBuckets(Math.min(run, 3) * 4000));

    // Assess
    const spikes = sent.filter((s) => s.kind.startsWith('spike-'));
    expect(spikes.map((s) => [s.run, s.kind])).toEqual([
      [3, 'spike-started'],
      // Quiet from run 5 on: an hour later the spike is over.
      [9, 'spike-ended'],
    ]);
    expect(spikes[1]?.subject).toBe('ngrok spend back to normal (prod): $380.00 left');
  });

  it.each([
    // $10/day, steady: about 10.4 cents every 15 minutes.
    ['a steady decline', Array.from({ length: 8 }, (_, i) => 50_000 - Math.round(i * 10.42))],
    // A top-up of $500 in the middle of steady spend.
    ['a top-up', [50_000, 49_990, 99_980, 99_970, 99_960, 99_950]],
    // The second reading lags: the third shows its spend and the catch-up ($1.60/h for 15
    // minutes, above the $1.25/h spike level), after which spend is steady again.
    ['one lagging reading', [50_000, 50_000, 49_960, 49_950, 49_940, 49_930]],
  ])('sends nothing for %s', async (_name, balances) => {
    const sent = await runEvery15Minutes(balances);
    expect(sent).toEqual([]);
  });

  it('sends no spike alert with spikeFactor 0, but still the runway alert in hours', async () => {
    const sent = await runEvery15Minutes(
      [50_000, 46_000, 42_000],
      (run) => usageBuckets(run * 4000),
      { settings: { spikeFactor: 0 } },
    );
    expect(sent.map((s) => s.kind)).toEqual(['balance-alert']);
    expect(sent[0]?.subject).toContain('run out in about 2.6 hours');
  });

  it('sends the spike alert once when the scheduled event is delivered twice', async () => {
    // Runs 3 and 4 are the same event: the second delivery does nothing.
    const sent = await runEvery15Minutes(
      [50_000, 46_000, 42_000, 38_000],
      (run) => usageBuckets(run * 4000),
      { eventId: (run) => `run-${Math.min(run, 2)}` },
    );
    expect(sent.filter((s) => s.kind === 'spike-started')).toHaveLength(1);
  });

  it('still alerts, naming keys by id, when the access key names cannot be read', async () => {
    // Prepare: GET /access-keys fails.
    const balances = [50_000, 46_000, 42_000];
    // Act
    const sent = await runEvery15Minutes(balances, (run) => usageBuckets(run * 4000), {
      accessKeysStatus: 503,
    });
    // Assess: the alerts go out on time, with ids; the names are not asked for again at once.
    expect(sent.map((s) => [s.run, s.kind])).toEqual([
      [3, 'balance-alert'],
      [3, 'spike-started'],
    ]);
    expect(sent[1]?.email).toContain('Driving it: ak_2batch');
    expect(api.requests.filter((r) => r.path === '/access-keys')).toHaveLength(1);
  });
});
