/**
 * The three ngrok.ai calls auto top-up makes: start a purchase (POST /credits/purchases with
 * an Idempotency-Key), read one (GET /credits/purchases/{id}) and read the ledger
 * (GET /credits/transactions). Same guarantees as the balance client: every wait bounded by
 * the deadline, the API key never in an error, bodies capped and validated, cents exact.
 *
 * The purchase calls answer with a `PurchaseReport` for the decisions instead of throwing:
 * each HTTP outcome means something different for money (a 409 names a purchase to follow,
 * a 429 charged nothing, a 503 may or may not have charged). A POST is retried within the
 * run only where a repeat is safe and useful: on 5xx, 408, timeouts and network errors,
 * always with the same key, so a retry of a request that did land replays it.
 */
import {
  backoffDelay,
  definedOnly,
  isTimeoutError,
  networkErrorReason,
  parseRetryAfter,
  readCapped,
  sleep,
} from '../common/http-retry.ts';
import {
  CLOCK_SKEW_MS,
  type LedgerFacts,
  type LedgerPurchase,
  type PurchaseRecord,
  type PurchaseReport,
  type StopReason,
} from '../watches/top-up/decide.ts';
import {
  type CallBudget,
  DEFAULT_NGROK_API_URL,
  NgrokApiError,
  type NgrokClientOptions,
  type ParsedBody,
  parseJson,
  readInteger,
  redactError,
} from './ngrok-client.ts';

const RESOLVED: Required<Omit<NgrokClientOptions, 'fetch'>> = {
  baseUrl: DEFAULT_NGROK_API_URL,
  sleep,
  random: Math.random,
  now: Date.now,
  maxAttempts: 4,
  attemptTimeoutMs: 10_000,
  backoffBaseMs: 250,
  backoffCapMs: 4_000,
};

/** One purchase record is a small object. */
const MAX_PURCHASE_BYTES = 16 * 1024;
/** At most 100 rows per source, three sources, a few hundred bytes a row. */
const MAX_TRANSACTIONS_BYTES = 1024 * 1024;
/** Error bodies are read only this far: a proxy's page says nothing useful. */
const MAX_ERROR_BYTES = 16 * 1024;
const MIN_ATTEMPT_MS = 50;
/** ngrok lists each source's newest rows only, this many. */
export const TRANSACTIONS_SOURCE_LIMIT = 100;

const HEADER_SAFE = /^[\x21-\x7e]+$/;
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;
const STATUSES: readonly PurchaseRecord['status'][] = [
  'pending',
  'actionRequired',
  'succeeded',
  'failed',
];
/** 400 reasons after which no purchase can succeed until the user changes something. */
const STOP_REASONS: Readonly<Record<string, Exclude<StopReason, 'failures'>>> = {
  no_default_payment_method: 'no_default_payment_method',
  metronome_not_provisioned: 'metronome_not_provisioned',
};

export interface PurchaseRequest {
  readonly amountCents: number;
  readonly idempotencyKey: string;
}

/**
 * POST /credits/purchases. Never throws for an HTTP or network outcome: see
 * `PurchaseReport` for what each one means. Throws NgrokApiError only when the key cannot
 * be sent at all.
 */
export async function createCreditPurchase(
  apiKey: string,
  request: PurchaseRequest,
  budget: CallBudget,
  options: NgrokClientOptions = {},
): Promise<PurchaseReport> {
  const path = '/credits/purchases';
  const outcome = await send(
    {
      method: 'POST',
      path,
      body: JSON.stringify({ amount: request.amountCents }),
      headers: { 'idempotency-key': request.idempotencyKey },
      maxBytes: MAX_PURCHASE_BYTES,
    },
    apiKey,
    budget,
    options,
  );
  if (outcome.kind === 'network') return { kind: 'unavailable', message: outcome.message };
  if (outcome.kind === 'ok') return readPurchase(outcome.body, `POST ${path}`);
  const { status, error } = outcome;
  if (
    status === 409 &&
    error.purchaseId &&
    (error.reason === 'idempotency_key_reuse' || error.reason === 'purchase_in_progress')
  ) {
    return { kind: 'follow', purchaseId: error.purchaseId, reason: error.reason };
  }
  if (status === 429) return { kind: 'rate-limited' };
  if (status === 400) {
    const reason = STOP_REASONS[error.reason ?? ''];
    if (reason) return { kind: 'refused', reason };
    if (/credit billing/i.test(error.text) && /disabled/i.test(error.text)) {
      return { kind: 'refused', reason: 'billing_disabled' };
    }
  }
  const message = describeStatus(`POST ${path}`, status, error.text);
  // A 409 without a purchase to follow, a 408 or 5xx after every retry: it may have landed.
  // (Any other 4xx started nothing with this request; the decisions still keep the key, as an
  // earlier send of it may have landed.)
  if (status === 409 || status === 408 || status >= 500) return { kind: 'unavailable', message };
  return { kind: 'rejected', message };
}

