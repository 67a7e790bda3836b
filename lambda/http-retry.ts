/**
 * The pieces of an HTTP retry that the ngrok.ai client (ngrok-client.ts) and the Slack
 * webhook poster (slack-webhook.ts) share: which statuses may pass on a retry, how long
 * Retry-After asks to wait, the jittered backoff, a size-capped body read and how a failed
 * fetch is described.
 *
 * Each caller keeps its own retry loop: they raise different errors, redact different
 * secrets (an API key, a webhook URL), and differ in what happens after a 2xx (the client
 * reads and validates the body; the poster must not read it, so that a failed read cannot
 * post the message twice).
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
