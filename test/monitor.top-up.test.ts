/**
 * The monitor's auto top-up wiring: when it reads the ledger and buys, what it never does
 * (failed checks, test invocations, redelivered events), and that the purchase state is
 * saved even when a notification cannot be sent.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../lambda/common/log.ts';
import type { AccountConfig, MonitorConfig } from '../lambda/common/types.ts';
import { buyThroughRun } from '../lambda/run/commands.ts';
import { type MonitorDeps, runMonitor } from '../lambda/run/monitor.ts';
import { HOLD_MS } from '../lambda/watches/top-up/decide.ts';
import { serveParameters, TestStore } from './support/aws-mocks.ts';
import { CreditsStandIn, creditsReply } from './support/ngrok-credits-stand-in.ts';

const NOW = new Date('2026-12-10T12:00:00Z');
const KEY = 'key-prod';
const PROD: AccountConfig = {
  name: 'prod',
  tokenParameterName: '/keys/prod',
  thresholdParameterName: '/ngrok-balance-alert/prod/threshold-cents',
  thresholdCents: 1000,
  autoTopUpCents: 2000,
  autoTopUpMonthlyCapCents: 6000,
};
const CONFIG: MonitorConfig = {
  accounts: [PROD],
  renotifyHours: 24,
  failureAlertAfter: 3,
  forecastDays: 7,
  runwayAlertDays: 3,
  usageRefreshHours: 6,
  metrics: 'none',
  deployment: 'NgrokBalanceAlert',
  digest: 'off',
  digestDay: 'monday',
  digestHourUtc: 9,
  expiryWarningDays: 0,
  spikeFactor: 3,
  spikeMinCentsPerHour: 100,
};

const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
let parameters: Map<string, string>;
let credits: CreditsStandIn;
let balance: { cents: number; status?: number };
let paths: string[];
let now: Date;
let store: TestStore;

/** A day earlier, above the threshold: the monitor starts its purchase records (and their hold). */
async function ranForADay(): Promise<void> {
  const cents = balance.cents;
  now = new Date(NOW.getTime() - HOLD_MS - 60_000);
  balance = { cents: 5000 };
  await runMonitor(CONFIG, deps(), { eventId: 'e0' });
  balance = { cents };
  now = NOW;
  paths = [];
}

/** ngrok: the scripted balance, no usage, and the credits stand-in for purchases. */
const fetch: typeof globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init?.method ?? 'GET';
  paths.push(`${method} ${url.pathname}`);
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  if (url.pathname === '/credits/balance') {
    return balance.status
      ? json(balance.status, { statusCode: balance.status, msg: 'down', details: {} })
      : json(200, { balanceCents: balance.cents });
  }
  if (url.pathname === '/usage/overview') {
    return json(200, { uri: '/', buckets: [], totals: { cost: '0', requests: 0, errors: 0 } });
  }
  const reply = creditsReply(credits, {
    method,
    path: url.pathname,
    idempotencyKey: new Headers(init?.headers).get('idempotency-key') ?? undefined,
    body: typeof init?.body === 'string' ? init.body : '',
  });
  return reply ? json(reply.status, reply.value) : json(404, { msg: 'no route' });
};

function deps(): MonitorDeps {
  return {
    ssm: new SSMClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
    store,
    log: createLogger(() => {}),
    now: () => now,
    remainingTimeMs: () => 60_000,
    ngrok: { baseUrl: 'http://ngrok.test', fetch, sleep: async () => {}, random: () => 0.5 },
  };
}

const creditCalls = () =>
  paths.filter((p) => !p.endsWith('/credits/balance') && !p.includes('/usage/'));
const savedTopUp = async () => (await store.record(PROD.name))?.topUp;
const kinds = () =>
  sns.commandCalls(PublishCommand).map((c) => {
    const outer = JSON.parse(c.args[0].input.Message ?? '{}') as Record<string, string>;
    return (JSON.parse(outer.lambda ?? '{}') as { kind: string }).kind;
  });

beforeEach(() => {
  ssm.reset();
  sns.reset();
  credits = new CreditsStandIn();
  now = NOW;
  credits.now = () => now;
  balance = { cents: 400 };
  paths = [];
  store = new TestStore();
  parameters = new Map([
    [PROD.tokenParameterName, KEY],
    [PROD.thresholdParameterName, '1000'],
  ]);
  serveParameters(ssm, sns, () => parameters);
});

