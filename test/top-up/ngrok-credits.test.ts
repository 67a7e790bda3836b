/**
 * The credit purchase client against a local stand-in of ngrok that implements its
 * idempotency rules (test/support/ngrok-credits-stand-in.ts), served over real HTTP. Sleep
 * and jitter are injected, so retries take no real time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import {
  NgrokApiError,
  type NgrokClientOptions,
  parseJson,
} from '../../lambda/ngrok/ngrok-client.ts';
import {
  type CreditGrant,
  createCreditPurchase,
  fetchCreditGrants,
  getCreditPurchase,
  ledgerFacts,
  parseGrants,
} from '../../lambda/ngrok/ngrok-credits.ts';
import { startHttpServer, type TestHttpServer } from '../support/http-server.ts';
import { CreditsStandIn, creditsHandler } from '../support/ngrok-credits-stand-in.ts';

const KEY = 'ngrok-test-key-DO-NOT-LOG-1234';
const IDEMPOTENCY_KEY = 'ngrok-balance-alert-2026-12-1-1';
const request = { amountCents: 2000, idempotencyKey: IDEMPOTENCY_KEY };

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

type Before = (req: IncomingMessage, res: ServerResponse, body: string) => boolean;

async function standIn(before?: Before): Promise<{
  ngrok: CreditsStandIn;
  server: TestHttpServer;
  options: NgrokClientOptions;
}> {
  const ngrok = new CreditsStandIn();
  const server = await startHttpServer(creditsHandler(ngrok, before));
  servers.push(server);
  const waits: number[] = [];
  const options: NgrokClientOptions = {
    baseUrl: server.url,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    attemptTimeoutMs: 2_000,
  };
  return { ngrok, server, options };
}

const budget = () => ({ deadline: Date.now() + 30_000 });

/** Answers the first `times` requests with `status` and `body`, then lets the stand-in answer. */
function failFirst(times: number, status: number, body = '{}'): Before {
  let left = times;
  return (_req, res) => {
    if (left-- <= 0) return false;
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    return true;
  };
}

function errorBody(status: number, msg: string, details: Record<string, string>): string {
  return JSON.stringify({ statusCode: status, msg, details });
}

