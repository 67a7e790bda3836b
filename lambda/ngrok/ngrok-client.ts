/**
 * The two ngrok.ai API calls the monitor makes, with the failure handling an alerting
 * system needs: every wait is bounded by a deadline, transient failures are retried with
 * capped exponential backoff and full jitter, and nothing the server sends is trusted
 * before it is validated. The API key never appears in an error, its message or its cause,
 * even when the server echoes it back.
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
} from '../common/http-retry.ts';
import type { UsageOverview } from '../observe/forecast.ts';

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

export interface NgrokClientOptions extends RetryOptions {
  /** Base URL without a trailing path, e.g. https://api.ngrok.ai. */
  readonly baseUrl?: string;
}

export interface CallBudget {
  /** Epoch milliseconds after which no attempt starts and every wait is cut short. */
  readonly deadline: number;
}

const RESOLVED: Required<Omit<NgrokClientOptions, 'fetch'>> = {
  baseUrl: DEFAULT_NGROK_API_URL,
  sleep,
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
 * Reads daily usage buckets. The body is returned after a structural check of every field
 * of `UsageOverview`; the cost strings are parsed by the forecast, which treats an
 * unreadable one as missing data.
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
    `/usage/overview?${params.toString()}`,
    apiKey,
    budget,
    options,
    MAX_OVERVIEW_BYTES,
  );
  return parseUsageOverview(body);
}

/** The 200 body of GET /usage/overview; the forecast owns the definition. */
export type UsageOverviewBody = UsageOverview;

/** A parsed JSON document and the source text of each number in it. */
export interface ParsedBody {
  readonly value: unknown;
  /**
   * Source text of every number, by the object or array holding it and then its key (an
   * array index as a string). Keyed by holder, not by key alone, so a nested property of
   * the same name cannot stand in for the one being validated. Empty on a runtime whose
   * JSON.parse does not expose source text (before Node 21).
   */
  readonly numberSources: WeakMap<object, ReadonlyMap<string, string>>;
}

type Redact = (text: string) => string;

/** Printable ASCII: what an API key is made of, and what an HTTP header can carry. */
export const HEADER_SAFE_KEY = /^[\x21-\x7e]+$/;

/**
 * One GET with the client's deadline, retries, size cap and key redaction; the body parsed
 * but not validated. For the calls that live in modules of their own (access-keys.ts).
 */
export async function getJson(
  path: string,
  apiKey: string,
  budget: CallBudget,
  options: NgrokClientOptions,
  maxBytes: number,
): Promise<ParsedBody> {
  const o = { ...RESOLVED, ...definedOnly(options) };
  const doFetch = options.fetch ?? fetch;
  // The base URL may carry a path prefix (a proxy): resolve the path below it, not at its root.
  const url = new URL(path.replace(/^\/+/, ''), `${o.baseUrl.replace(/\/+$/, '')}/`);
  // Messages name the call without its query: an URL-encoded query says nothing to a reader.
  const where = path.split('?')[0] as string;
  // A key pasted with a trailing newline is still the key; fetch would trim it anyway, and
  // redaction must look for the text that is actually sent.
  const key = apiKey.trim();
  const redact: Redact = (text) => (key ? text.split(key).join('[redacted]') : text);
  if (!HEADER_SAFE_KEY.test(key)) {
    // fetch would reject the header with a message quoting it; no retry can help.
    throw new NgrokApiError(
      `the API key for GET ${where} is empty or contains characters that cannot be sent in an HTTP header`,
      'auth',
    );
  }

  const result = await retry<ParsedBody, NgrokApiError>({
    ...o,
    deadline: budget.deadline,
    minAttemptMs: MIN_ATTEMPT_MS,
    attempt: async (attemptTimeout) => {
      try {
        const response = await doFetch(url, {
          headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
          signal: AbortSignal.timeout(attemptTimeout),
          redirect: 'error',
        });
        if (response.ok) {
          await assertJsonContentType(response, where, redact);
          const text = await readBody(response, maxBytes, where);
          return { done: parseJson(text, where) };
        }
        const detail = await describeErrorBody(response, redact);
        const error = new NgrokApiError(
          statusMessage(response.status, where, detail),
          response.status === 401 || response.status === 403 ? 'auth' : 'transient',
          response.status,
        );
        return { error, retry: isRetryableStatus(response.status), response };
      } catch (caught) {
        // A 200 that is not the API we know is not retried: it would be the same again.
        if (caught instanceof NgrokApiError) return { error: caught, retry: false };
        const error = new NgrokApiError(
          describeNetworkError(caught, where, attemptTimeout, redact),
          'transient',
          undefined,
          // The original error may quote the request (an injected fetch, a proxy agent).
          { cause: redactError(caught, redact) },
        );
        return { error, retry: true };
      }
    },
  });
  if (result.ok) return result.value;
  throw (
    result.error ??
    new NgrokApiError(`GET ${where} was not attempted: no time was left in the run`, 'transient')
  );
}

