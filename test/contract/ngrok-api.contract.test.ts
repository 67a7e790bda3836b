/**
 * Contract tests: the client against Prism mocks of openapi/ngrok-ai.yaml.
 *
 * - `strict` (`--errors`): Prism validates every request against the spec and answers 401
 *   or 422 when one does not match, so a request the client sends and gets a 200 for is
 *   one the published API accepts. With `Prefer: dynamic=true` it also generates a fresh
 *   random body per request (no seed: a failure message quotes the body it got).
 * - `seeded` (`-d --seed`): bodies generated from the schemas, reproducibly.
 *
 * Every generated body must either parse to exactly what the JSON says or be refused with
 * an NgrokApiError: never a rounded number, never another exception.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAccessKeyNames, parseAccessKeyPage } from '../../lambda/ngrok/access-keys.ts';
import {
  fetchCreditBalance,
  fetchUsageOverview,
  getJson,
  NgrokApiError,
  type NgrokClientOptions,
  type UsageOverviewBody,
} from '../../lambda/ngrok/ngrok-client.ts';
import { summariseUsage } from '../../lambda/observe/forecast.ts';
import { type PrismServer, startPrism } from './prism.ts';

const KEY = 'ngrok-test-key-DO-NOT-LOG-1234';
const SEED = '20261124';
/** Generated bodies checked per kind of call. */
const CALLS = 30;
const START = new Date('2026-11-17T00:00:00Z');
const END = new Date('2026-11-24T12:00:00Z');

let strict: PrismServer | undefined;
let seeded: PrismServer | undefined;

beforeAll(async () => {
  // Started side by side: each takes seconds on a small machine. If one fails, the other
  // is still stopped in afterAll.
  const [a, b] = await Promise.allSettled([
    startPrism({ args: ['--errors'] }),
    startPrism({ args: ['-d', '--seed', SEED, '--errors'] }),
  ]);
  if (a.status === 'fulfilled') strict = a.value;
  if (b.status === 'fulfilled') seeded = b.value;
  for (const result of [a, b]) if (result.status === 'rejected') throw result.reason;
});

afterAll(async () => {
  await Promise.all([strict?.stop(), seeded?.stop()]);
});

function server(which: PrismServer | undefined): PrismServer {
  if (!which) throw new Error('Prism is not running');
  return which;
}

interface Exchange {
  readonly url: URL;
  readonly requestHeaders: Headers;
  readonly status: number;
  /** Prism's list of request violations, when it found any. */
  readonly violations: string | null;
  readonly body: string;
}

/**
 * A fetch that records each exchange (reading a clone of the body) and can add headers or
 * drop the Authorization header on the way out.
 */
function recordingFetch(
  change: { add?: Record<string, string>; dropAuthorization?: boolean } = {},
): { fetch: typeof fetch; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(change.add ?? {})) headers.set(name, value);
    if (change.dropAuthorization) headers.delete('authorization');
    const response = await fetch(input, { ...init, headers });
    const body = await response.clone().text();
    exchanges.push({
      url: new URL(String(input)),
      requestHeaders: headers,
      status: response.status,
      violations: response.headers.get('sl-violations'),
      body,
    });
    return response;
  };
  return { fetch: wrapped, exchanges };
}

function clientOptions(prism: PrismServer, fetchImpl: typeof fetch): NgrokClientOptions {
  return {
    baseUrl: prism.url,
    fetch: fetchImpl,
    sleep: async () => undefined,
    maxAttempts: 3,
    attemptTimeoutMs: 10_000,
  };
}

const budget = () => ({ deadline: Date.now() + 60_000 });

async function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/** The exact integer a JSON body spells for balanceCents, or undefined if it spells none. */
function spelledCents(body: string): bigint | undefined {
  const match = /"balanceCents"\s*:\s*(-?\d+)\s*[,}]/.exec(body);
  return match?.[1] === undefined ? undefined : BigInt(match[1]);
}

