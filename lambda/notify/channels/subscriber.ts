/**
 * The SNS subscriber every channel shares: reads the channel's SecureString parameter(s)
 * once per container, renders each message for the channel and posts it within a budget.
 * What it still cannot deliver fails the invocation: Lambda retries twice, then sends the
 * event with its error to the failure queue, whose alarm notifies the topic. Parameter
 * values (URLs, routing keys, secrets) never appear in logs or errors.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { RetryOptions } from '../../common/http-retry.ts';
import { createLogger, errorFields, type Logger } from '../../common/log.ts';
import { classifyMessage, incomingFields } from '../incoming.ts';
import {
  CHANNELS,
  type ChannelName,
  type ChannelSpec,
  DEFAULT_PAGERDUTY_EVENTS_URL,
  type Target,
} from './channels.ts';
import { ChannelPostError } from './post.ts';
import { isFromTopic, type LambdaContext, type SnsEvent } from './slack-webhook.ts';

/** A channel parameter that is missing, unreadable or holds the wrong thing. */
export class ChannelParameterError extends Error {
  override readonly name = 'ChannelParameterError';
}

/** Where the function finds its settings; the names only, never the values. */
export interface ChannelEnvironment {
  readonly channel: ChannelName;
  readonly parameterName: string;
  readonly secretParameterName?: string;
  readonly eventsUrl: string;
  /**
   * The topic of the function's own subscription: records from any other topic are refused
   * (logged, not delivered). The deployed function always has it (environmentFrom requires
   * it); a test that builds the environment by hand may leave it out.
   */
  readonly topicArn?: string;
}

export interface SubscriberDeps
  extends Pick<
    RetryOptions,
    'fetch' | 'sleep' | 'random' | 'now' | 'maxAttempts' | 'attemptTimeoutMs'
  > {
  readonly ssm: Pick<SSMClient, 'send'>;
  /** The environment, or a function that reads it (at the first invocation). */
  readonly environment: ChannelEnvironment | (() => ChannelEnvironment);
  readonly log?: Logger;
  /** Time one invocation may spend reading parameters and posting. */
  readonly budgetMs?: number;
  /** Time kept back from the function timeout, so a failure is reported, not cut off. */
  readonly reserveMs?: number;
}

/** 20 s of the 30 s timeout: four attempts of at most 5 s plus backoff, and the reads. */
const DEFAULT_BUDGET_MS = 20_000;
const DEFAULT_RESERVE_MS = 3_000;

export type SubscriberHandler = (event: SnsEvent, context?: LambdaContext) => Promise<void>;

/** Builds the handler of one channel, with its own cache of the parameter values. */
export function createSubscriber(deps: SubscriberDeps): SubscriberHandler {
  const log = deps.log ?? createLogger();
  const now = deps.now ?? Date.now;
  let cached: Promise<Target> | undefined;

  const target = (env: ChannelEnvironment, spec: ChannelSpec) => {
    cached ??= readTarget(deps.ssm, env, spec, log);
    // A failed read is tried again by the next invocation.
    cached.catch(() => {
      cached = undefined;
    });
    return cached;
  };

  return async (event, context) => {
    const env = typeof deps.environment === 'function' ? deps.environment() : deps.environment;
    const spec = CHANNELS[env.channel];
    const remaining = context ? context.getRemainingTimeInMillis() : Number.POSITIVE_INFINITY;
    const budget = Math.min(
      deps.budgetMs ?? DEFAULT_BUDGET_MS,
      remaining - (deps.reserveMs ?? DEFAULT_RESERVE_MS),
    );
    const deadline = now() + Math.max(0, budget);
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const failures: Error[] = [];
    for (const record of records) {
      const messageId = record?.Sns?.MessageId;
      if (!isFromTopic(record, env.topicArn, log, { channel: env.channel, messageId })) continue;
      const incoming = classifyMessage(String(record?.Sns?.Message ?? ''), record?.Sns?.Subject);
      const fields = {
        channel: env.channel,
        messageId,
        message: incoming.kind,
        ...incomingFields(incoming),
      };
      const posts = spec.posts(incoming);
      if (posts.length === 0) {
        log.log('INFO', `Nothing to send to ${spec.label} for this message`, fields);
        continue;
      }
      try {
        const t = await target(env, spec);
        for (const [index, post] of posts.entries()) {
          const result = await post(t, {
            deadline,
            fetch: deps.fetch,
            sleep: deps.sleep,
            random: deps.random,
            now,
            maxAttempts: deps.maxAttempts,
            attemptTimeoutMs: deps.attemptTimeoutMs,
          });
          log.log('INFO', `Posted to ${spec.label}`, {
            ...fields,
            post: `${index + 1} of ${posts.length}`,
            attempts: result.attempts,
            status: result.status,
          });
        }
      } catch (caught) {
        if (caught instanceof ChannelPostError && caught.status && !caught.retryable) {
          // The endpoint may have been replaced: read the parameter again next time.
          cached = undefined;
        }
        const error = caught instanceof Error ? caught : new Error(String(caught));
        failures.push(error);
        log.log('ERROR', `Could not post to ${spec.label}`, {
          ...fields,
          parameterName: env.parameterName,
          ...errorFields(error),
          ...(caught instanceof ChannelPostError && {
            status: caught.status,
            detail: caught.detail,
            attempts: caught.attempts,
            retryable: caught.retryable,
          }),
        });
      }
    }
    // Throwing fails the invocation, so Lambda retries it and then keeps it in the failure
    // queue; a retry may post again what had gone through (a duplicate beats a lost alert;
    // PagerDuty folds a repeated event into the same incident by its dedup_key).
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new Error(
        `${failures.length} of ${records.length} messages could not be posted to ${spec.label}: ` +
          failures.map((f) => f.message).join('; '),
      );
    }
  };
}

