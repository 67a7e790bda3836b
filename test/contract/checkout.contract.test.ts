/**
 * Contract tests of POST /credits/checkout-session against a Prism mock of
 * openapi/ngrok-ai.yaml started with `--errors`: Prism validates the request against the
 * spec (a 422 when it does not match) and, with `Prefer: dynamic=true`, answers with a body
 * generated from the schema. Every generated body must become a session with an https URL or
 * be refused with an NgrokApiError: never another exception, never a non-https link.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createCheckoutSession, isHttpsUrl } from '../../lambda/ngrok/checkout.ts';
import { NgrokApiError, type NgrokClientOptions } from '../../lambda/ngrok/ngrok-client.ts';
import { type PrismServer, startPrism } from './prism.ts';

const KEY = 'ngrok-test-key-DO-NOT-LOG-1234';
const CALLS = 20;

let prism: PrismServer | undefined;

beforeAll(async () => {
  prism = await startPrism({ args: ['--errors'] });
});

afterAll(async () => {
  await prism?.stop();
});

interface Exchange {
  readonly status: number;
  readonly violations: string | null;
  readonly body: string;
}

function recordingFetch(add: Record<string, string> = {}) {
  const exchanges: Exchange[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(add)) headers.set(name, value);
    const response = await fetch(input, { ...init, headers });
    exchanges.push({
      status: response.status,
      violations: response.headers.get('sl-violations'),
      body: await response.clone().text(),
    });
    return response;
  };
  return { fetch: wrapped, exchanges };
}

function options(fetchImpl: typeof fetch): NgrokClientOptions {
  if (!prism) throw new Error('Prism is not running');
  // The production budget is 2 s; Prism on a small machine is given more.
  return {
    baseUrl: prism.url,
    fetch: fetchImpl,
    sleep: async () => undefined,
    attemptTimeoutMs: 10_000,
  };
}

const budget = () => ({ deadline: Date.now() + 30_000 });

describe('POST /credits/checkout-session', () => {
  test('the client’s request validates against the spec: 200, no violations', async () => {
    const { fetch: f, exchanges } = recordingFetch();
    await createCheckoutSession(KEY, { amountCents: 2500 }, budget(), options(f)).catch(
      (error: unknown) => expect(error).toBeInstanceOf(NgrokApiError),
    );
    expect(exchanges.map((e) => [e.status, e.violations])).toEqual([[200, null]]);
  });

  test('Prism rejects an amount of 0 with 422', async () => {
    if (!prism) throw new Error('Prism is not running');
    const response = await fetch(`${prism.url}/credits/checkout-session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 0 }),
    });
    await response.body?.cancel();
    expect(response.status).toBe(422);
  });

  test(`${CALLS} generated bodies: a session with an https URL, or an NgrokApiError`, async () => {
    const { fetch: f, exchanges } = recordingFetch({ Prefer: 'dynamic=true' });
    for (let i = 0; i < CALLS; i++) {
      try {
        const session = await createCheckoutSession(
          KEY,
          { amountCents: 500 + i },
          budget(),
          options(f),
        );
        const body = JSON.parse(exchanges.at(-1)?.body ?? '{}') as Record<string, unknown>;
        expect(session).toEqual({ sessionId: body.sessionId, sessionUrl: body.sessionUrl });
        expect(isHttpsUrl(session.sessionUrl)).toBe(true);
      } catch (error) {
        expect(error, exchanges.at(-1)?.body).toBeInstanceOf(NgrokApiError);
      }
    }
    expect(exchanges.every((e) => e.status === 200 && e.violations === null)).toBe(true);
  });

  test('a forced 500 is retried once within the budget, then an NgrokApiError', async () => {
    const { fetch: f, exchanges } = recordingFetch({ Prefer: 'code=500' });
    await expect(
      createCheckoutSession(KEY, { amountCents: 500 }, budget(), options(f)),
    ).rejects.toThrow(/HTTP 500/);
    expect(exchanges).toHaveLength(2);
  });
});