describe('createCreditPurchase', () => {
  test('sends the amount, the Idempotency-Key and the key, and reports the purchase', async () => {
    // Prepare
    const { ngrok, server, options } = await standIn();
    // Act
    const report = await createCreditPurchase(KEY, request, budget(), options);
    // Assess
    expect(report).toEqual({
      kind: 'purchase',
      purchase: {
        id: 'cp_1',
        status: 'pending',
        amountCents: 2000,
        createdAt: ngrok.purchases[0]?.createdAt,
      },
    });
    expect(server.requests).toHaveLength(1);
    const [sent] = server.requests;
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/credits/purchases');
    expect(sent?.headers['idempotency-key']).toBe(IDEMPOTENCY_KEY);
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(ngrok.purchases.map((p) => [p.key, p.amountCents])).toEqual([[IDEMPOTENCY_KEY, 2000]]);
  });

  test('a repeat with the same key replays the first attempt and charges nothing more', async () => {
    const { ngrok, options } = await standIn();
    const first = await createCreditPurchase(KEY, request, budget(), options);
    ngrok.settle('cp_1', 'succeeded');
    const second = await createCreditPurchase(KEY, request, budget(), options);
    expect(first).toMatchObject({ purchase: { id: 'cp_1', status: 'pending' } });
    expect(second).toMatchObject({ purchase: { id: 'cp_1', status: 'succeeded' } });
    expect(ngrok.purchases).toHaveLength(1);
  });

  test('5xx answers are retried with the same key, and one purchase results', async () => {
    const { ngrok, server, options } = await standIn(failFirst(2, 503));
    const report = await createCreditPurchase(KEY, request, budget(), options);
    expect(report).toMatchObject({ kind: 'purchase', purchase: { id: 'cp_1' } });
    expect(server.requests.map((r) => r.headers['idempotency-key'])).toEqual([
      IDEMPOTENCY_KEY,
      IDEMPOTENCY_KEY,
      IDEMPOTENCY_KEY,
    ]);
    expect(ngrok.purchases).toHaveLength(1);
  });

  test('a request that landed but timed out is retried and replays the same purchase', async () => {
    // Prepare: the first attempt reaches ngrok, which starts the purchase but never answers.
    let ngrokRef: CreditsStandIn | undefined;
    let stalled = false;
    const { ngrok, server, options } = await standIn((req, _res, body) => {
      if (stalled) return false;
      stalled = true;
      const key = req.headers['idempotency-key'] as string;
      ngrokRef?.create((JSON.parse(body) as { amount: number }).amount, key);
      return true;
    });
    ngrokRef = ngrok;
    // Act
    const report = await createCreditPurchase(KEY, request, budget(), {
      ...options,
      attemptTimeoutMs: 300,
    });
    // Assess
    expect(report).toMatchObject({ kind: 'purchase', purchase: { id: 'cp_1' } });
    expect(server.requests).toHaveLength(2);
    expect(ngrok.purchases).toHaveLength(1);
  });

  test('after every retry failed the outcome is unavailable, without the key in the message', async () => {
    const echo = errorBody(502, `upstream rejected Bearer ${KEY}`, {});
    const { ngrok, server, options } = await standIn(failFirst(99, 502, echo));
    const report = await createCreditPurchase(KEY, request, budget(), options);
    expect(report).toEqual({
      kind: 'unavailable',
      message: 'POST /credits/purchases failed with HTTP 502: upstream rejected Bearer [redacted]',
    });
    expect(server.requests).toHaveLength(4);
    expect(ngrok.purchases).toHaveLength(0);
  });

  test('a 409 for a reused key names the purchase to follow', async () => {
    const { options } = await standIn();
    await createCreditPurchase(KEY, request, budget(), options);
    const report = await createCreditPurchase(
      KEY,
      { ...request, amountCents: 500 },
      budget(),
      options,
    );
    expect(report).toEqual({
      kind: 'follow',
      purchaseId: 'cp_1',
      reason: 'idempotency_key_reuse',
    });
  });

  test('a 409 purchase_in_progress names the unresolved purchase', async () => {
    const { options } = await standIn();
    await createCreditPurchase(KEY, request, budget(), options);
    const report = await createCreditPurchase(
      KEY,
      { ...request, idempotencyKey: 'other' },
      budget(),
      options,
    );
    expect(report).toEqual({ kind: 'follow', purchaseId: 'cp_1', reason: 'purchase_in_progress' });
  });

  test('a 409 without a purchase id is unavailable: it may have landed', async () => {
    const body = errorBody(409, 'conflict', { reason: 'purchase_in_progress' });
    const { options } = await standIn(failFirst(1, 409, body));
    const report = await createCreditPurchase(KEY, request, budget(), options);
    expect(report).toEqual({
      kind: 'unavailable',
      message: 'POST /credits/purchases failed with HTTP 409: conflict',
    });
  });

  test.each([
    ['no_default_payment_method', 'no_default_payment_method'],
    ['metronome_not_provisioned', 'metronome_not_provisioned'],
  ] as const)('a 400 %s is a refusal that stops buying', async (reason, expected) => {
    const { ngrok, options } = await standIn();
    ngrok.refuseWith = reason;
    const report = await createCreditPurchase(KEY, request, budget(), options);
    expect(report).toEqual({ kind: 'refused', reason: expected });
  });

  test('a 400 saying credit billing is disabled is a refusal', async () => {
    const body = errorBody(400, 'Credit billing is disabled for this account', {});
    const { options } = await standIn(failFirst(1, 400, body));
    const report = await createCreditPurchase(KEY, request, budget(), options);
    expect(report).toEqual({ kind: 'refused', reason: 'billing_disabled' });
  });

  test('any other 4xx is rejected at once, with ngrok’s message', async () => {
    const { server, options } = await standIn();
    const report = await createCreditPurchase(
      KEY,
      { ...request, idempotencyKey: 'k'.repeat(256) },
      budget(),
      options,
    );
    expect(report).toEqual({
      kind: 'rejected',
      message:
        'POST /credits/purchases failed with HTTP 400: purchase refused: invalid_idempotency_key',
    });
    expect(server.requests).toHaveLength(1);
  });

  test('a 429 is rate-limited after one request: the next run tries again', async () => {
    const { server, options } = await standIn(failFirst(9, 429));
    const report = await createCreditPurchase(KEY, request, budget(), options);
    expect(report).toEqual({ kind: 'rate-limited' });
    expect(server.requests).toHaveLength(1);
  });

  test('an amount that is not exact integer cents is not trusted', async () => {
    const body = JSON.stringify({ id: 'cp_1', status: 'pending', currency: 'usd' });
    const { options } = await standIn((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(body.replace('}', ',"amountCents":2e3}'));
      return true;
    });
    const report = await createCreditPurchase(KEY, request, budget(), options);
    expect(report).toEqual({
      kind: 'unavailable',
      message: 'POST /credits/purchases returned amountCents 2e3, which is not an integer',
    });
  });

  test('with no time left nothing is sent', async () => {
    const { server, options } = await standIn();
    const report = await createCreditPurchase(KEY, request, { deadline: Date.now() }, options);
    expect(report).toEqual({
      kind: 'unavailable',
      message: 'POST /credits/purchases was not attempted: no time was left in the run',
    });
    expect(server.requests).toHaveLength(0);
  });

  test('a key that cannot be sent is an auth error, not a request', async () => {
    const { options } = await standIn();
    await expect(createCreditPurchase('bad key', request, budget(), options)).rejects.toThrow(
      NgrokApiError,
    );
  });
});