describe('requests validate against the spec', () => {
  test('GET /credits/balance with the client’s request: 200, no violations', async () => {
    const prism = server(strict);
    const { fetch: f, exchanges } = recordingFetch();
    const cents = await fetchCreditBalance(KEY, budget(), clientOptions(prism, f));
    expect(Number.isSafeInteger(cents)).toBe(true);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]?.status).toBe(200);
    expect(exchanges[0]?.violations).toBeNull();
    expect(exchanges[0]?.requestHeaders.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(BigInt(cents)).toBe(spelledCents(exchanges[0]?.body ?? ''));
  });

  test.each(['accessKey', 'provider'] as const)(
    'GET /usage/overview with groupBy=%s: 200, no violations',
    async (groupBy) => {
      const prism = server(strict);
      const { fetch: f, exchanges } = recordingFetch();
      const overview = await fetchUsageOverview(
        KEY,
        { startTime: START, endTime: END, groupBy },
        budget(),
        clientOptions(prism, f),
      );
      expect(Array.isArray(overview.buckets)).toBe(true);
      expect(exchanges).toHaveLength(1);
      const [exchange] = exchanges;
      expect(exchange?.status).toBe(200);
      expect(exchange?.violations).toBeNull();
      expect(exchange?.url.searchParams.get('groupBy')).toBe(groupBy);
      expect(exchange?.url.searchParams.get('startTime')).toBe(START.toISOString());
    },
  );

  test('GET /usage/overview with only the required startTime: 200', async () => {
    const { fetch: f, exchanges } = recordingFetch();
    await fetchUsageOverview(KEY, { startTime: START }, budget(), clientOptions(server(strict), f));
    expect(exchanges[0]?.status).toBe(200);
    expect(exchanges[0]?.violations).toBeNull();
  });

  // The same checks with raw requests prove Prism would notice a bad one.
  test.each([
    ['without startTime', '/usage/overview?groupBy=accessKey'],
    ['with a startTime that is not RFC 3339', '/usage/overview?startTime=yesterday'],
    ['with an unknown groupBy', `/usage/overview?startTime=${START.toISOString()}&groupBy=model`],
  ])('Prism rejects a request %s with 422', async (_name, path) => {
    const response = await fetch(`${server(strict).url}${path}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    await response.body?.cancel();
    expect(response.status).toBe(422);
    expect(response.headers.get('sl-violations')).toBeTruthy();
  });

  test.each([
    ['no Authorization header', undefined],
    ['a Basic credential', 'Basic dXNlcjpwYXNz'],
  ])('Prism rejects a request with %s with 401', async (_name, authorization) => {
    const response = await fetch(`${server(strict).url}/credits/balance`, {
      headers: authorization ? { authorization } : {},
    });
    await response.body?.cancel();
    expect(response.status).toBe(401);
  });

  test('the client maps a 401 for a missing bearer to an auth failure, without retrying', async () => {
    const { fetch: f, exchanges } = recordingFetch({ dropAuthorization: true });
    const result = await settle(
      fetchCreditBalance(KEY, budget(), clientOptions(server(strict), f)),
    );
    expect('error' in result && result.error).toBeInstanceOf(NgrokApiError);
    const error = (result as { error: NgrokApiError }).error;
    expect(error.kind).toBe('auth');
    expect(error.status).toBe(401);
    expect(exchanges).toHaveLength(1);
  });
});

describe('generated bodies parse exactly or are refused cleanly', () => {
  const sources = () =>
    [
      ['seeded', server(seeded), {}],
      ['strict, dynamic', server(strict), { Prefer: 'dynamic=true' }],
    ] as const;

  test(`balance: ${CALLS} calls per mock`, async () => {
    let parsed = 0;
    for (const [name, prism, add] of sources()) {
      const { fetch: f, exchanges } = recordingFetch({ add });
      for (let i = 0; i < CALLS; i++) {
        const result = await settle(fetchCreditBalance(KEY, budget(), clientOptions(prism, f)));
        const body = exchanges.at(-1)?.body ?? '';
        const context = `${name} mock, call ${i}, body ${body}`;
        const spelled = spelledCents(body);
        const exact =
          spelled !== undefined && spelled >= -(2n ** 53n - 1n) && spelled <= 2n ** 53n - 1n;
        if ('value' in result) {
          expect(exact, context).toBe(true);
          expect(BigInt(result.value), context).toBe(spelled);
          parsed++;
        } else {
          expect(result.error, context).toBeInstanceOf(NgrokApiError);
          expect((result.error as NgrokApiError).kind, context).toBe('transient');
          expect(exact, context).toBe(false);
        }
      }
      expect(exchanges.every((e) => e.status === 200 && e.violations === null)).toBe(true);
      if (name !== 'seeded') {
        // A seed makes every body the same; without one, the calls must see different bodies.
        expect(new Set(exchanges.map((e) => e.body)).size).toBeGreaterThan(1);
      }
    }
    // Prism keeps int64 within the safe range, so these should parse; if none did, the
    // test would prove nothing about the happy path.
    expect(parsed).toBeGreaterThan(0);
  });

  test(`usage overview: ${CALLS} calls per mock, both groupings`, async () => {
    let parsed = 0;
    for (const [name, prism, add] of sources()) {
      const { fetch: f, exchanges } = recordingFetch({ add });
      for (let i = 0; i < CALLS; i++) {
        const groupBy = i % 2 === 0 ? 'accessKey' : 'provider';
        const result = await settle(
          fetchUsageOverview(
            KEY,
            { startTime: START, endTime: END, groupBy },
            budget(),
            clientOptions(prism, f),
          ),
        );
        const body = exchanges.at(-1)?.body ?? '';
        const context = `${name} mock, call ${i}, body ${body}`;
        if ('value' in result) {
          const overview: UsageOverviewBody = result.value;
          // Returned as sent: nothing rounded, nothing dropped.
          expect(overview, context).toEqual(JSON.parse(body));
          const counts = [overview.totals, ...overview.buckets].flatMap((b) => [
            b.requests,
            b.errors,
          ]);
          expect(counts.every(Number.isSafeInteger), context).toBe(true);
          // The forecast copes with whatever the schema allows (costs that are not amounts).
          expect(() => summariseUsage(overview, END, 7), context).not.toThrow();
          parsed++;
        } else {
          expect(result.error, context).toBeInstanceOf(NgrokApiError);
          expect((result.error as NgrokApiError).kind, context).toBe('transient');
        }
      }
      expect(exchanges.every((e) => e.status === 200 && e.violations === null)).toBe(true);
      if (name !== 'seeded') {
        expect(new Set(exchanges.map((e) => e.body)).size).toBeGreaterThan(1);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});

describe('forced error responses (Prefer: code=...)', () => {
  test.each([429, 500, 503])(
    '%i is retried up to maxAttempts, then a transient error',
    async (code) => {
      const { fetch: f, exchanges } = recordingFetch({ add: { Prefer: `code=${code}` } });
      const result = await settle(
        fetchCreditBalance(KEY, budget(), clientOptions(server(strict), f)),
      );
      expect('error' in result && result.error).toBeInstanceOf(NgrokApiError);
      const error = (result as { error: NgrokApiError }).error;
      expect(error.kind).toBe('transient');
      expect(error.status).toBe(code);
      expect(exchanges.map((e) => e.status)).toEqual([code, code, code]);
    },
  );

  test.each([401, 403])('%i is an auth failure after one request', async (code) => {
    const { fetch: f, exchanges } = recordingFetch({ add: { Prefer: `code=${code}` } });
    const result = await settle(
      fetchUsageOverview(KEY, { startTime: START }, budget(), clientOptions(server(seeded), f)),
    );
    const error = (result as { error: NgrokApiError }).error;
    expect(error).toBeInstanceOf(NgrokApiError);
    expect(error.kind).toBe('auth');
    expect(exchanges).toHaveLength(1);
  });

  test('generated error bodies never leak into the message beyond msg and errorCode', async () => {
    const { fetch: f, exchanges } = recordingFetch({
      add: { Prefer: 'code=404, dynamic=true' },
    });
    const result = await settle(
      fetchCreditBalance(KEY, budget(), clientOptions(server(strict), f)),
    );
    const error = (result as { error: NgrokApiError }).error;
    expect(error).toBeInstanceOf(NgrokApiError);
    expect(error.status).toBe(404);
    expect(exchanges).toHaveLength(1);
    const body = JSON.parse(exchanges[0]?.body ?? '{}') as { msg?: string; errorCode?: string };
    const detail = [body.errorCode, body.msg].filter(Boolean).join(' ').slice(0, 200);
    expect(error.message).toBe(
      `GET /credits/balance failed with HTTP 404${detail ? `: ${detail}` : ''}`,
    );
  });
});

describe('GET /access-keys', () => {
  test('the client’s paged requests validate: 200, no violations, 100 a page', async () => {
    const { fetch: f, exchanges } = recordingFetch();
    const names = await fetchAccessKeyNames(KEY, budget(), clientOptions(server(strict), f));
    expect(names.size).toBeGreaterThan(0);
    expect(exchanges.length).toBeGreaterThan(0);
    for (const exchange of exchanges) {
      expect(exchange.status).toBe(200);
      expect(exchange.violations).toBeNull();
      expect(exchange.url.searchParams.get('limit')).toBe('100');
    }
    // The static example page names a next page: the client must have asked for it by id.
    expect(exchanges[1]?.url.searchParams.get('beforeId')).toBeTruthy();
  });

  test('Prism rejects a page size over 100 with 422', async () => {
    const response = await fetch(`${server(strict).url}/access-keys?limit=101`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    await response.body?.cancel();
    expect(response.status).toBe(422);
  });

  test(`generated pages: ${CALLS} per mock parse to their keys or are refused cleanly`, async () => {
    let parsed = 0;
    for (const [name, prism, add] of [
      ['seeded', server(seeded), {}],
      ['strict, dynamic', server(strict), { Prefer: 'dynamic=true' }],
    ] as const) {
      const { fetch: f, exchanges } = recordingFetch({ add });
      for (let i = 0; i < CALLS; i++) {
        const result = await settle(
          getJson('/access-keys?limit=100', KEY, budget(), clientOptions(prism, f), 1024 * 1024),
        );
        const body = exchanges.at(-1)?.body ?? '';
        const context = `${name} mock, call ${i}, body ${body}`;
        expect('value' in result, context).toBe(true);
        const page = await settle(
          Promise.resolve().then(() =>
            parseAccessKeyPage(
              (result as { value: Parameters<typeof parseAccessKeyPage>[0] }).value,
            ),
          ),
        );
        if ('value' in page) {
          const sent = (JSON.parse(body) as { aiGatewayAccessKeys: { id: string }[] })
            .aiGatewayAccessKeys;
          expect(
            page.value.keys.map((k) => k.id),
            context,
          ).toEqual(sent.map((k) => k.id));
          parsed++;
        } else {
          // The schema allows an empty id string, which cannot name a key.
          expect(page.error, context).toBeInstanceOf(NgrokApiError);
        }
      }
      expect(exchanges.every((e) => e.status === 200 && e.violations === null)).toBe(true);
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