/**
 * The whole body, or an error: a body larger than the API sends is refused, before it is read
 * when its content-length says so, else as soon as it passes `maxBytes`.
 */
async function readBody(response: Response, maxBytes: number, path: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new NgrokApiError(
      `GET ${path} returned ${declared} bytes, more than the ${maxBytes} expected`,
      'transient',
      response.status,
    );
  }
  const { text, truncated } = await readCapped(response, maxBytes);
  if (truncated) {
    throw new NgrokApiError(
      `GET ${path} returned more than the ${maxBytes} bytes expected`,
      'transient',
      response.status,
    );
  }
  return text;
}

/** Checks the content type before the body is read; a non-JSON body is never downloaded. */
async function assertJsonContentType(
  response: Response,
  path: string,
  redact: Redact,
): Promise<void> {
  const type = response.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type.trim())) {
    await response.body?.cancel().catch(() => undefined);
    throw new NgrokApiError(
      `GET ${path} returned content type "${redact(type).slice(0, 60)}" instead of JSON`,
      'transient',
      response.status,
    );
  }
}

/** An integer as JSON spells one exactly: no fraction, no exponent. */
const INTEGER_LITERAL = /^-?(0|[1-9]\d*)$/;

export function parseJson(text: string, path: string): ParsedBody {
  const numberSources = new WeakMap<object, Map<string, string>>();
  // The reviver's third argument exposes each number's source text, so 1e3, 1.0 and an
  // integer beyond 2^53 (which JSON.parse would silently round) can be told apart. `this`
  // is the object or array holding the property.
  function reviver(
    this: unknown,
    key: string,
    value: unknown,
    context?: { source?: string },
  ): unknown {
    if (typeof value === 'number' && context?.source !== undefined && typeof this === 'object') {
      const holder = this as object;
      let sources = numberSources.get(holder);
      if (!sources) {
        sources = new Map();
        numberSources.set(holder, sources);
      }
      sources.set(key, context.source);
    }
    return value;
  }
  let value: unknown;
  try {
    value = JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
  } catch {
    // No cause: the SyntaxError quotes the body, which may echo the request.
    throw new NgrokApiError(`GET ${path} returned a body that is not JSON`, 'transient', 200);
  }
  return { value, numberSources };
}

export type IntegerCheck = { ok: true; value: number } | { ok: false; problem: string };

/**
 * Reads `holder[key]` as an integer the JSON spelled exactly and that a number holds
 * exactly. Without source text (older runtimes) an integer-valued number such as 1e3 is
 * accepted; a value beyond 2^53 is still refused, since it is not a safe integer.
 */
