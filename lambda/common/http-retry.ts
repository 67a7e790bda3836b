/**
 * The one HTTP retry loop, used by the ngrok.ai client (ngrok-client.ts) and every outbound
 * channel (notify/channels/): a deadline no attempt or wait passes, a timeout per attempt,
 * Retry-After honoured, capped exponential backoff with full jitter. Plus the pieces around
 * it: which statuses may pass on a retry, a size-capped body read, how a failed fetch is
 * described.
 *
 * What an attempt does and how its outcome is classified is the caller's: they raise
 * different errors, redact different secrets (an API key, a webhook URL), and differ in what
 * happens after a 2xx (the client reads and validates the body; a poster must not read it,
 * so that a failed read cannot post the message twice).
 */

/** Retry settings both callers take; each has its own defaults. */
export interface RetryOptions {
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Returns a number in [0, 1); drives the backoff jitter. */
  readonly random?: () => number;
  /** Epoch milliseconds; the deadline is measured against it. */
  readonly now?: () => number;
  /** Total attempts, the first one included. */
  readonly maxAttempts?: number;
  /** Upper bound for one attempt, further bounded by the deadline. */
  readonly attemptTimeoutMs?: number;
  /** Backoff before the second attempt, at most (full jitter); doubled for each one after. */
  readonly backoffBaseMs?: number;
  /** The backoff never exceeds this, however many attempts came before. */
  readonly backoffCapMs?: number;
}

/** The real wait, for when no `sleep` is injected. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * 408, 429 and 5xx may pass on another attempt; any other status means the request itself
 * (or the key, or the webhook) is wrong, and repeating it would fail the same way.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Retry-After is either delay-seconds or an HTTP date. Returns milliseconds to wait, or
 * undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  /** Returns a number in [0, 1). */
  readonly random: () => number;
}

/**
 * The wait after failed attempt number `attempt` (1 for the first): capped exponential
 * backoff with full jitter, a random time from 0 up to min(cap, base * 2^(attempt - 1)).
 */
export function backoffDelay(attempt: number, { baseMs, capMs, random }: Backoff): number {
  return random() * Math.min(capMs, baseMs * 2 ** (attempt - 1));
}

export interface CappedBody {
  /** The body as UTF-8 text; only its first `maxBytes` bytes when `truncated`. */
  readonly text: string;
  /** More than `maxBytes` bytes arrived: the rest was not read and the stream was cancelled. */
  readonly truncated: boolean;
}

/**
 * Reads at most `maxBytes` bytes of a response body, so a server cannot make the function
 * hold an arbitrarily large body in memory. What to do with a longer body is the caller's
 * choice: refuse it, or use its beginning.
 */
export async function readCapped(response: Response, maxBytes: number): Promise<CappedBody> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated };
}

/** Whether a fetch failed because its AbortSignal timed out (or was aborted). */
export function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * Why a fetch failed, in its own words. Node's fetch throws "fetch failed" and puts the
 * reason (ECONNREFUSED, a TLS error) in the cause, so the cause's message is preferred.
 * Not redacted: the caller removes its secret before showing it.
 */
export function networkErrorReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The properties that are not undefined, so that spreading them over defaults keeps the defaults. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What one attempt came to: a value, or an error and whether another attempt may help. */
export type AttemptOutcome<T, E> =
  | { readonly done: T }
  | {
      readonly error: E;
      readonly retry: boolean;
      /** The response that failed, so its Retry-After can be honoured. */
      readonly response?: Response;
    };

export interface RetryLoop<T, E> {
  /** Epoch milliseconds after which no attempt starts and every wait is cut short. */
  readonly deadline: number;
  /** An attempt with less time than this left is not worth starting. */
  readonly minAttemptMs: number;
  readonly maxAttempts: number;
  readonly attemptTimeoutMs: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly now: () => number;
  /** One attempt with at most `timeoutMs`; it classifies its own outcome. */
  readonly attempt: (timeoutMs: number, attempt: number) => Promise<AttemptOutcome<T, E>>;
}

export type RetryResult<T, E> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | {
      readonly ok: false;
      /** The last attempt's error; undefined when no attempt started. */
      readonly error: E | undefined;
      readonly attempts: number;
      /** Stopped at an error another attempt could not help. */
      readonly final: boolean;
      /** Stopped because waiting as asked would have left no time for another attempt. */
      readonly outOfTime: boolean;
      /** What the last Retry-After asked for, in milliseconds. */
      readonly retryAfterMs?: number;
    };

/**
 * Runs attempts until one is done, one fails for good, the attempts run out, or the
 * deadline leaves no room for another; never throws what an attempt returned.
 */
export async function retry<T, E>(o: RetryLoop<T, E>): Promise<RetryResult<T, E>> {
  let error: E | undefined;
  let attempts = 0;
  for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
    const timeLeft = o.deadline - o.now();
    if (timeLeft < o.minAttemptMs) break;
    attempts = attempt;
    const outcome = await o.attempt(Math.floor(Math.min(o.attemptTimeoutMs, timeLeft)), attempt);
    if ('done' in outcome) return { ok: true, value: outcome.done, attempts };
    error = outcome.error;
    if (!outcome.retry) return { ok: false, error, attempts, final: true, outOfTime: false };
    const retryAfterMs = outcome.response
      ? parseRetryAfter(outcome.response.headers.get('retry-after'), o.now())
      : undefined;
    if (attempt === o.maxAttempts) break;
    const backoff = backoffDelay(attempt, {
      baseMs: o.backoffBaseMs,
      capMs: o.backoffCapMs,
      random: o.random,
    });
    const wait = Math.max(backoff, retryAfterMs ?? 0);
    if (o.deadline - o.now() - wait < o.minAttemptMs) {
      // Waiting as asked would leave no time to try again: report now, inside the budget.
      return {
        ok: false,
        error,
        attempts,
        final: false,
        outOfTime: true,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      };
    }
    await o.sleep(wait);
  }
  return { ok: false, error, attempts, final: false, outOfTime: false };
}
