/**
 * A small world for driving the run loop in-process: settings in a map behind a fake SSM
 * client, a topic that records (or refuses) publishes, a fake ngrok API whose balance a test
 * sets, and a store (MemoryStore by default). Every AWS call is counted.
 */
import type { PublishCommandInput } from '@aws-sdk/client-sns';
import type { GetParametersCommandInput } from '@aws-sdk/client-ssm';
import { createLogger } from '../../lambda/common/log.ts';
import type { AccountConfig, MonitorConfig } from '../../lambda/common/types.ts';
import type { MonitorDeps } from '../../lambda/run/monitor.ts';
import { type AccountRecord, accountKey } from '../../lambda/store/account-record.ts';
import { MemoryStore, type RecordStore } from '../../lambda/store/store.ts';

export const NOW = new Date('2026-11-24T12:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export function accountConfig(name: string, extra: Partial<AccountConfig> = {}): AccountConfig {
  return {
    name,
    tokenParameterName: `/keys/${name}`,
    thresholdParameterName: `/ngrok-balance-alert/${name}/threshold-cents`,
    thresholdCents: 500,
    ...extra,
  };
}

export function monitorConfig(
  accounts: AccountConfig[],
  overrides: Partial<MonitorConfig> = {},
): MonitorConfig {
  return {
    accounts,
    renotifyHours: 24,
    failureAlertAfter: 3,
    forecastDays: 7,
    runwayAlertDays: 0,
    usageRefreshHours: 6,
    spikeFactor: 3,
    spikeMinCentsPerHour: 100,
    metrics: 'none',
    digest: 'off',
    digestDay: 'monday',
    digestHourUtc: 9,
    expiryWarningDays: 0,
    deployment: 'NgrokBalanceAlert',
    ...overrides,
  };
}

export interface Published {
  readonly kind: string;
  readonly account: string;
  readonly subject: string;
}

export class World {
  readonly parameters = new Map<string, string>();
  /** Balance in cents per API key. */
  readonly balances = new Map<string, number>();
  readonly published: Published[] = [];
  readonly calls = { getParameters: 0, publish: 0, balance: 0 };
  /** The next n publishes fail. */
  failPublishes = 0;
  readonly logs: string[] = [];

  constructor(readonly store: RecordStore<unknown> = new MemoryStore<unknown>()) {}

  seed(account: AccountConfig, balanceCents: number, thresholdCents = account.thresholdCents) {
    const key = `key-${account.name}`;
    this.parameters.set(account.tokenParameterName, key);
    this.parameters.set(account.thresholdParameterName, String(thresholdCents));
    this.balances.set(key, balanceCents);
  }

  setBalance(account: AccountConfig, balanceCents: number) {
    this.balances.set(`key-${account.name}`, balanceCents);
  }

  async record(account: AccountConfig): Promise<AccountRecord | undefined> {
    return (await this.store.read(accountKey(account.name))).value as AccountRecord | undefined;
  }

  deps(now: Date, extra: Partial<MonitorDeps> = {}): MonitorDeps {
    return {
      ssm: { send: async (command) => this.getParameters(command.input as never) },
      sns: { send: async (command) => this.publish(command.input as PublishCommandInput) },
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
      store: this.store,
      log: createLogger((line) => this.logs.push(line)),
      now: () => now,
      remainingTimeMs: () => 60_000,
      ngrok: {
        baseUrl: 'http://ngrok.test',
        fetch: this.fetch,
        sleep: async () => {},
        random: () => 0.5,
      },
      region: 'us-east-1',
      functionName: 'monitor',
      ...extra,
    } as MonitorDeps;
  }

  private async getParameters(input: GetParametersCommandInput) {
    this.calls.getParameters++;
    const names = input.Names ?? [];
    return {
      Parameters: names
        .filter((n) => this.parameters.has(n))
        .map((Name) => ({ Name, Value: this.parameters.get(Name) })),
      InvalidParameters: names.filter((n) => !this.parameters.has(n)),
    };
  }

  private async publish(input: PublishCommandInput) {
    this.calls.publish++;
    // Let racing runs interleave at the publish, as a real network call would.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failPublishes > 0) {
      this.failPublishes--;
      throw Object.assign(new Error('SNS is unavailable'), { name: 'InternalErrorException' });
    }
    const message = JSON.parse(input.Message ?? '{}') as Record<string, string>;
    const json = JSON.parse(message.lambda ?? message.default ?? '{}') as Record<string, unknown>;
    this.published.push({
      kind: String(json.kind ?? input.MessageAttributes?.kind?.StringValue ?? ''),
      account: String(input.MessageAttributes?.account?.StringValue ?? ''),
      subject: input.Subject ?? '',
    });
    return { MessageId: `m-${this.calls.publish}` };
  }

  readonly fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const key = String(new Headers(init?.headers).get('authorization')).replace('Bearer ', '');
    await new Promise((resolve) => setImmediate(resolve));
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    if (url.pathname === '/usage/overview') {
      return json(200, {
        uri: '/usage/overview',
        buckets: [],
        totals: { cost: '0', requests: 0, errors: 0 },
      });
    }
    if (url.pathname === '/credits/balance') {
      this.calls.balance++;
      const balance = this.balances.get(key);
      if (balance === undefined)
        return json(401, { statusCode: 401, msg: 'unauthorized', details: {} });
      return json(200, { balanceCents: balance });
    }
    return json(404, { statusCode: 404, msg: 'not found', details: {} });
  };
}