describe('runMonitor with auto top-up', () => {
  it('reads the ledger, buys once below the threshold, and says so beside the alert', async () => {
    // Prepare
    await ranForADay();
    // Act
    await runMonitor(CONFIG, deps(), { eventId: 'e1' });
    // Assess
    expect(creditCalls()).toEqual(['GET /credits/transactions', 'POST /credits/purchases']);
    expect(credits.purchases.map((p) => p.amountCents)).toEqual([2000]);
    // The purchase's notice is committed with its intent, before the run's alert.
    expect(kinds().sort()).toEqual(['balance-alert', 'top-up-started']);
    expect((await savedTopUp())?.intents).toMatchObject([{ purchaseId: 'cp_1', phase: 'pending' }]);
  });

  it('holds the first purchase for a day when it finds no purchase records, and says why', async () => {
    await runMonitor(CONFIG, deps(), { eventId: 'e1' });
    // No ledger, no purchase: only the checkout page a person may use meanwhile.
    expect(creditCalls()).toEqual(['POST /credits/checkout-session']);
    expect((await savedTopUp())?.holdUntil).toBe(new Date(NOW.getTime() + HOLD_MS).toISOString());
    now = new Date(NOW.getTime() + HOLD_MS);
    await runMonitor(CONFIG, deps(), { eventId: 'e2' });
    expect(credits.purchases).toHaveLength(1);
  });

  it('reads no ledger and buys nothing above the threshold', async () => {
    balance = { cents: 5000 };
    await runMonitor(CONFIG, deps(), { eventId: 'e1' });
    expect(creditCalls()).toEqual([]);
  });

  it('never touches purchases on a failed check, a test invocation or a redelivered event', async () => {
    await ranForADay();
    // Act: a failed check
    balance = { cents: 400, status: 503 };
    await runMonitor(CONFIG, deps(), { eventId: 'e1' }).catch(() => undefined);
    // a test invocation
    balance = { cents: 400 };
    await runMonitor(CONFIG, deps(), { test: true });
    // a run, then its event redelivered after the purchase ended
    await runMonitor(CONFIG, deps(), { eventId: 'e2' });
    credits.settle('cp_1', 'failed');
    const before = paths.length;
    await runMonitor(CONFIG, deps(), { eventId: 'e2' });
    // Assess
    expect(credits.purchases).toHaveLength(1);
    expect(paths.slice(before).filter((p) => p.includes('/credits/purchases'))).toEqual([]);
  });

  it('saves the purchase even when its notification cannot be published, so no second purchase follows', async () => {
    // Prepare: every publish fails
    await ranForADay();
    sns.on(PublishCommand).rejects(new Error('SNS down'));
    // Act
    await expect(runMonitor(CONFIG, deps(), { eventId: 'e1' })).rejects.toThrow();
    const afterFailure = await store.record(PROD.name);
    credits.settle('cp_1', 'succeeded');
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    await runMonitor(CONFIG, deps(), { eventId: 'e2' });
    // Assess: the second run followed the first purchase instead of buying again
    expect(credits.purchases).toHaveLength(1);
    expect(afterFailure?.topUp?.intents).toMatchObject([{ purchaseId: 'cp_1' }]);
    // The first run's notices waited in the outbox; the next run sent each of them once.
    expect(afterFailure?.outbox.map((e) => e.notification.kind).sort()).toEqual([
      'balance-alert',
      'top-up-started',
    ]);
    expect(kinds().sort()).toEqual(['balance-alert', 'top-up-started', 'top-up-succeeded']);
    expect((await store.record(PROD.name))?.outbox).toEqual([]);
  });

  it('announces one purchase once when two runs start at the same instant', async () => {
    await ranForADay();
    // Act: both runs read the same record and ledger.
    await Promise.all([
      runMonitor(CONFIG, { ...deps(), runId: 'run-a' }, { eventId: 'e-a' }),
      runMonitor(CONFIG, { ...deps(), runId: 'run-b' }, { eventId: 'e-b' }),
    ]);
    // Assess
    expect(credits.purchases).toHaveLength(1);
    expect(kinds().sort()).toEqual(['balance-alert', 'top-up-started']);
    expect((await savedTopUp())?.intents).toMatchObject([{ purchaseId: 'cp_1' }]);
  });

  it('"Buy now" buys once above the threshold, then refuses while that purchase is in progress', async () => {
    // Prepare: a healthy balance, where auto top-up would not buy by itself
    await ranForADay();
    balance = { cents: 5000 };
    const buy = buyThroughRun((request) => runMonitor(CONFIG, deps(), request));
    // Act
    const first = await buy(PROD);
    const second = await buy(PROD);
    // Assess: one purchase through an intent, announced; the second ask waits for it
    expect(credits.purchases.map((p) => p.amountCents)).toEqual([2000]);
    expect(first).toMatchObject({ topUp: 'done', account: 'prod' });
    expect(kinds()).toEqual(['top-up-started']);
    expect(second).toEqual({
      topUp: 'refused',
      error: 'auto top-up: $20.00 started, waiting for it',
    });
    expect((await savedTopUp())?.intents).toHaveLength(1);
  });

  it('"Buy now" refuses past the monthly cap, counting purchases by hand, with the reason', async () => {
    await ranForADay();
    balance = { cents: 5000 };
    for (let i = 0; i < 3; i++) credits.buyByHand(2000);
    const result = await buyThroughRun((request) => runMonitor(CONFIG, deps(), request))(PROD);
    expect(credits.purchases).toHaveLength(3);
    expect(result).toEqual({
      topUp: 'refused',
      error: 'auto top-up: blocked by the monthly cap ($60.00 of $60.00 bought)',
    });
    expect(kinds()).toEqual(['top-up-capped']);
  });

  it('keeps no top-up state for an account without auto top-up', async () => {
    const off = { ...PROD, autoTopUpCents: undefined, autoTopUpMonthlyCapCents: undefined };
    await runMonitor({ ...CONFIG, accounts: [off] }, deps(), { eventId: 'e1' });
    // Only the pay link's checkout page (auto top-up is off): no ledger, no purchase.
    expect(creditCalls()).toEqual(['POST /credits/checkout-session']);
    expect(await savedTopUp()).toBeUndefined();
  });
});