/** GET /credits/purchases/{id}. Every failure is `unavailable`: following it later is safe. */
export async function getCreditPurchase(
  apiKey: string,
  purchaseId: string,
  budget: CallBudget,
  options: NgrokClientOptions = {},
): Promise<PurchaseReport> {
  const path = `/credits/purchases/${encodeURIComponent(purchaseId)}`;
  const outcome = await send(
    { method: 'GET', path, maxBytes: MAX_PURCHASE_BYTES, retry429: true },
    apiKey,
    budget,
    options,
  );
  if (outcome.kind === 'network') return { kind: 'unavailable', message: outcome.message };
  if (outcome.kind === 'ok') return readPurchase(outcome.body, `GET ${path}`);
  return {
    kind: 'unavailable',
    message: describeStatus(`GET ${path}`, outcome.status, outcome.error.text),
  };
}

/** The credit grants GET /credits/transactions lists, validated; invoices are left out. */
export interface CreditGrant extends LedgerPurchase {
  readonly category: 'purchase' | 'promotional';
  /** RFC 3339; null when the grant never expires (or the API gave no time). */
  readonly expiresAt: string | null;
}

/**
 * GET /credits/transactions, the grants it lists (newest first). Throws NgrokApiError when
 * the call fails or a grant is malformed: a ledger read in part could understate what was
 * bought, so the caller must treat it as unreadable.
 */
export async function fetchCreditGrants(
  apiKey: string,
  budget: CallBudget,
  options: NgrokClientOptions = {},
): Promise<CreditGrant[]> {
  const path = '/credits/transactions';
  const outcome = await send(
    { method: 'GET', path, maxBytes: MAX_TRANSACTIONS_BYTES, retry429: true },
    apiKey,
    budget,
    options,
  );
  if (outcome.kind === 'network') throw outcome.error;
  if (outcome.kind === 'status') {
    throw new NgrokApiError(
      describeStatus(`GET ${path}`, outcome.status, outcome.error.text),
      outcome.status === 401 || outcome.status === 403 ? 'auth' : 'transient',
      outcome.status,
    );
  }
  return parseGrants(outcome.body);
}

/**
 * The ledger facts for the decisions: the purchase grants (and refund rows), or unreadable
 * when the list was cut (ngrok keeps each source's newest 100 rows) after the earliest month
 * the cap may look at began (`now` less the clock skew allowed), so some of its purchases
 * might be missing.
 */
export function ledgerFacts(grants: readonly CreditGrant[] | undefined, now: Date): LedgerFacts {
  if (grants === undefined) return { readable: false };
  const early = new Date(now.getTime() - CLOCK_SKEW_MS);
  const monthStart = Date.UTC(early.getUTCFullYear(), early.getUTCMonth(), 1);
  const oldest = grants.reduce(
    (min, g) => Math.min(min, Date.parse(g.createdAt)),
    Number.POSITIVE_INFINITY,
  );
  if (grants.length >= TRANSACTIONS_SOURCE_LIMIT && oldest >= monthStart) {
    return { readable: false };
  }
  return {
    readable: true,
    purchases: grants
      .filter((g) => g.category === 'purchase')
      .map(({ amountCents, createdAt, category }) => ({ amountCents, createdAt, category })),
  };
}