export function readInteger(body: ParsedBody, holder: object, key: string): IntegerCheck {
  const value: unknown = (holder as Record<string, unknown>)[key];
  if (value === undefined) return { ok: false, problem: `no ${key}` };
  if (typeof value !== 'number') {
    return { ok: false, problem: `${key} of type ${value === null ? 'null' : typeof value}` };
  }
  const source = body.numberSources.get(holder)?.get(key);
  const shown = (source ?? String(value)).slice(0, 30);
  if (source !== undefined ? !INTEGER_LITERAL.test(source) : !Number.isInteger(value)) {
    return { ok: false, problem: `${key} ${shown}, which is not an integer` };
  }
  if (!Number.isSafeInteger(value)) {
    return { ok: false, problem: `${key} ${shown}, beyond the range that can be read exactly` };
  }
  // -0 is an integer literal; report it as the 0 it means.
  return { ok: true, value: value === 0 ? 0 : value };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates `{"balanceCents": <integer>}` exactly; extra fields are ignored, so a field
 * ngrok adds later does not break the monitor.
 */
export function parseBalance(body: ParsedBody): number {
  const { value } = body;
  if (!isPlainObject(value)) {
    throw new NgrokApiError(
      'GET /credits/balance returned a body that is not a JSON object',
      'transient',
      200,
    );
  }
  const cents = readInteger(body, value, 'balanceCents');
  if (!cents.ok) {
    throw new NgrokApiError(`GET /credits/balance returned ${cents.problem}`, 'transient', 200);
  }
  return cents.value;
}

/**
 * Validates every field of `UsageOverview`: strings where it has strings, exact safe
 * integers where it has counts. Extra fields are ignored. The cost strings and bucket
 * dates are not interpreted here; the forecast does that.
 */
export function parseUsageOverview(body: ParsedBody): UsageOverviewBody {
  const fail = (what: string) =>
    new NgrokApiError(`GET /usage/overview returned ${what}`, 'transient', 200);
  const { value } = body;
  if (!isPlainObject(value)) throw fail('a body that is not a JSON object');
  if (typeof value.uri !== 'string') throw fail('no uri string');
  if (!Array.isArray(value.buckets)) throw fail('no buckets array');
  const counts = (holder: Record<string, unknown>, where: string) => {
    for (const key of ['requests', 'errors']) {
      const check = readInteger(body, holder, key);
      if (!check.ok) throw fail(`${check.problem} in ${where}`);
    }
  };
  value.buckets.forEach((bucket: unknown, index: number) => {
    if (
      !isPlainObject(bucket) ||
      typeof bucket.bucketStart !== 'string' ||
      typeof bucket.groupKey !== 'string' ||
      typeof bucket.cost !== 'string'
    ) {
      throw fail(`bucket ${index} without bucketStart, groupKey and cost strings`);
    }
    counts(bucket, `bucket ${index}`);
  });
  const { totals } = value;
  if (!isPlainObject(totals) || typeof totals.cost !== 'string') {
    throw fail('no totals with a cost string');
  }
  counts(totals, 'totals');
  return value as unknown as UsageOverviewBody;
}

function statusMessage(status: number, path: string, detail: string): string {
  const suffix = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    return `ngrok.ai rejected the API key (HTTP ${status}) on GET ${path}${suffix}`;
  }
  return `GET ${path} failed with HTTP ${status}${suffix}`;
}

/**
 * The ngrok error body's code and message, if it has that shape; never the raw body (a
 * proxy's HTML page says nothing useful). Redacted before it is shortened, so a cut cannot
 * leave part of an echoed key behind.
 */
async function describeErrorBody(response: Response, redact: Redact): Promise<string> {
  try {
    const text = await readBody(response, MAX_BALANCE_BYTES, '');
    const body: unknown = JSON.parse(text);
    if (!isPlainObject(body)) return '';
    const parts = [body.errorCode, body.msg].filter((p): p is string => typeof p === 'string');
    return redact(parts.join(' ')).slice(0, 200);
  } catch {
    return '';
  }
}

function describeNetworkError(
  error: unknown,
  path: string,
  timeoutMs: number,
  redact: Redact,
): string {
  if (isTimeoutError(error)) return `GET ${path} timed out after ${timeoutMs} ms`;
  return `GET ${path} failed: ${redact(networkErrorReason(error)).slice(0, 200)}`;
}

/**
 * A copy of an error and its causes with the key removed from every message and stack:
 * what a fetch implementation puts in its errors is not ours to trust.
 */
export function redactError(error: unknown, redact: Redact, depth = 0): Error {
  if (!(error instanceof Error)) return new Error(redact(String(error)).slice(0, 500));
  const copy = new Error(redact(error.message));
  copy.name = error.name;
  copy.stack = error.stack === undefined ? copy.stack : redact(error.stack);
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' || typeof code === 'number') Object.assign(copy, { code });
  if (error.cause !== undefined && depth < 4) {
    copy.cause = redactError(error.cause, redact, depth + 1);
  }
  return copy;
}
