/**
 * Contract tests of the auto top-up calls against a Prism mock of openapi/ngrok-ai.yaml
 * started with `--errors`: Prism validates every request against the spec (a 422 or 401
 * when one does not match) and, with `Prefer: dynamic=true`, answers with a body
 * generated from the schemas. Every generated body must be read exactly or refused
 * cleanly: never a rounded amount, never an exception the decisions do not expect.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NgrokApiError, type NgrokClientOptions } from '../../lambda/ngrok/ngrok-client.ts';
import {
  createCreditPurchase,
  fetchCreditGrants,
  getCreditPurchase,
} from '../../lambda/ngrok/ngrok-credits.ts';
import { type PrismServer, startPrism } from './prism.ts';

const KEY = 'ngrok-test-key-DO-NOT-LOG-1234';
const IDEMPOTENCY_KEY = 'ngrok-balance-alert-2026-12-1-1';
const CALLS = 20;

let prism: PrismServer | undefined;

beforeAll(async () => {
  prism = await startPrism({ args: ['--errors'] });
});

afterAll(async () => {
  await prism?.stop();
});

interface Exchange {
  readonly method: string;
  readonly url: URL;
  readonly requestHeaders: Headers;
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
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      requestHeaders: headers,
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
  return {
    baseUrl: prism.url,
    fetch: fetchImpl,
    sleep: async () => undefined,
    maxAttempts: 3,
    attemptTimeoutMs: 10_000,
  };
}

const budget = () => ({ deadline: Date.now() + 60_000 });

/** The exact integer a body spells for amountCents, if it spells one. */
function spelledAmount(body: string): bigint | undefined {
  const match = /"amountCents"\s*:\s*(-?\d+)\s*[,}]/.exec(body);
  return match?.[1] === undefined ? undefined : BigInt(match[1]);
}

describe('requests validate against the spec', () => {
  test('POST /credits/purchases with the client’s request: 200, no violations', async () => {
    const { fetch: f, exchanges } = recordingFetch();
    const report = await createCreditPurchase(
      KEY,
      { amountCents: 2000, idempotencyKey: IDEMPOTENCY_KEY },
      budget(),
      options(f),
    );
    expect(['purchase', 'unavailable']).toContain(report.kind);
    expect(exchanges).toHaveLength(report.kind === 'purchase' ? 1 : 3);
    for (const exchange of exchanges) {
      expect(exchange.status).toBe(200);
      expect(exchange.violations).toBeNull();
      expect(exchange.requestHeaders.get('idempotency-key')).toBe(IDEMPOTENCY_KEY);
    }
  });

  test('GET /credits/purchases/{id} and GET /credits/transactions: 200, no violations', async () => {
    const { fetch: f, exchanges } = recordingFetch();
    await getCreditPurchase(KEY, 'cp_123', budget(), options(f));
    await fetchCreditGrants(KEY, budget(), options(f)).catch(() => undefined);
    expect(exchanges.map((e) => [e.url.pathname, e.status, e.violations])).toEqual([
      ['/credits/purchases/cp_123', 200, null],
      ['/credits/transactions', 200, null],
    ]);
  });

  test.each([0, 50_001])('Prism rejects a purchase of %i cents with 422', async (amount) => {
    if (!prism) throw new Error('Prism is not running');
    const response = await fetch(`${prism.url}/credits/purchases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount }),
    });
    await response.body?.cancel();
    expect(response.status).toBe(422);
  });
});

describe('generated bodies are read exactly or refused cleanly', () => {
  test(`purchases: ${CALLS} POSTs and ${CALLS} GETs`, async () => {
    const { fetch: f, exchanges } = recordingFetch({ Prefer: 'dynamic=true' });
    let read = 0;
    for (let i = 0; i < CALLS * 2; i++) {
      const report =
        i % 2 === 0
          ? await createCreditPurchase(
              KEY,
              { amountCents: 500, idempotencyKey: `${IDEMPOTENCY_KEY}-${i}` },
              budget(),
              options(f),
            )
          : await getCreditPurchase(KEY, `cp_${i}`, budget(), options(f));
      const body = exchanges.at(-1)?.body ?? '';
      if (report.kind === 'purchase') {
        expect(BigInt(report.purchase.amountCents), body).toBe(spelledAmount(body));
        expect(['pending', 'actionRequired', 'succeeded', 'failed']).toContain(
          report.purchase.status,
        );
        read++;
      } else {
        expect(report.kind, body).toBe('unavailable');
      }
    }
    expect(exchanges.every((e) => e.status === 200 && e.violations === null)).toBe(true);
    expect(read).toBeGreaterThan(0);
  });

  test(`transactions: ${CALLS} reads`, async () => {
    const { fetch: f, exchanges } = recordingFetch({ Prefer: 'dynamic=true' });
    let read = 0;
    for (let i = 0; i < CALLS; i++) {
      try {
        const grants = await fetchCreditGrants(KEY, budget(), options(f));
        const items = (JSON.parse(exchanges.at(-1)?.body ?? '{}') as { items: { type: string }[] })
          .items;
        expect(grants).toHaveLength(items.filter((item) => item.type === 'credits').length);
        read++;
      } catch (error) {
        expect(error).toBeInstanceOf(NgrokApiError);
      }
    }
    expect(read).toBeGreaterThan(0);
  });
});

describe('forced error responses (Prefer: code=...)', () => {
  test('a 500 is retried with the same key up to maxAttempts, then unavailable', async () => {
    const { fetch: f, exchanges } = recordingFetch({ Prefer: 'code=500' });
    const report = await createCreditPurchase(
      KEY,
      { amountCents: 2000, idempotencyKey: IDEMPOTENCY_KEY },
      budget(),
      options(f),
    );
    expect(report.kind).toBe('unavailable');
    expect(exchanges.map((e) => e.requestHeaders.get('idempotency-key'))).toEqual([
      IDEMPOTENCY_KEY,
      IDEMPOTENCY_KEY,
      IDEMPOTENCY_KEY,
    ]);
  });

  test('a 429 is rate-limited after one request', async () => {
    const { fetch: f, exchanges } = recordingFetch({ Prefer: 'code=429' });
    const report = await createCreditPurchase(
      KEY,
      { amountCents: 2000, idempotencyKey: IDEMPOTENCY_KEY },
      budget(),
      options(f),
    );
    expect(report).toEqual({ kind: 'rate-limited' });
    expect(exchanges).toHaveLength(1);
  });

  test('a generated 409 is followed when it names a purchase, else unavailable', async () => {
    const { fetch: f, exchanges } = recordingFetch({ Prefer: 'code=409, dynamic=true' });
    for (let i = 0; i < 5; i++) {
      const report = await createCreditPurchase(
        KEY,
        { amountCents: 2000, idempotencyKey: IDEMPOTENCY_KEY },
        budget(),
        options(f),
      );
      const body = JSON.parse(exchanges.at(-1)?.body ?? '{}') as {
        details?: Record<string, string>;
      };
      const id = body.details?.purchase_id;
      expect(report).toEqual(
        id
          ? { kind: 'follow', purchaseId: id.slice(0, 200) }
          : expect.objectContaining({ kind: 'unavailable' }),
      );
    }
  });
});
