/**
 * SNS subscriber that posts every message of the alert topic to Slack through an incoming
 * webhook. The webhook URL is a secret (anyone holding it can post to the channel): it lives
 * in a SecureString parameter, is read once per container, and never appears in logs or
 * error messages.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { RetryOptions } from '../../common/http-retry.ts';
import { createLogger, errorFields, type Logger } from '../../common/log.ts';
import { renderSlackMessage, type SlackMessage } from '../render-slack.ts';
import { ChannelPostError, type PostOptions, type PostResult, postJson } from './post.ts';

// ---------------------------------------------------------------------------------------------
// Event types (only the fields used)

export interface SnsEventRecord {
  readonly Sns: {
    /** The topic the message was published to. */
    readonly TopicArn?: string;
    readonly MessageId?: string;
    readonly Message: string;
    readonly Subject?: string | null;
  };
}

export interface SnsEvent {
  readonly Records: readonly SnsEventRecord[];
}

/** The part of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/**
 * Whether a record comes from the function's own topic. Anyone who may add a subscription
 * to another topic could otherwise have the function post for them (resolve the real
 * PagerDuty incident, or get a validly signed webhook delivery); such a record is logged
 * and dropped, without failing the invocation (a retry would not make it acceptable).
 */
export function isFromTopic(
  record: { readonly Sns?: { readonly TopicArn?: string } } | undefined,
  topicArn: string | undefined,
  log: Logger,
  fields: Record<string, unknown>,
): boolean {
  if (topicArn === undefined || record?.Sns?.TopicArn === topicArn) return true;
  log.log('WARN', 'Refused a message that is not from the alert topic: nothing was posted', {
    ...fields,
    topicArn: String(record?.Sns?.TopicArn ?? '(none)').slice(0, 256),
    expectedTopicArn: topicArn,
  });
  return false;
}

// ---------------------------------------------------------------------------------------------
// Posting

export type { PostOptions, PostResult } from './post.ts';

/** A post that failed; the message never contains the webhook URL. */
export class SlackWebhookError extends ChannelPostError {
  override readonly name = 'SlackWebhookError';
  constructor(
    message: string,
    retryable: boolean,
    attempts: number,
    status?: number,
    /** Slack's error code from the response body, e.g. channel_not_found. */
    readonly slackError?: string,
  ) {
    super(message, retryable, attempts, status, slackError);
  }
}

/** What each permanent failure means and what fixes it. */
const PERMANENT_HINTS: Readonly<Record<number, string>> = {
  400: 'Slack rejected the message itself; this is a bug in the message rendering',
  403: 'the webhook is not allowed to post (the Slack app was removed or restricted)',
  404: 'the webhook or its channel no longer exists; create a new webhook and update the parameter',
  410: 'the channel is archived; unarchive it or create a webhook for another channel',
};

/**
 * Posts one message, retrying what may pass (see post.ts), never past the deadline.
 */
export async function postToSlack(
  webhookUrl: string,
  message: SlackMessage,
  options: PostOptions,
): Promise<PostResult> {
  try {
    return await postJson(
      webhookUrl,
      JSON.stringify(message),
      {
        label: 'Slack webhook',
        who: 'Slack',
        hints: PERMANENT_HINTS,
        redact: (text) => redactWebhookUrl(text, webhookUrl),
      },
      options,
    );
  } catch (caught) {
    if (!(caught instanceof ChannelPostError)) throw caught;
    throw new SlackWebhookError(
      caught.message,
      caught.retryable,
      caught.attempts,
      caught.status,
      caught.detail,
    );
  }
}

/**
 * Removes the webhook URL, and anything shaped like a webhook path, from text that may be
 * shown or logged.
 */