/** Validates the grants of a transactions body; other item types are skipped. */
export function parseGrants(body: ParsedBody): CreditGrant[] {
  const fail = (what: string) =>
    new NgrokApiError(`GET /credits/transactions returned ${what}`, 'transient', 200);
  const { value } = body;
  if (!isObject(value) || !Array.isArray(value.items)) throw fail('no items array');
  const grants: CreditGrant[] = [];
  value.items.forEach((item: unknown, index: number) => {
    if (!isObject(item) || typeof item.type !== 'string')
      throw fail(`item ${index} without a type`);
    if (item.type !== 'credits') return;
    const amount = readInteger(body, item, 'amountCents');
    if (!amount.ok) throw fail(`${amount.problem} in item ${index}`);
    // A negative amount is a refund row, not a grant: skipped, the rest stays readable (the
    // cap then counts the refunded purchase's grant as long as ngrok lists it: careful).
    if (amount.value < 0) return;
    if (item.category !== 'purchase' && item.category !== 'promotional') {
      throw fail(`item ${index} with category ${show(item.category)}`);
    }
    if (typeof item.createdAt !== 'string' || Number.isNaN(Date.parse(item.createdAt))) {
      throw fail(`item ${index} without a createdAt time`);
    }
    if (
      item.expiresAt !== undefined &&
      item.expiresAt !== null &&
      (typeof item.expiresAt !== 'string' || Number.isNaN(Date.parse(item.expiresAt)))
    ) {
      throw fail(`item ${index} with expiresAt ${show(item.expiresAt)}`);
    }
    grants.push({
      amountCents: amount.value,
      createdAt: new Date(item.createdAt).toISOString(),
      category: item.category,
      expiresAt: typeof item.expiresAt === 'string' ? new Date(item.expiresAt).toISOString() : null,
    });
  });
  return grants;
}

/** Validates a purchase record; a malformed one is `unavailable` (follow it again later). */
export function readPurchase(body: ParsedBody, what: string): PurchaseReport {
  const { value } = body;
  const bad = (problem: string): PurchaseReport => ({
    kind: 'unavailable',
    message: `${what} returned ${problem}`,
  });
  if (!isObject(value)) return bad('a body that is not a JSON object');
  if (typeof value.id !== 'string' || value.id === '') return bad('no purchase id');
  const status = value.status as PurchaseRecord['status'];
  if (!STATUSES.includes(status)) return bad(`status ${show(value.status)}`);
  const amount = readInteger(body, value, 'amountCents');
  if (!amount.ok) return bad(amount.problem);
  const text = (key: string) => {
    const field = value[key];
    return typeof field === 'string' ? field.slice(0, 300) : undefined;
  };
  const createdAt =
    typeof value.createdAt === 'string' && !Number.isNaN(Date.parse(value.createdAt))
      ? new Date(value.createdAt).toISOString()
      : undefined;
  return {
    kind: 'purchase',
    purchase: definedOnly({
      id: value.id,
      status,
      amountCents: amount.value,
      createdAt,
      failureCode: text('failureCode'),
      failureMessage: text('failureMessage'),
    }) as PurchaseRecord,
  };
}

interface ErrorFacts {
  /** `errorCode msg`, redacted and shortened. */
  readonly text: string;
  readonly reason?: string;
  readonly purchaseId?: string;
}

type Outcome =
  | { readonly kind: 'ok'; readonly body: ParsedBody }
  | { readonly kind: 'status'; readonly status: number; readonly error: ErrorFacts }
  | { readonly kind: 'network'; readonly message: string; readonly error: NgrokApiError };

interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly maxBytes: number;
  /** GETs may wait out a 429 within the run; a purchase's 429 is for a later run. */
  readonly retry429?: boolean;
}

/**
 * One call with retries: every attempt sends the same method, body and headers (for a POST,
 * the same Idempotency-Key). Ends with the first 2xx, the first status that a retry cannot
 * change, or the last failure once attempts or time run out.
 */