async function readTarget(
  ssm: Pick<SSMClient, 'send'>,
  env: ChannelEnvironment,
  spec: ChannelSpec,
  log: Logger,
): Promise<Target> {
  const value = await readParameter(ssm, env.parameterName, spec.label, log);
  const problem = spec.valueIsUrl ? urlProblem(value) : keyProblem(value);
  if (problem) {
    throw new ChannelParameterError(
      `The ${spec.label} parameter ${env.parameterName} ${problem}. Expected ${spec.holds} ` +
        '(see the README).',
    );
  }
  const secret =
    env.secretParameterName === undefined
      ? undefined
      : await readParameter(ssm, env.secretParameterName, `${spec.label} secret`, log);
  return { value, ...(secret !== undefined && { secret }), eventsUrl: env.eventsUrl };
}

/** Reads one SecureString; errors name the parameter, never its value. */
async function readParameter(
  ssm: Pick<SSMClient, 'send'>,
  name: string,
  what: string,
  log: Logger,
  timeoutMs = 5_000,
): Promise<string> {
  let value: string | undefined;
  let type: string | undefined;
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    value = out.Parameter?.Value;
    type = out.Parameter?.Type;
  } catch (caught) {
    const errorName = caught instanceof Error ? caught.name : 'Error';
    if (errorName === 'ParameterNotFound') {
      throw new ChannelParameterError(
        `The ${what} parameter ${name} does not exist. Create it as a SecureString (see the README).`,
        { cause: caught },
      );
    }
    const detail = caught instanceof Error ? caught.message.slice(0, 300) : String(caught);
    throw new ChannelParameterError(
      `Could not read the ${what} parameter ${name}: ${errorName}: ${detail}`,
      { cause: caught },
    );
  }
  if (type !== 'SecureString') {
    log.log('WARN', `The ${what} parameter is not a SecureString; store it as one`, {
      parameterName: name,
    });
  }
  const trimmed = value?.trim() ?? '';
  if (!trimmed) throw new ChannelParameterError(`The ${what} parameter ${name} is empty.`);
  return trimmed;
}

/** Why a value is not a usable endpoint: https only, plain http only on loopback (tests). */
function urlProblem(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.username || url.password) return 'holds a URL with a user name or password';
    if (url.protocol === 'https:') return undefined;
    if (url.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname)) {
      return undefined;
    }
    return 'does not hold an https URL';
  } catch {
    return 'does not hold a URL';
  }
}

function keyProblem(text: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,128}$/.test(text)
    ? undefined
    : 'does not hold a key (one word of letters and digits)';
}

/** The environment the construct sets; a missing name means the stack must be redeployed. */
export function environmentFrom(env: NodeJS.ProcessEnv): ChannelEnvironment {
  const required = (name: string) => {
    const value = env[name];
    if (!value) {
      throw new Error(`The environment variable ${name} is not set: redeploy the stack.`);
    }
    return value;
  };
  const channel = required('CHANNEL');
  if (!(channel in CHANNELS)) {
    throw new Error(
      `The environment variable CHANNEL names no channel ("${channel}"): redeploy the stack.`,
    );
  }
  return {
    channel: channel as ChannelName,
    parameterName: required('PARAMETER_NAME'),
    ...(env.SECRET_PARAMETER_NAME && { secretParameterName: env.SECRET_PARAMETER_NAME }),
    eventsUrl: env.PAGERDUTY_EVENTS_URL || DEFAULT_PAGERDUTY_EVENTS_URL,
    topicArn: required('SUBSCRIBED_TOPIC_ARN'),
  };
}
