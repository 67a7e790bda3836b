/**
 * The two ngrok.ai API calls the monitor makes, with the failure handling an alerting
 * system needs: every wait is bounded by a deadline, transient failures are retried with
 * capped exponential backoff and full jitter, and nothing the server sends is trusted
 * before it is validated.
 */

export const DEFAULT_NGROK_API_URL = 'https://api.ngrok.ai';

/** Why a call failed, in the terms the alert policy cares about. */
export type NgrokFailureKind = 'auth' | 'transient';

export class NgrokApiError extends Error {
  override readonly name = 'NgrokApiError';
  constructor(
    message: string,
    /** `auth` for 401/403 (retrying cannot help); `transient` for everything else. */
    readonly kind: NgrokFailureKind,
    /** The HTTP status of the last attempt, when there was one. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface NgrokClientOptions {
  /** Base URL without a trailing path, e.g. https://api.ngrok.ai. */
  readonly baseUrl?: string;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Returns a number in [0, 1); drives the backoff jitter. */
  readonly random?: () => number;
  /** Epoch milliseconds; the deadline is measured against it. */
  readonly now?: () => number;
  /** Total attempts, first one included. */
  readonly maxAttempts?: number;
  /** Upper bound for one attempt, further bounded by the deadline. */
  readonly attemptTimeoutMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
}

export interface CallBudget {
  /** Epoch milliseconds after which no attempt starts and every wait is cut short. */
  readonly deadline: number;
}

const RESOLVED: Required<Omit<NgrokClientOptions, 'fetch'>> = {
  baseUrl: DEFAULT_NGROK_API_URL,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: Date.now,
  maxAttempts: 4,
  attemptTimeoutMs: 5_000,
  backoffBaseMs: 250,
  backoffCapMs: 4_000,
};

/** The balance body is one small object; anything bigger is not the API we know. */
const MAX_BALANCE_BYTES = 16 * 1024;
/** Seven days of daily buckets for a few hundred access keys fits comfortably. */
const MAX_OVERVIEW_BYTES = 2 * 1024 * 1024;
/** An attempt with less time than this left is not worth starting. */
const MIN_ATTEMPT_MS = 50;

/**
 * Reads the account's credit balance in cents. Negative balances are valid (the balance
 * can briefly overdraw); anything that is not exactly an integer is an error, never a
 * healthy balance.
 */
export async function fetchCreditBalance(
  apiKey: string,
  budget: CallBudget,
  options: NgrokClientOptions = {},
): Promise<number> {
  const body = await getJson('/credits/balance', apiKey, budget, options, MAX_BALANCE_BYTES);
  return parseBalance(body);
}

export interface UsageOverviewQuery {
  readonly startTime: Date;
  readonly endTime?: Date;
  readonly groupBy?: 'provider' | 'accessKey';
}

/**
 * Reads daily usage buckets. The body is returned after a structural check; the cost
 * strings are parsed by the forecast, which treats an unreadable one as missing data.
 */
export async function fetchUsageOverview(
  apiKey: string,
  query: UsageOverviewQuery,
  budget: CallBudget,
  options: NgrokClientOptions = {},
): Promise<UsageOverviewBody> {
  const params = new URLSearchParams({ startTime: query.startTime.toISOString() });
  if (query.endTime) params.set('endTime', query.endTime.toISOString());
  if (query.groupBy) params.set('groupBy', query.groupBy);
  const body = await getJson(
    `/usage/overview?${params}`,
    apiKey,
    budget,
    options,
    MAX_OVERVIEW_BYTES,
  );
  return parseUsageOverview(body);
}

export interface UsageOverviewBucket {
  readonly bucketStart: string;
  readonly groupKey: string;
  readonly cost: string;
  readonly requests: number;
  readonly errors: number;
}

export interface UsageOverviewBody {
  readonly uri: string;
  readonly buckets: readonly UsageOverviewBucket[];
  readonly totals: { readonly cost: string; readonly requests: number; readonly errors: number };
}

/** The raw text of a JSON document and the source text of each integer in it. */
interface ParsedBody {
  readonly value: unknown;
  /** Source text of every number, keyed by the property that held it. */
  readonly numberSources: ReadonlyMap<string, string>;
}

async function getJson(
  path: string,
  apiKey: string,
  budget: CallBudget,
  options: NgrokClientOptions,
  maxBytes: number,
): Promise<ParsedBody> {
  const o = { ...RESOLVED, ...stripUndefined(options) };
  const doFetch = options.fetch ?? fetch;
  const url = new URL(path, `${o.baseUrl.replace(/\/+$/, '')}/`);
  const redact = (text: string) => (apiKey ? text.split(apiKey).join('[redacted]') : text);

  let lastError: NgrokApiError | undefined;
  for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
    const timeLeft = budget.deadline - o.now();
    if (timeLeft < MIN_ATTEMPT_MS) break;
    const attemptTimeout = Math.min(o.attemptTimeoutMs, timeLeft);
    let retryAfterMs: number | undefined;
    try {
      const response = await doFetch(url, {
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(attemptTimeout),
        redirect: 'error',
      });
      if (response.ok) {
        const text = await readCapped(response, maxBytes, path);
        assertJsonContentType(response, path);
        return parseJson(text, path);
      }
      const detail = redact(await describeErrorBody(response));
      const error = new NgrokApiError(
        statusMessage(response.status, path, detail),
        response.status === 401 || response.status === 403 ? 'auth' : 'transient',
        response.status,
      );
      if (!isRetryableStatus(response.status)) throw error;
      lastError = error;
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), o.now());
    } catch (caught) {
      if (caught instanceof NgrokApiError && caught !== lastError) throw caught;
      if (!(caught instanceof NgrokApiError)) {
        lastError = new NgrokApiError(
          redact(describeNetworkError(caught, path, attemptTimeout)),
          'transient',
          undefined,
          { cause: caught },
        );
      }
    }
    if (attempt === o.maxAttempts) break;
    const backoff = o.random() * Math.min(o.backoffCapMs, o.backoffBaseMs * 2 ** (attempt - 1));
    const wait = Math.max(backoff, retryAfterMs ?? 0);
    const leftAfterWait = budget.deadline - o.now() - wait;
    if (leftAfterWait < MIN_ATTEMPT_MS) {
      // Waiting as asked would leave no time to try again: report now, inside the budget.
      break;
    }
    await o.sleep(wait);
  }
  throw (
    lastError ??
    new NgrokApiError(`GET ${path} was not attempted: no time was left in the run`, 'transient')
  );
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** 408, 429 and 5xx may pass; other 4xx mean the request itself is wrong. */
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
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

