/**
 * The Lambda entry point: wires real clients into the monitor and nothing else. Clients
 * are created once per container; configuration is read on the first invocation, so a
 * bad value fails that invocation with a message instead of crashing the init phase.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createLogger } from './common/log.ts';
import type { MonitorConfig } from './common/types.ts';
import { checkedApiUrl } from './config/api-url.ts';
import { MONITOR_CONFIG_FILE, parseMonitorConfig } from './config/monitor-config.ts';
import { DEFAULT_NGROK_API_URL } from './ngrok/ngrok-client.ts';
import {
  accountCommandOf,
  buyThroughRun,
  type CheckCommandResult,
  expandSnooze,
  runCheckCommand,
  runTopUpCommand,
  type TopUpCommandResult,
} from './run/commands.ts';
import { type MonitorDeps, type RunSummary, runMonitor } from './run/monitor.ts';
import { runSnoozeCommand, type SnoozeCommandResult } from './run/snooze-command.ts';
import { DynamoStore } from './store/dynamo-store.ts';
import { isSnoozeEvent } from './watches/snooze.ts';

// Adaptive retries pace the settings reads, which share SSM's account-wide throughput.
const ssm = new SSMClient({ retryMode: 'adaptive', maxAttempts: 5 });
const sns = new SNSClient({});
const dynamodb = new DynamoDBClient({});
const log = createLogger();
let config: MonitorConfig | undefined;
let store: DynamoStore | undefined;
let ngrokBaseUrl: string | undefined;

/**
 * An EventBridge scheduled event, or from `aws lambda invoke` or an Amazon Q button:
 * `{"test": true}`, `{"snooze": {"account": ..., "until" or "for": ..., "note": ...}}`,
 * `{"check": {"account": ...}}` or `{"topUp": {"account": ...}}`; the last three also take the
 * account name alone (run/commands.ts).
 */
export interface MonitorEvent {
  readonly id?: string;
  readonly 'detail-type'?: string;
  readonly test?: boolean;
  readonly snooze?: unknown;
  readonly check?: unknown;
  readonly topUp?: unknown;
}

/** The part of the Lambda context the monitor uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(
  event: MonitorEvent,
  context: LambdaContext,
): Promise<RunSummary | SnoozeCommandResult | CheckCommandResult | TopUpCommandResult> {
  config ??= parseMonitorConfig(readConfigFile());
  store ??= new DynamoStore(dynamodb, requiredEnv('STATE_TABLE_NAME'));
  // Lambda always sets these; messages name them in every command.
  const region = process.env.AWS_REGION;
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  if (isSnoozeEvent(event)) {
    return runSnoozeCommand(expandSnooze(event.snooze), config, {
      ssm,
      sns,
      topicArn: requiredEnv('TOPIC_ARN'),
      store,
      log,
      now: () => new Date(),
      region,
      functionName,
    });
  }
  const command = accountCommandOf(event);
  // Checked before any request: the API key must never go to a plain-http host.
  ngrokBaseUrl ??= checkedApiUrl(process.env.NGROK_API_URL, DEFAULT_NGROK_API_URL);
  const deps: MonitorDeps = {
    ssm,
    sns,
    topicArn: requiredEnv('TOPIC_ARN'),
    store,
    log,
    now: () => new Date(),
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
    ngrok: { baseUrl: ngrokBaseUrl },
    region,
    functionName,
  };
  const monitorConfig = config;
  if (command === 'topUp') {
    return runTopUpCommand(event.topUp, monitorConfig, {
      buy: buyThroughRun((request) => runMonitor(monitorConfig, deps, request)),
      log,
    });
  }
  if (command === 'check') {
    return runCheckCommand(event.check, monitorConfig, {
      run: (request) => runMonitor(monitorConfig, deps, request),
      store,
      log,
    });
  }
  const test = event?.test === true;
  return runMonitor(config, deps, { eventId: test ? undefined : event?.id, test });
}

/** The construct writes the configuration next to the bundle (see monitor-config.ts). */
function readConfigFile(): string | undefined {
  try {
    return readFileSync(new URL(`./${MONITOR_CONFIG_FILE}`, import.meta.url), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`The environment variable ${name} is not set: redeploy the stack.`);
  return value;
}
