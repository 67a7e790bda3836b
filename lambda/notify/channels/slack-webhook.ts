/**
 * SNS subscriber that posts every message of the alert topic to Slack through an incoming
 * webhook. The webhook URL is a secret (anyone holding it can post to the channel): it lives
 * in a SecureString parameter, is read once per container, and never appears in logs or
 * error messages.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  definedOnly,
  isRetryableStatus,
  isTimeoutError,
  networkErrorReason,
  type RetryOptions,
  readCapped,
  retry,
  sleep,
} from '../../http-retry.ts';
import { createLogger, errorFields, type Logger } from '../../log.ts';
import { renderSlackMessage, type SlackMessage } from '../render-slack.ts';

// ---------------------------------------------------------------------------------------------
// Event types (only the fields used)

export interface SnsEventRecord {
  readonly Sns: {
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

// ---------------------------------------------------------------------------------------------
// Posting

export interface PostOptions extends RetryOptions {
  /** Epoch milliseconds after which no attempt starts and every wait is cut short. */
  readonly deadline: number;
}

export interface PostResult {
  readonly status: number;
  readonly attempts: number;
}

/** A post that failed; the message never contains the webhook URL. */
export class SlackWebhookError extends Error {
  override readonly name = 'SlackWebhookError';
  constructor(
    message: string,
    /** Whether another attempt might succeed (429, 5xx, network, timeout). */
    readonly retryable: boolean,
    readonly attempts: number,
    /** HTTP status of the last attempt, when there was a response. */
    readonly status?: number,
    /** Slack's error code from the response body, e.g. channel_not_found. */
    readonly slackError?: string,
  ) {
    super(message);
  }
}

const POST_DEFAULTS = {
  sleep,
  random: Math.random,
  now: Date.now,
  maxAttempts: 4,
  attemptTimeoutMs: 5_000,
  backoffBaseMs: 500,
  backoffCapMs: 4_000,
};

/** An attempt with less time than this left is not worth starting. */
const MIN_ATTEMPT_MS = 100;
/** Slack answers with a short code ("ok", "invalid_payload"); more is not read. */
const MAX_RESPONSE_BYTES = 4_096;

/** What each permanent failure means and what fixes it. */
const PERMANENT_HINTS: Readonly<Record<number, string>> = {
  400: 'Slack rejected the message itself; this is a bug in the message rendering',
  403: 'the webhook is not allowed to post (the Slack app was removed or restricted)',
  404: 'the webhook or its channel no longer exists; create a new webhook and update the parameter',
  410: 'the channel is archived; unarchive it or create a webhook for another channel',
};

/**
 * Posts one message, retrying what may pass: 429 (honouring Retry-After), 408, 5xx, network
 * errors and timeouts, with capped exponential backoff and full jitter, never past the
 * deadline. Any other status is final.
 */
export async function postToSlack(
  webhookUrl: string,
  message: SlackMessage,
  options: PostOptions,
): Promise<PostResult> {
  const o = { ...POST_DEFAULTS, ...definedOnly(options) };
  const doFetch = options.fetch ?? fetch;
  const body = JSON.stringify(message);
  const result = await retry<PostResult, SlackWebhookError>({
    ...o,
    deadline: options.deadline,
    minAttemptMs: MIN_ATTEMPT_MS,
    attempt: async (attemptTimeout, attempt) => {
      try {
        const response = await doFetch(webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body,
          signal: AbortSignal.timeout(attemptTimeout),
          // Slack does not redirect webhook posts; following one would send the payload elsewhere.
          redirect: 'manual',
        });
        if (response.status >= 200 && response.status < 300) {
          // Delivered. The body ("ok") is not read: a failure reading it must not cause a
          // retry, which would post the message twice.
          await response.body?.cancel().catch(() => {});
          return { done: { status: response.status, attempts: attempt } };
        }
        // A longer body is not Slack's short error code: its beginning is enough to quote.
        const { text } = await readCapped(response, MAX_RESPONSE_BYTES);
        const slackError = slackErrorCode(text, webhookUrl);
        const retryable = isRetryableStatus(response.status);
        const hint = PERMANENT_HINTS[response.status];
        const error = new SlackWebhookError(
          `Slack webhook answered HTTP ${response.status}${slackError ? ` ${slackError}` : ''}` +
            (retryable
              ? ''
              : `: ${hint ?? 'not retried, as another attempt would fail the same way'}`),
          retryable,
          attempt,
          response.status,
          slackError,
        );
        return { error, retry: retryable, response };
      } catch (caught) {
        const error = new SlackWebhookError(
          describeNetworkError(caught, attemptTimeout, webhookUrl),
          true,
          attempt,
        );
        return { error, retry: true };
      }
    },
  });
  if (result.ok) return result.value;
  const { error, attempts } = result;
  if (result.final && error) throw error;
  let text = error?.message ?? 'Slack webhook failed';
  if (result.outOfTime) {
    // Waiting as asked would leave no time for another attempt: fail now, inside the budget,
    // and let Lambda's own retry try again later.
    const asked =
      result.retryAfterMs !== undefined ? ` (Slack asked to wait ${result.retryAfterMs} ms)` : '';
    text += `; no time left to retry${asked}`;
  }
  throw (
    withMessage(error, `${text} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`) ??
    new SlackWebhookError('Slack webhook was not attempted: no time was left', true, 0)
  );
}

function withMessage(
  error: SlackWebhookError | undefined,
  message: string,
): SlackWebhookError | undefined {
  if (!error) return undefined;
  return new SlackWebhookError(
    message,
    error.retryable,
    error.attempts,
    error.status,
    error.slackError,
  );
}

/** Slack's error code ("channel_not_found"), or a short, printable, redacted excerpt. */
function slackErrorCode(text: string, webhookUrl: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (/^[a-z0-9_]{1,80}$/.test(trimmed)) return trimmed;
  const printable = redactWebhookUrl(trimmed, webhookUrl)
    .replace(/[^\x20-\x7e]+/g, ' ')
    .slice(0, 120);
  return `(${printable.trim()})`;
}

function describeNetworkError(error: unknown, timeoutMs: number, webhookUrl: string): string {
  if (isTimeoutError(error)) return `Slack webhook did not answer within ${timeoutMs} ms`;
  const reason = redactWebhookUrl(networkErrorReason(error), webhookUrl);
  return `Slack webhook request failed: ${reason.slice(0, 200)}`;
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
    // SNS invokes with one record; more are handled in turn, and the invocation fails if any
    // did (a retry then posts the others again: a duplicate beats a lost alert).
    const failures: Error[] = [];
    for (const record of records) {
      const messageId = record?.Sns?.MessageId;
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
  parameterName: () => {
    const name = process.env.WEBHOOK_PARAMETER_NAME;
    if (!name) {
      throw new Error(
        'The environment variable WEBHOOK_PARAMETER_NAME is not set: redeploy the stack.',
      );
    }
    return name;
  },
});