async function readCapped(response: Response, maxBytes: number, path: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new NgrokApiError(
      `GET ${path} returned ${declared} bytes, more than the ${maxBytes} expected`,
      'transient',
      response.status,
    );
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new NgrokApiError(
        `GET ${path} returned more than the ${maxBytes} bytes expected`,
        'transient',
        response.status,
      );
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function assertJsonContentType(response: Response, path: string): void {
  const type = response.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type.trim())) {
    throw new NgrokApiError(
      `GET ${path} returned content type "${type.slice(0, 60)}" instead of JSON`,
      'transient',
      response.status,
    );
  }
}

function parseJson(text: string, path: string): ParsedBody {
  const numberSources = new Map<string, string>();
  try {
    // The reviver's third argument exposes each number's source text, so an integer
    // beyond 2^53 (which JSON.parse would silently round) can be told apart.
    const reviver = (key: string, value: unknown, context?: { source?: string }) => {
      if (typeof value === 'number' && context?.source !== undefined) {
        numberSources.set(key, context.source);
      }
      return value;
    };
    const value: unknown = JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
    return { value, numberSources };
  } catch (cause) {
    throw new NgrokApiError(`GET ${path} returned a body that is not JSON`, 'transient', 200, {
      cause,
    });
  }
}

/** Validates `{"balanceCents": <integer>}` exactly; extra fields are ignored. */
export function parseBalance(body: ParsedBody): number {
  const { value } = body;
  const fail = (what: string) =>
    new NgrokApiError(`GET /credits/balance returned ${what}`, 'transient', 200);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('a body that is not a JSON object');
  }
  if (!('balanceCents' in value)) throw fail('no balanceCents');
  const cents = (value as { balanceCents: unknown }).balanceCents;
  if (typeof cents !== 'number') throw fail(`balanceCents of type ${typeof cents}`);
  const source = body.numberSources.get('balanceCents') ?? String(cents);
  if (!/^-?(0|[1-9]\d*)$/.test(source)) {
    throw fail(`balanceCents ${source.slice(0, 30)}, which is not an integer`);
  }
  if (!Number.isSafeInteger(cents)) {
    throw fail(`balanceCents ${source.slice(0, 30)}, beyond the range that can be read exactly`);
  }
  return cents;
}

export function parseUsageOverview(body: ParsedBody): UsageOverviewBody {
  const value = body.value as Partial<UsageOverviewBody> | null;
  const fail = (what: string) =>
    new NgrokApiError(`GET /usage/overview returned ${what}`, 'transient', 200);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('a body that is not a JSON object');
  }
  if (!Array.isArray(value.buckets)) throw fail('no buckets array');
  for (const bucket of value.buckets as unknown[]) {
    const b = bucket as Partial<UsageOverviewBucket> | null;
    if (
      typeof b !== 'object' ||
      b === null ||
      typeof b.bucketStart !== 'string' ||
      typeof b.groupKey !== 'string' ||
      typeof b.cost !== 'string'
    ) {
      throw fail('a bucket without bucketStart, groupKey and cost strings');
    }
  }
  return value as UsageOverviewBody;
}

function statusMessage(status: number, path: string, detail: string): string {
  const suffix = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    return `ngrok.ai rejected the API key (HTTP ${status}) on GET ${path}${suffix}`;
  }
  return `GET ${path} failed with HTTP ${status}${suffix}`;
}

/** The ngrok error body's message and code, if it has that shape; never the raw body. */
async function describeErrorBody(response: Response): Promise<string> {
  try {
    const text = await readCapped(response, MAX_BALANCE_BYTES, '');
    const body = JSON.parse(text) as { msg?: unknown; errorCode?: unknown };
    const parts = [body.errorCode, body.msg].filter((p): p is string => typeof p === 'string');
    return parts.join(' ').slice(0, 200);
  } catch {
    return '';
  }
}

function describeNetworkError(error: unknown, path: string, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `GET ${path} timed out after ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return `GET ${path} failed: ${reason.slice(0, 200)}`;
}