describe('getCreditPurchase', () => {
  test('reports the purchase with ngrok’s decline reason', async () => {
    const { ngrok, server, options } = await standIn();
    ngrok.create(2000, 'k');
    ngrok.settle('cp_1', 'failed', { failureCode: 'insufficient_funds' });
    const report = await getCreditPurchase(KEY, 'cp_1', budget(), options);
    expect(report).toEqual({
      kind: 'purchase',
      purchase: {
        id: 'cp_1',
        status: 'failed',
        amountCents: 2000,
        createdAt: ngrok.purchases[0]?.createdAt,
        failureCode: 'insufficient_funds',
        failureMessage: 'Your card was declined.',
      },
    });
    expect(server.requests[0]?.method).toBe('GET');
  });

  test('escapes the id in the path', async () => {
    const { server, options } = await standIn();
    const report = await getCreditPurchase(KEY, 'cp/../x?y', budget(), options);
    expect(server.requests[0]?.url).toBe('/credits/purchases/cp%2F..%2Fx%3Fy');
    expect(report).toEqual({
      kind: 'unavailable',
      message: 'GET /credits/purchases/cp%2F..%2Fx%3Fy failed with HTTP 404: purchase not found',
    });
  });

  test.each([
    ['an unknown status', { id: 'cp_1', status: 'refunded', amountCents: 1 }, 'status "refunded"'],
    ['no id', { status: 'pending', amountCents: 1 }, 'no purchase id'],
    ['an array', [], 'a body that is not a JSON object'],
    [
      'a fractional amount',
      { id: 'cp_1', status: 'pending', amountCents: 1.5 },
      'amountCents 1.5, which is not an integer',
    ],
  ])('a body with %s is unavailable, to be read again later', async (_name, body, problem) => {
    const { options } = await standIn((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return true;
    });
    const report = await getCreditPurchase(KEY, 'cp_1', budget(), options);
    expect(report).toEqual({
      kind: 'unavailable',
      message: `GET /credits/purchases/cp_1 returned ${problem}`,
    });
  });

  test('a 429 on a read is waited out within the run', async () => {
    const { ngrok, server, options } = await standIn(failFirst(1, 429));
    ngrok.create(2000, 'k');
    const report = await getCreditPurchase(KEY, 'cp_1', budget(), options);
    expect(report).toMatchObject({ kind: 'purchase' });
    expect(server.requests).toHaveLength(2);
  });
});

