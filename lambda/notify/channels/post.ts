/**
 * Posts one JSON body to a channel's HTTPS endpoint with the shared retry loop: 429
 * (honouring Retry-After), 408, 5xx, network errors and timeouts are retried with capped
 * exponential backoff and full jitter, never past the deadline; any other status is final.
 * Every channel poster (Slack, the signed webhook, the next one) is this plus its own
 * hints and headers. Errors never contain the endpoint URL: it is a secret.
 */
import {
  definedOnly,
  isRetryableStatus,
  isTimeoutError,
  networkErrorReason,
  type RetryOptions,
  readCapped,
  retry,
  sleep,
} from '../../common/http-retry.ts';

export interface PostOptions extends RetryOptions {
  /** Epoch milliseconds after which no attempt starts and every wait is cut short. */
  readonly deadline: number;
}

export interface PostResult {
  readonly status: number;
  readonly attempts: number;
}

/** What a poster says about its channel. */
export interface Channel {
  /** How messages name the endpoint: "Slack webhook", "Webhook". */
  readonly label: string;
  /** Who answered, for "Slack asked to wait". */
  readonly who: string;
  /** What each permanent failure means and what fixes it. */
  readonly hints?: Readonly<Record<number, string>>;
  /** Removes the endpoint (and anything shaped like it) from text that may be shown. */
  readonly redact: (text: string) => string;
  /** Headers for one attempt, made when it starts (a signature's time must be fresh). */
  readonly headers?: (nowMs: number) => Readonly<Record<string, string>>;
}

/** A post that failed; the message never contains the endpoint URL. */
export class ChannelPostError extends Error {
  override readonly name: string = 'ChannelPostError';
  constructor(
    message: string,
    /** Whether another attempt might succeed (429, 5xx, network, timeout). */
    readonly retryable: boolean,
    readonly attempts: number,
    /** HTTP status of the last attempt, when there was a response. */
    readonly status?: number,
    /** The receiver's short error code or a redacted excerpt of its answer. */
    readonly detail?: string,
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
/** Receivers answer errors with a short code; more is not read. */
const MAX_RESPONSE_BYTES = 4_096;

/** Posts `body` (JSON) to `url` for `channel`, within `options.deadline`. */
export async function postJson(
  url: string,
  body: string,
  channel: Channel,
  options: PostOptions,
): Promise<PostResult> {
  const o = { ...POST_DEFAULTS, ...definedOnly(options) };
  const doFetch = options.fetch ?? fetch;
  const result = await retry<PostResult, ChannelPostError>({
    ...o,
    deadline: options.deadline,
    minAttemptMs: MIN_ATTEMPT_MS,
    attempt: async (attemptTimeout, attempt) => {
      try {
        const response = await doFetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            ...channel.headers?.(o.now()),
          },
          body,
          signal: AbortSignal.timeout(attemptTimeout),
          // Following a redirect would send the payload somewhere nobody configured.
          redirect: 'manual',
        });
        if (response.status >= 200 && response.status < 300) {
          // Delivered. The body is not read: a failure reading it must not cause a retry,
          // which would post the message twice.
          await response.body?.cancel().catch(() => {});
          return { done: { status: response.status, attempts: attempt } };
        }
        // A longer body is not a short error code: its beginning is enough to quote.
        const { text } = await readCapped(response, MAX_RESPONSE_BYTES);
        const detail = errorDetail(text, channel);
        const retryable = isRetryableStatus(response.status);
        const hint = channel.hints?.[response.status];
        const error = new ChannelPostError(
          `${channel.label} answered HTTP ${response.status}${detail ? ` ${detail}` : ''}` +
            (retryable
              ? ''
              : `: ${hint ?? 'not retried, as another attempt would fail the same way'}`),
          retryable,
          attempt,
          response.status,
          detail,
        );
        return { error, retry: retryable, response };
      } catch (caught) {
        const error = new ChannelPostError(
          describeNetworkError(caught, attemptTimeout, channel),
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
  let text = error?.message ?? `${channel.label} failed`;
  if (result.outOfTime) {
    // Waiting as asked would leave no time for another attempt: fail now, inside the budget,
    // and let Lambda's own retry try again later.
    const asked =
      result.retryAfterMs !== undefined
        ? ` (${channel.who} asked to wait ${result.retryAfterMs} ms)`
        : '';
    text += `; no time left to retry${asked}`;
  }
  if (!error) {
    throw new ChannelPostError(`${channel.label} was not attempted: no time was left`, true, 0);
  }
  throw new ChannelPostError(
    `${text} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`,
    error.retryable,
    error.attempts,
    error.status,
    error.detail,
  );
}

/** The receiver's error code ("channel_not_found"), or a short, printable, redacted excerpt. */
function errorDetail(text: string, channel: Channel): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (/^[a-z0-9_]{1,80}$/.test(trimmed)) return trimmed;
  const printable = channel
    .redact(trimmed)
    .replace(/[^\x20-\x7e]+/g, ' ')
    .slice(0, 120);
  return `(${printable.trim()})`;
}

function describeNetworkError(error: unknown, timeoutMs: number, channel: Channel): string {
  if (isTimeoutError(error)) return `${channel.label} did not answer within ${timeoutMs} ms`;
  const reason = channel.redact(networkErrorReason(error));
  return `${channel.label} request failed: ${reason.slice(0, 200)}`;
}
