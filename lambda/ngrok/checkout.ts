/**
 * POST /credits/checkout-session: a Stripe-hosted page on which a person pays for credits.
 * Creating one charges nothing; it is the "Buy $X now" link an alert carries. The call is a
 * nicety beside an alert, so it has a short budget of its own and every failure (including a
 * 200 whose body is not a session with an https URL) is an NgrokApiError the caller turns
 * into "no link this time". Same guarantees as the other calls: every wait inside the
 * deadline, the body capped and checked, the API key never in an error or its cause.
 *
 * A retry is safe: a second POST makes a second session, and an unused session expires on
 * its own (Stripe's default is 24 hours).
 */
import {
  definedOnly,
  isRetryableStatus,
  isTimeoutError,
  networkErrorReason,
  readCapped,
  retry,
  sleep,
} from '../common/http-retry.ts';
import {
  type CallBudget,
  DEFAULT_NGROK_API_URL,
  HEADER_SAFE_KEY,
  NgrokApiError,
  type NgrokClientOptions,
  parseJson,
  redactError,
} from './ngrok-client.ts';

/** Longest a checkout link may take, retries included: it must never hold up an alert. */
export const CHECKOUT_BUDGET_MS = 2_000;

/** ngrok's documented minimum purchase (USD 5), in cents; the checkout page has the same. */
export const MIN_CHECKOUT_CENTS = 500;

const RESOLVED: Required<Omit<NgrokClientOptions, 'fetch'>> = {
  baseUrl: DEFAULT_NGROK_API_URL,
  sleep,
  random: Math.random,
  now: Date.now,
  maxAttempts: 2,
  attemptTimeoutMs: 1_500,
  backoffBaseMs: 100,
  backoffCapMs: 400,
};

/** A session is two short strings; anything bigger is not the API we know. */
const MAX_SESSION_BYTES = 16 * 1024;
/** A URL a chat message, an email and a PagerDuty link can all carry. */
export const MAX_SESSION_URL_CHARS = 2_048;
const MIN_ATTEMPT_MS = 50;
const PATH = '/credits/checkout-session';
const WHAT = `POST ${PATH}`;

export interface CheckoutRequest {
  /** What the page asks the person to pay, in cents (ngrok's minimum is 500). */
  readonly amountCents: number;
}

export interface CheckoutSession {
  readonly sessionId: string;
  /** https only: anything else is refused as a failure. */
  readonly sessionUrl: string;
}

/**
 * Creates a checkout session for `amountCents`. Throws NgrokApiError on any failure:
 * `auth` for 401/403, `transient` for everything else (timeouts, 5xx after a retry, 4xx,
 * a body without a session id or an https URL).
 */
export async function createCheckoutSession(
  apiKey: string,
  request: CheckoutRequest,
  budget: CallBudget,
  options: NgrokClientOptions = {},
): Promise<CheckoutSession> {
  if (!Number.isSafeInteger(request.amountCents) || request.amountCents < MIN_CHECKOUT_CENTS) {
    throw new NgrokApiError(
      `${WHAT} was not sent: ${request.amountCents} cents is not a whole amount of at least ${MIN_CHECKOUT_CENTS}`,
      'transient',
    );
  }
  const o = { ...RESOLVED, ...definedOnly(options) };
  const doFetch = options.fetch ?? fetch;
  const url = new URL(PATH.slice(1), `${o.baseUrl.replace(/\/+$/, '')}/`);
  const key = apiKey.trim();
  const redact = (text: string) => (key ? text.split(key).join('[redacted]') : text);
  if (!HEADER_SAFE_KEY.test(key)) {
    throw new NgrokApiError(
      `the API key for ${WHAT} is empty or contains characters that cannot be sent in an HTTP header`,
      'auth',
    );
  }
  const body = JSON.stringify({ amount: request.amountCents });
  const result = await retry<CheckoutSession, NgrokApiError>({
    ...o,
    deadline: budget.deadline,
    minAttemptMs: MIN_ATTEMPT_MS,
    attempt: async (timeoutMs) => {
      try {
        const response = await doFetch(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            accept: 'application/json',
            'content-type': 'application/json',
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        if (!response.ok) {
          await response.body?.cancel().catch(() => undefined);
          const error = new NgrokApiError(
            `${WHAT} failed with HTTP ${response.status}`,
            response.status === 401 || response.status === 403 ? 'auth' : 'transient',
            response.status,
          );
          return { error, retry: isRetryableStatus(response.status), response };
        }
        // A 200 that is not a session would be the same again: not retried.
        return { done: await readSession(response, redact) };
      } catch (caught) {
        if (caught instanceof NgrokApiError) return { error: caught, retry: false };
        const message = isTimeoutError(caught)
          ? `${WHAT} timed out after ${timeoutMs} ms`
          : `${WHAT} failed: ${redact(networkErrorReason(caught)).slice(0, 200)}`;
        return {
          error: new NgrokApiError(message, 'transient', undefined, {
            cause: redactError(caught, redact),
          }),
          retry: true,
        };
      }
    },
  });
  if (result.ok) return result.value;
  throw (
    result.error ??
    new NgrokApiError(`${WHAT} was not attempted: no time was left in its budget`, 'transient')
  );
}

/** The 200 body as a session, or an NgrokApiError saying what is wrong with it. */
async function readSession(
  response: Response,
  redact: (text: string) => string,
): Promise<CheckoutSession> {
  const fail = (what: string) =>
    new NgrokApiError(`${WHAT} returned ${what}`, 'transient', response.status);
  const type = response.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type.trim())) {
    await response.body?.cancel().catch(() => undefined);
    throw fail(`content type "${redact(type).slice(0, 60)}" instead of JSON`);
  }
  const { text, truncated } = await readCapped(response, MAX_SESSION_BYTES);
  if (truncated) throw fail(`more than the ${MAX_SESSION_BYTES} bytes expected`);
  const { value } = parseJson(text, PATH);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('a body that is not a JSON object');
  }
  const { sessionId, sessionUrl } = value as Record<string, unknown>;
  if (typeof sessionId !== 'string' || sessionId.trim() === '' || sessionId.length > 255) {
    throw fail('no session id');
  }
  if (typeof sessionUrl !== 'string' || !isHttpsUrl(sessionUrl)) {
    throw fail('a session URL that is not an https URL');
  }
  return { sessionId, sessionUrl };
}

/**
 * An absolute https URL with a host, no credentials and no whitespace or control characters,
 * short enough for every channel: the only kind of link an alert may carry from the API.
 */
export function isHttpsUrl(value: string): boolean {
  if (value.length > MAX_SESSION_URL_CHARS || /[\s\p{Cc}]/u.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && !url.username && !url.password;
  } catch {
    return false;
  }
}