describe('fetchCreditGrants and ledgerFacts', () => {
  const NOW = new Date('2026-12-10T00:00:00Z');

  test('skips a refund row (a negative amount): the rest of the list stays readable', () => {
    const body = parseJson(
      JSON.stringify({
        items: [
          { type: 'credits', amountCents: -2000, createdAt: '2026-12-03T00:00:00Z' },
          {
            type: 'credits',
            category: 'purchase',
            amountCents: 2000,
            createdAt: '2026-12-02T00:00:00Z',
          },
        ],
      }),
      '/credits/transactions',
    );
    expect(parseGrants(body)).toEqual([
      {
        amountCents: 2000,
        createdAt: '2026-12-02T00:00:00.000Z',
        category: 'purchase',
        expiresAt: null,
      },
    ]);
  });

  test('reads the grants, skipping invoices', async () => {
    const { ngrok, options } = await standIn((req, res) => {
      if (req.url !== '/credits/transactions') return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          items: [
            {
              type: 'usageInvoicePreview',
              createdAt: '2026-12-09T00:00:00Z',
              periodStart: '2026-12-01T00:00:00Z',
              periodEnd: '2027-01-01T00:00:00Z',
              totalCents: 10,
              appliedCreditsCents: 10,
              amountDueCents: 0,
            },
            ...ngrok.transactions(),
          ],
        }),
      );
      return true;
    });
    ngrok.now = () => new Date('2026-12-02T10:00:00+02:00');
    ngrok.buyByHand(2000);
    const grants = await fetchCreditGrants(KEY, budget(), options);
    expect(grants).toEqual([
      {
        amountCents: 2000,
        createdAt: '2026-12-02T08:00:00.000Z',
        category: 'purchase',
        expiresAt: null,
      },
    ]);
  });

  test('reads when each grant expires, and refuses an expiry that is not a time', async () => {
    const grant = {
      type: 'credits',
      category: 'purchase',
      amountCents: 1000,
      createdAt: '2025-12-10T08:00:00Z',
    };
    const answer = (items: unknown[]) =>
      fetchCreditGrants(KEY, budget(), {
        baseUrl: 'http://ngrok.test',
        sleep: async () => {},
        fetch: async () =>
          new Response(JSON.stringify({ items }), {
            status: 200,
            headers: { 'content-type': 'application/json' },
          }),
      });

    const grants = await answer([
      { ...grant, expiresAt: '2026-12-10T10:00:00+02:00' },
      { ...grant, expiresAt: null },
    ]);

    expect(grants.map((g) => g.expiresAt)).toEqual(['2026-12-10T08:00:00.000Z', null]);
    await expect(answer([{ ...grant, expiresAt: 'next year' }])).rejects.toThrow(
      'GET /credits/transactions returned item 0 with expiresAt "next year"',
    );
  });

  test.each([
    ['no items', {}, 'no items array'],
    ['an item without a type', { items: [{}] }, 'item 0 without a type'],
    [
      'a grant with a fractional amount',
      { items: [{ type: 'credits', category: 'purchase', amountCents: 1.5, createdAt: 'x' }] },
      'amountCents 1.5, which is not an integer in item 0',
    ],
    [
      'an unknown category',
      { items: [{ type: 'credits', category: 'gift', amountCents: 1, createdAt: 'x' }] },
      'item 0 with category "gift"',
    ],
    [
      'a grant without a time',
      { items: [{ type: 'credits', category: 'purchase', amountCents: 1, createdAt: 'soon' }] },
      'item 0 without a createdAt time',
    ],
  ])(
    'refuses a body with %s: a ledger read in part could understate purchases',
    async (_n, body, problem) => {
      const { options } = await standIn((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return true;
      });
      await expect(fetchCreditGrants(KEY, budget(), options)).rejects.toThrow(
        `GET /credits/transactions returned ${problem}`,
      );
    },
  );

  test('a failed read throws, with the status', async () => {
    const { options } = await standIn(failFirst(9, 403, errorBody(403, 'forbidden', {})));
    const error = await fetchCreditGrants(KEY, budget(), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NgrokApiError);
    expect(error).toMatchObject({
      kind: 'auth',
      status: 403,
      message: 'GET /credits/transactions failed with HTTP 403: forbidden',
    });
  });

  test('a network failure throws a transient error', async () => {
    const { options } = await standIn();
    const error = await fetchCreditGrants(KEY, budget(), {
      ...options,
      baseUrl: 'http://127.0.0.1:9',
      maxAttempts: 2,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'transient', name: 'NgrokApiError' });
  });

  const grant = (createdAt: string, category: CreditGrant['category'] = 'purchase') => ({
    amountCents: 500,
    createdAt,
    category,
    expiresAt: null,
  });

  test('keeps purchases only, and reports a list cut after the month began as unreadable', () => {
    expect(
      ledgerFacts(
        [grant('2026-12-05T00:00:00.000Z'), grant('2026-12-04T00:00:00.000Z', 'promotional')],
        NOW,
      ),
    ).toEqual({
      readable: true,
      purchases: [
        { amountCents: 500, createdAt: '2026-12-05T00:00:00.000Z', category: 'purchase' },
      ],
    });
    const cutInMonth = Array.from({ length: 100 }, () => grant('2026-12-01T00:00:00.000Z'));
    expect(ledgerFacts(cutInMonth, NOW)).toEqual({ readable: false });
    // The cap looks back as far as the clock skew allowed: the list must reach before that.
    const cutBefore = [...cutInMonth.slice(1), grant('2026-11-30T23:59:59.999Z')];
    expect(ledgerFacts(cutBefore, NOW).readable).toBe(true);
    expect(ledgerFacts(cutInMonth.slice(1), NOW).readable).toBe(true);
    expect(ledgerFacts(undefined, NOW)).toEqual({ readable: false });
  });
});