export function redactWebhookUrl(text: string, webhookUrl?: string): string {
  let out = text;
  if (webhookUrl) {
    out = out.split(webhookUrl).join('[webhook URL]');
    try {
      const { pathname } = new URL(webhookUrl);
      if (pathname.length > 1) out = out.split(pathname).join('[webhook path]');
    } catch {
      // Not a URL: the exact text has been removed already.
    }
  }
  return out.replace(/\/services\/[^\s"'<>]+/g, '/services/[redacted]');
}

// ---------------------------------------------------------------------------------------------
// The webhook URL

/**
 * Reads the webhook URL from a SecureString parameter and checks its form. Error messages
 * name the parameter, never the value.
 */
export async function fetchWebhookUrl(
  ssm: Pick<SSMClient, 'send'>,
  parameterName: string,
  timeoutMs = 5_000,
): Promise<{ url: string; secure: boolean }> {
  let value: string | undefined;
  let type: string | undefined;
  try {
    const out = await ssm.send(
      new GetParameterCommand({ Name: parameterName, WithDecryption: true }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
    value = out.Parameter?.Value;
    type = out.Parameter?.Type;
  } catch (caught) {
    const name = caught instanceof Error ? caught.name : 'Error';
    if (name === 'ParameterNotFound') {
      throw new Error(
        `The Slack webhook parameter ${parameterName} does not exist. Create it as a ` +
          `SecureString holding the incoming-webhook URL (see the README, Slack).`,
      );
    }
    const detail = caught instanceof Error ? caught.message.slice(0, 300) : String(caught);
    throw new Error(
      `Could not read the Slack webhook parameter ${parameterName}: ${name}: ${detail}`,
    );
  }
  const url = value?.trim() ?? '';
  if (!isAllowedWebhookUrl(url)) {
    throw new Error(
      `The Slack webhook parameter ${parameterName} does not hold an https URL. Expected ` +
        'the incoming-webhook URL Slack shows, https://hooks.slack.com/services/...',
    );
  }
  return { url, secure: type === 'SecureString' };
}

/** https only; plain http only for a loopback address (local tests). */
function isAllowedWebhookUrl(text: string): boolean {
  try {
    const url = new URL(text);
    if (url.username || url.password) return false;
    if (url.protocol === 'https:') return true;
    return (
      url.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname)
    );
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Handler

export interface HandlerDeps
  extends Pick<
    RetryOptions,
    'fetch' | 'sleep' | 'random' | 'now' | 'maxAttempts' | 'attemptTimeoutMs'
  > {
  readonly ssm: Pick<SSMClient, 'send'>;
  /** Name of the SecureString parameter, or a function that reads it (from the environment). */
  readonly parameterName: string | (() => string);
  /**
   * The topic of the function's own subscription, or a function that reads it: records from
   * any other topic are refused (logged, not posted). The deployed handler always has it.
   *
   * @default - every record is accepted (tests)
   */
  readonly topicArn?: string | (() => string);
  readonly log?: Logger;
  /** Time one invocation may spend reading the parameter and posting. */
  readonly budgetMs?: number;
  /** Time kept back from the function timeout, so a failure is reported rather than cut off. */
  readonly reserveMs?: number;
}

/**
 * 20 s of the 30 s function timeout: four attempts of at most 5 s each plus backoff, and
 * the parameter read, fit with time to spare for logging the outcome.
 */
export const DEFAULT_BUDGET_MS = 20_000;
const DEFAULT_RESERVE_MS = 3_000;

export type Handler = (event: SnsEvent, context?: LambdaContext) => Promise<void>;

/**
 * Builds a handler with its own cache of the webhook URL: read on first use, kept for the
 * life of the container, dropped when Slack says the webhook is gone (so that Lambda's retry
 * reads a replaced URL).
 */
export function createHandler(deps: HandlerDeps): Handler {
  const log = deps.log ?? createLogger();
  const now = deps.now ?? Date.now;
  let cached: Promise<{ url: string; secure: boolean }> | undefined;
  let warnedInsecure = false;

  const webhookUrl = async (parameterName: string) => {
    cached ??= fetchWebhookUrl(deps.ssm, parameterName);
    try {
      const result = await cached;
      if (!result.secure && !warnedInsecure) {
        warnedInsecure = true;
        log.log('WARN', 'The Slack webhook parameter is not a SecureString; store it as one', {
          parameterName,
        });
      }
      return result.url;
    } catch (error) {
      cached = undefined; // A failed read is retried by the next invocation.
      throw error;
    }
  };

  return async (event, context) => {
    const parameterName =
      typeof deps.parameterName === 'function' ? deps.parameterName() : deps.parameterName;
    const remaining = context ? context.getRemainingTimeInMillis() : Number.POSITIVE_INFINITY;
    const budget = Math.min(
      deps.budgetMs ?? DEFAULT_BUDGET_MS,
      remaining - (deps.reserveMs ?? DEFAULT_RESERVE_MS),
    );
    const deadline = now() + Math.max(0, budget);
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const topicArn = typeof deps.topicArn === 'function' ? deps.topicArn() : deps.topicArn;
    // SNS invokes with one record; more are handled in turn, and the invocation fails if any
    // did (a retry then posts the others again: a duplicate beats a lost alert).
    const failures: Error[] = [];
    for (const record of records) {
      const messageId = record?.Sns?.MessageId;
      if (!isFromTopic(record, topicArn, log, { channel: 'slack', messageId })) continue;
      const rendered = renderSlackMessage(String(record?.Sns?.Message ?? ''), record?.Sns?.Subject);
      try {
        const url = await webhookUrl(parameterName);
        const result = await postToSlack(url, rendered.message, {
          deadline,
          fetch: deps.fetch,
          sleep: deps.sleep,
          random: deps.random,
          now,
          maxAttempts: deps.maxAttempts,
          attemptTimeoutMs: deps.attemptTimeoutMs,
        });
        log.log('INFO', 'Posted to Slack', {
          messageId,
          rendered: rendered.kind,
          ...rendered.fields,
          attempts: result.attempts,
          status: result.status,
        });
      } catch (caught) {
        if (caught instanceof SlackWebhookError && caught.status && !caught.retryable) {
          // 403/404/410: the webhook may have been replaced; read the parameter again next time.
          cached = undefined;
        }
        const error = caught instanceof Error ? caught : new Error(String(caught));
        const safe = new Error(redactWebhookUrl(error.message));
        safe.name = error.name;
        failures.push(safe);
        log.log('ERROR', 'Could not post to Slack', {
          messageId,
          rendered: rendered.kind,
          ...rendered.fields,
          parameterName,
          ...errorFields(safe),
          ...(caught instanceof SlackWebhookError && {
            status: caught.status,
            slackError: caught.slackError,
            attempts: caught.attempts,
            retryable: caught.retryable,
          }),
        });
      }
    }
    // Throwing fails the invocation: Lambda retries it twice, then sends the event to the
    // failure queue, whose alarm notifies the topic. Swallowing the error would lose the alert
    // silently; a permanent 4xx is retried only by those two Lambda retries, which also gives a
    // replaced webhook URL a chance to be picked up.
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new Error(
        `${failures.length} of ${records.length} messages could not be posted to Slack: ` +
          failures.map((f) => f.message).join('; '),
      );
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Lambda entry point: real clients, created once per container.

const ssm = new SSMClient({});

export const handler: Handler = createHandler({
  ssm,
  parameterName: () => requiredEnv('WEBHOOK_PARAMETER_NAME'),
  topicArn: () => requiredEnv('SUBSCRIBED_TOPIC_ARN'),
});

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`The environment variable ${name} is not set: redeploy the stack.`);
  return value;
}
