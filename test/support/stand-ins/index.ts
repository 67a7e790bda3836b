/**
 * Everything the bundled monitor function talks to, started together on loopback, so the
 * real artifact runs with no AWS account and no network: the fake ngrok.ai API, SSM, SNS and
 * the state table (dynalite).
 * Each stand-in is a module of its own in this folder (a channel's receiver goes next to
 * them); this one starts them together and re-exports the folder for the tests and the
 * benchmark.
 */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../../lambda/store/dynamo-store.ts';
import { type LocalDynamo, startDynalite } from '../dynalite.ts';
import { FakeNgrokApi } from './ngrok-api.ts';
import { FAKE_AWS } from './server.ts';
import { FakeSns } from './sns.ts';
import { FakeSsm } from './ssm.ts';

/** One AWS call the function made, in the terms an IAM policy speaks. */
export interface AwsCall {
  /** e.g. `ssm:GetParameters`, `sns:Publish`, `dynamodb:GetItem`. */
  readonly action: string;
  /** The parameter names (SSM), the topic ARN (SNS) or the table ARN (DynamoDB) it touched. */
  readonly resources: readonly string[];
}

/** The state table the stand-ins create; the function finds it through STATE_TABLE_NAME. */
export const STATE_TABLE_NAME = 'NgrokBalanceAlert-StateTable-STANDIN';
export const STATE_TABLE_ARN = `arn:aws:dynamodb:${FAKE_AWS.region}:${FAKE_AWS.accountId}:table/${STATE_TABLE_NAME}`;

export interface StandIns {
  readonly ngrok: FakeNgrokApi;
  readonly ssm: FakeSsm;
  readonly sns: FakeSns;
  readonly dynamo: LocalDynamo;
  /** The state table, to seed and read records as the function stores them. */
  readonly state: DynamoStore;
  /** Deletes a record from the state table: the function finds none (a lost record). */
  wipeState(key: string): Promise<void>;
  /**
   * Writes `value` over a record as another writer would, at the next version: an older
   * copy of it is a rollback.
   */
  overwriteState(key: string, value: unknown): Promise<void>;
  /** Sets the injected latency of all four at once. */
  setLatency(ms: number): void;
  /** Environment for the function: endpoints, region, fake credentials, topic, table. */
  env(): Record<string, string>;
  /** Every SSM, SNS and DynamoDB call the function made so far (not the test's own). */
  awsCalls(): AwsCall[];
  close(): Promise<void>;
}

export async function startStandIns(
  options: { latencyMs?: number; topicArn?: string } = {},
): Promise<StandIns> {
  const topicArn = options.topicArn ?? FAKE_AWS.topicArn;
  const ngrok = await new FakeNgrokApi(options).start();
  const ssm = await new FakeSsm(options).start();
  const sns = await new FakeSns({ ...options, topicArn }).start();
  const dynamo = await startDynalite(options);
  await dynamo.createTable(STATE_TABLE_NAME);
  const state = new DynamoStore(dynamo.client, STATE_TABLE_NAME);
  return {
    ngrok,
    ssm,
    sns,
    dynamo,
    state,
    async wipeState(key) {
      await dynamo.client.send(
        new DeleteItemCommand({ TableName: STATE_TABLE_NAME, Key: { pk: { S: key } } }),
      );
    },
    async overwriteState(key, value) {
      const { version } = await state.read(key);
      if ((await state.write(key, version, value)) === undefined) {
        throw new Error(`the record ${key} changed while it was overwritten`);
      }
    },
    setLatency(ms) {
      ngrok.latencyMs = ms;
      ssm.latencyMs = ms;
      sns.latencyMs = ms;
      dynamo.latencyMs = ms;
    },
    env: () => ({
      AWS_REGION: FAKE_AWS.region,
      AWS_DEFAULT_REGION: FAKE_AWS.region,
      AWS_ACCESS_KEY_ID: FAKE_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_AWS.secretAccessKey,
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      STATE_TABLE_NAME,
      AWS_EC2_METADATA_DISABLED: 'true',
      NGROK_API_URL: ngrok.url,
      TOPIC_ARN: topicArn,
      // Lambda sets it; the snooze commands in messages name it.
      AWS_LAMBDA_FUNCTION_NAME: FAKE_AWS.functionName,
    }),
    awsCalls: () => [
      ...ssm.requests.map((r) => ({ action: `ssm:${r.action}`, resources: r.names })),
      ...sns.requests.map((r) => ({
        action: `sns:${r.action}`,
        resources: r.topicArn === undefined ? [] : [r.topicArn],
      })),
      // The test's own client signs with other credentials: its reads are not the function's.
      ...dynamo.requests
        .filter((r) => r.scope.accessKeyId === FAKE_AWS.accessKeyId)
        .map((r) => ({ action: `dynamodb:${r.action}`, resources: [STATE_TABLE_ARN] })),
    ],
    close: async () => {
      await Promise.all([ngrok.close(), ssm.close(), sns.close(), dynamo.stop()]);
    },
  };
}

export * from './bundle-runner.ts';
export * from './chat-webhooks.ts';
export * from './iam.ts';
export * from './ngrok-api.ts';
export * from './pagerduty.ts';
export * from './server.ts';
export * from './sns.ts';
export * from './ssm.ts';
export * from './synth.ts';
export * from './webhook-receiver.ts';