async function send(
  call: Call,
  apiKey: string,
  budget: CallBudget,
  options: NgrokClientOptions,
): Promise<Outcome> {
  const o = { ...RESOLVED, ...definedOnly(options) };
  const doFetch = options.fetch ?? fetch;
  const url = new URL(call.path.replace(/^\/+/, ''), `${o.baseUrl.replace(/\/+$/, '')}/`);
  const what = `${call.method} ${call.path}`;
  const key = apiKey.trim();
  const redact = (text: string) => (key ? text.split(key).join('[redacted]') : text);
  if (!HEADER_SAFE.test(key)) {
    throw new NgrokApiError(
      `the API key for ${what} is empty or contains characters that cannot be sent in an HTTP header`,
      'auth',
    );
  }
  let last: Outcome = {
    kind: 'network',
    message: `${what} was not attempted: no time was left in the run`,
    error: new NgrokApiError(`${what} was not attempted: no time was left in the run`, 'transient'),
  };
  for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
    const timeLeft = budget.deadline - o.now();
    if (timeLeft < MIN_ATTEMPT_MS) break;
    const timeoutMs = Math.floor(Math.min(o.attemptTimeoutMs, timeLeft));
    let retryAfterMs: number | undefined;
    try {
      const response = await doFetch(url, {
        method: call.method,
        headers: {
          authorization: `Bearer ${key}`,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...call.headers,
        },
        body: call.body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      if (response.ok) return await readOk(response, call, what, redact);
      const error = await readError(response, redact);
      last = { kind: 'status', status: response.status, error };
      const retryable =
        response.status === 408 ||
        response.status >= 500 ||
        (response.status === 429 && call.retry429 === true);
      if (!retryable) return last;
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), o.now());
    } catch (caught) {
      const message = isTimeoutError(caught)
        ? `${what} timed out after ${timeoutMs} ms`
        : caught instanceof NgrokApiError
          ? caught.message
          : `${what} failed: ${redact(networkErrorReason(caught)).slice(0, 200)}`;
      last = {
        kind: 'network',
        message,
        error:
          caught instanceof NgrokApiError
            ? caught
            : new NgrokApiError(message, 'transient', undefined, {
                cause: redactError(caught, redact),
              }),
      };
    }
    if (attempt === o.maxAttempts) break;
    const wait = Math.max(
      backoffDelay(attempt, { baseMs: o.backoffBaseMs, capMs: o.backoffCapMs, random: o.random }),
      retryAfterMs ?? 0,
    );
    if (budget.deadline - o.now() - wait < MIN_ATTEMPT_MS) break;
    await o.sleep(wait);
  }
  return last;
}

/** A 2xx body: JSON of the expected size, or an NgrokApiError (caught as a retryable failure). */
async function readOk(
  response: Response,
  call: Call,
  what: string,
  redact: (text: string) => string,
): Promise<Outcome> {
  const type = response.headers.get('content-type') ?? '';
  if (!JSON_TYPE.test(type.trim())) {
    await response.body?.cancel().catch(() => undefined);
    throw new NgrokApiError(
      `${what} returned content type "${redact(type).slice(0, 60)}" instead of JSON`,
      'transient',
      response.status,
    );
  }
  const { text, truncated } = await readCapped(response, call.maxBytes);
  if (truncated) {
    throw new NgrokApiError(
      `${what} returned more than the ${call.maxBytes} bytes expected`,
      'transient',
      response.status,
    );
  }
  try {
    return { kind: 'ok', body: parseJson(text, call.path) };
  } catch {
    throw new NgrokApiError(`${what} returned a body that is not JSON`, 'transient', 200);
  }
}

/** ngrok's error body, if it has that shape: code, message and the details money needs. */
async function readError(
  response: Response,
  redact: (text: string) => string,
): Promise<ErrorFacts> {
  try {
    const { text } = await readCapped(response, MAX_ERROR_BYTES);
    const body: unknown = JSON.parse(text);
    if (!isObject(body)) return { text: '' };
    const parts = [body.errorCode, body.msg].filter((p): p is string => typeof p === 'string');
    const details = isObject(body.details) ? body.details : {};
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v.slice(0, 200) : undefined);
    return {
      text: redact(parts.join(' ')).slice(0, 200),
      reason: str(details.reason),
      purchaseId: str(details.purchase_id),
    };
  } catch {
    return { text: '' };
  }
}

function describeStatus(what: string, status: number, detail: string): string {
  return `${what} failed with HTTP ${status}${detail ? `: ${detail}` : ''}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 40) ?? String(value);
}
