/**
 * The ngrok.ai client against a real HTTP server on 127.0.0.1 (and, for the property tests,
 * an injected fetch). Sleep, jitter and, where a test needs it, the clock are injected, so
 * retries take no real time and every recorded wait is exact. The timeout tests use real
 * timers on purpose: they check that a call ends by its deadline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { errorFields } from '../lambda/common/log.ts';
import {
  type CallBudget,
  fetchCreditBalance,
  fetchUsageOverview,
  NgrokApiError,
  type NgrokClientOptions,
  type UsageOverviewBody,
} from '../lambda/ngrok/ngrok-client.ts';
import { startHttpServer, type TestHttpServer } from './support/http-server.ts';

/** Distinctive, so a leak anywhere is found by a plain substring search. */
const KEY = 'ngrok-test-key-DO-NOT-LOG-1234';
const BALANCE_CAP = 16 * 1024;
const OVERVIEW_CAP = 2 * 1024 * 1024;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(...handlers: Handler[]): Promise<TestHttpServer> {
  // Each request gets the next handler; the last one answers every request after that.
  let next = 0;
  const server = await startHttpServer((req, res) => {
    const handler = handlers[Math.min(next++, handlers.length - 1)];
    handler?.(req, res);
  });
  servers.push(server);
  return server;
}

function reply(
  status: number,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Handler {
  return (_req, res) => {
    res.writeHead(status, headers).end(body);
  };
}

const balance = (cents: number | string) => reply(200, `{"balanceCents":${cents}}`);

/** Never answers; the client's timeout must end the wait. */
const hang: Handler = () => undefined;

/** Drops the connection without a response. */
const dropConnection: Handler = (req) => {
  req.socket.destroy();
};

/** A 200 JSON response that streams without a content-length until the client hangs up. */
const endlessBody: Handler = (_req, res) => {
  res.on('error', () => undefined);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"balanceCents":1,"pad":"');
  const chunk = 'x'.repeat(8192);
  const pump = () => {
    while (!res.destroyed && res.write(chunk)) {
      // keep writing until the socket buffer is full
    }
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
};

interface Harness {
  readonly options: NgrokClientOptions;
  /** Every wait the client asked for, in milliseconds. */
  readonly sleeps: number[];
}

/** Options that make retries instant and deterministic: recorded sleeps, fixed jitter. */
function harness(server: TestHttpServer, overrides: NgrokClientOptions = {}): Harness {
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      baseUrl: server.url,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      maxAttempts: 3,
      backoffBaseMs: 250,
      backoffCapMs: 4_000,
      ...overrides,
    },
  };
}

const budget = (ms = 30_000): CallBudget => ({ deadline: Date.now() + ms });

/** Awaits a rejection and checks it is an NgrokApiError; a resolved value fails the test. */
async function rejection(promise: Promise<unknown>): Promise<NgrokApiError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected an NgrokApiError, got ${inspect(value)}`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NgrokApiError);
  return error as NgrokApiError;
}

/** Every way an error reaches a person: message, String(), stack, cause, inspect, log fields. */
function expectNoKey(error: unknown, key = KEY): void {
  const err = error as Error;
  const views = [
    err.message,
    String(err),
    err.stack ?? '',
    String(err.cause),
    inspect(err.cause, { depth: 10, showHidden: true }),
    inspect(err, { depth: 10, showHidden: true }),
    JSON.stringify(errorFields(err)),
  ];
  for (const view of views) expect(view).not.toContain(key);
}

/** Stricter: no 8-character stretch of the key either (a cut message, a quoted snippet). */
function expectNoKeyFragment(error: unknown): void {
  const text = inspect(error, { depth: 10, showHidden: true });
  for (let i = 0; i + 8 <= KEY.length; i++) expect(text).not.toContain(KEY.slice(i, i + 8));
}

describe('fetchCreditBalance: valid responses', () => {
  test.each([
    ['a positive balance', '{"balanceCents":12345}', 12345],
    ['zero', '{"balanceCents":0}', 0],
    ['a negative balance (overdrawn)', '{"balanceCents":-250}', -250],
    ['the largest safe integer', `{"balanceCents":${MAX_SAFE}}`, MAX_SAFE],
    ['the smallest safe integer', `{"balanceCents":${-MAX_SAFE}}`, -MAX_SAFE],
    ['-0, read as 0', '{"balanceCents":-0}', 0],
    ['extra fields, ignored', '{"balanceCents":5,"currency":"usd"}', 5],
    ['whitespace around tokens', ' {\n  "balanceCents" : 7\n}\n', 7],
  ])('%s', async (_name, body, expected) => {
    const server = await serve(reply(200, body));
    const { options, sleeps } = harness(server);
    expect(await fetchCreditBalance(KEY, budget(), options)).toBe(expected);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset=UTF-8',
    'application/vnd.ngrok+json',
  ])('accepts content type %s', async (type) => {
    const server = await serve(reply(200, '{"balanceCents":1}', { 'content-type': type }));
    expect(await fetchCreditBalance(KEY, budget(), harness(server).options)).toBe(1);
  });

  test('sends GET with the key as a Bearer token and asks for JSON', async () => {
    const server = await serve(balance(1));
    await fetchCreditBalance(KEY, budget(), harness(server).options);
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe('/credits/balance');
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers.accept).toBe('application/json');
  });

  test('trims whitespace a pasted key carries, and sends the rest', async () => {
    const server = await serve(balance(1));
    await fetchCreditBalance(`  ${KEY}\n`, budget(), harness(server).options);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  test('keeps a path prefix in the base URL (a proxy in front of the API)', async () => {
    const server = await serve(balance(3));
    const { options } = harness(server, { baseUrl: `${server.url}/proxy/ngrok/` });
    expect(await fetchCreditBalance(KEY, budget(), options)).toBe(3);
    expect(server.requests[0]?.url).toBe('/proxy/ngrok/credits/balance');
  });
});

describe('fetchCreditBalance: invalid 200 bodies are errors, never a balance', () => {
  test.each([
    ['HTML', '<html>maintenance</html>', 'not JSON'],
    ['an empty body', '', 'not JSON'],
    ['truncated JSON', '{"balanceCents": 12', 'not JSON'],
    ['an array', '[1]', 'not a JSON object'],
    ['null', 'null', 'not a JSON object'],
    ['a bare number', '123', 'not a JSON object'],
    ['an empty object', '{}', 'no balanceCents'],
    ['another field only', '{"balance":100}', 'no balanceCents'],
    ['a string', '{"balanceCents":"123"}', 'of type string'],
    ['null cents', '{"balanceCents":null}', 'of type null'],
    ['a boolean', '{"balanceCents":true}', 'of type boolean'],
    ['an object', '{"balanceCents":{"value":1}}', 'of type object'],
    ['a fraction (1.5)', '{"balanceCents":1.5}', 'not an integer'],
    ['an exponent (1e3)', '{"balanceCents":1e3}', 'not an integer'],
    ['an upper-case exponent (1E2)', '{"balanceCents":1E2}', 'not an integer'],
    ['a zero fraction (1.0)', '{"balanceCents":1.0}', 'not an integer'],
    ['a negative exponent form', '{"balanceCents":-1.5e2}', 'not an integer'],
    ['an overflowing exponent (1e400)', '{"balanceCents":1e400}', 'not an integer'],
    ['2^53 + 1', '{"balanceCents":9007199254740993}', 'beyond the range'],
    [
      '2^53 (not safe: 2^53 + 1 reads as it)',
      '{"balanceCents":9007199254740992}',
      'beyond the range',
    ],
    ['-(2^53 + 1)', '{"balanceCents":-9007199254740993}', 'beyond the range'],
    ['an int64 near its maximum', '{"balanceCents":9223372036854775807}', 'beyond the range'],
    [
      'a duplicate key whose last value is 1.5',
      '{"balanceCents":1,"balanceCents":1.5}',
      'not an integer',
    ],
    [
      'a nested field of the same name standing in for the real one',
      '{"balanceCents":1e3,"meta":{"balanceCents":1}}',
      'not an integer',
    ],
  ])('%s', async (_name, body, hint) => {
    const server = await serve(reply(200, body));
    const { options, sleeps } = harness(server);
    const error = await rejection(fetchCreditBalance(KEY, budget(), options));
    expect(error.kind).toBe('transient');
    expect(error.status).toBe(200);
    expect(error.message).toContain(hint);
    // The server answered; the body is wrong. Not retried.
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test.each([
    ['text/html', { 'content-type': 'text/html; charset=utf-8' }],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/jsonp', { 'content-type': 'application/jsonp' }],
    ['no content type', {} as Record<string, string>],
  ])('a JSON-looking body served as %s', async (_name, headers) => {
    const server = await serve(reply(200, '{"balanceCents":100}', headers));
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/content type .* instead of JSON/);
  });
});

describe('fetchCreditBalance: response size cap', () => {
  const padded = (size: number) => {
    const head = '{"balanceCents":1,"pad":"';
    return `${head}${'x'.repeat(size - head.length - 2)}"}`;
  };

  test('a body at the cap is read', async () => {
    const body = padded(BALANCE_CAP);
    expect(Buffer.byteLength(body)).toBe(BALANCE_CAP);
    const server = await serve(reply(200, body));
    expect(await fetchCreditBalance(KEY, budget(), harness(server).options)).toBe(1);
  });

  test('a declared content-length over the cap is refused before reading', async () => {
    const body = padded(BALANCE_CAP + 1);
    const server = await serve(
      reply(200, body, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      }),
    );
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain(`${BALANCE_CAP + 1} bytes, more than the ${BALANCE_CAP}`);
    expect(server.requests).toHaveLength(1);
  });

  test('a chunked body (no content-length) over the cap is cut off', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(padded(BALANCE_CAP + 1).slice(0, 8000));
      res.end(padded(BALANCE_CAP + 1).slice(8000));
    });
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expect(error.message).toContain(`more than the ${BALANCE_CAP} bytes`);
  });

  test('an endless body is cut off at the cap, not read until the deadline', async () => {
    const server = await serve(endlessBody);
    const started = Date.now();
    const error = await rejection(fetchCreditBalance(KEY, budget(10_000), harness(server).options));
    expect(error.message).toContain(`more than the ${BALANCE_CAP} bytes`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('fetchCreditBalance: HTTP errors', () => {
  test.each([401, 403])('%i is an auth failure, not retried', async (status) => {
    const server = await serve(
      reply(status, `{"statusCode":${status},"msg":"invalid credentials","details":{}}`),
    );
    const { options, sleeps } = harness(server, { maxAttempts: 4 });
    const error = await rejection(fetchCreditBalance(KEY, budget(), options));
    expect(error.kind).toBe('auth');
    expect(error.status).toBe(status);
    expect(error.message).toContain(`rejected the API key (HTTP ${status})`);
    expect(error.message).toContain('invalid credentials');
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test.each([400, 404, 422])('%i means the request is wrong: not retried', async (status) => {
    const server = await serve(
      reply(
        status,
        `{"statusCode":${status},"msg":"bad request","details":{},"errorCode":"ERR_NGROK_1234"}`,
      ),
    );
    const { options, sleeps } = harness(server, { maxAttempts: 4 });
    const error = await rejection(fetchCreditBalance(KEY, budget(), options));
    expect(error.kind).toBe('transient');
    expect(error.status).toBe(status);
    expect(error.message).toBe(
      `GET /credits/balance failed with HTTP ${status}: ERR_NGROK_1234 bad request`,
    );
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test.each([408, 429, 500, 502, 503])(
    '%i is retried with backoff up to maxAttempts, then reported',
    async (status) => {
      const server = await serve(reply(status, '{"statusCode":0,"msg":"busy","details":{}}'));
      const { options, sleeps } = harness(server, { maxAttempts: 4 });
      const error = await rejection(fetchCreditBalance(KEY, budget(), options));
      expect(error.kind).toBe('transient');
      expect(error.status).toBe(status);
      expect(server.requests).toHaveLength(4);
      // random() = 0.5 of 250, 500, 1000 ms.
      expect(sleeps).toEqual([125, 250, 500]);
    },
  );

  test('recovers when a retry succeeds', async () => {
    const server = await serve(reply(503, ''), reply(500, ''), balance(4200));
    const { options, sleeps } = harness(server, { maxAttempts: 4 });
    expect(await fetchCreditBalance(KEY, budget(), options)).toBe(4200);
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  test('a proxy HTML error page is reported by status, without the page', async () => {
    const server = await serve(
      reply(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', {
        'content-type': 'text/html',
      }),
    );
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expect(error.message).toBe('GET /credits/balance failed with HTTP 502');
  });

  test.each([
    ['a JSON array', '[1,2]'],
    ['a msg that is not a string', '{"statusCode":500,"msg":{"a":1},"details":{}}'],
    ['no body', ''],
  ])('an error body that is %s is ignored', async (_name, body) => {
    const server = await serve(reply(500, body));
    const error = await rejection(
      fetchCreditBalance(KEY, budget(), harness(server, { maxAttempts: 1 }).options),
    );
    expect(error.message).toBe('GET /credits/balance failed with HTTP 500');
  });

  test('a redirect is not followed (it could carry the key elsewhere)', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/elsewhere') res.writeHead(200).end('{"balanceCents":1}');
      else res.writeHead(302, { location: '/elsewhere' }).end();
    });
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expect(error.kind).toBe('transient');
    expect(server.requests.map((r) => r.url)).not.toContain('/elsewhere');
  });
});

describe('fetchCreditBalance: network failures and deadlines', () => {
  test('a dropped connection is retried, then reported with its cause', async () => {
    const server = await serve(dropConnection);
    const { options, sleeps } = harness(server);
    const error = await rejection(fetchCreditBalance(KEY, budget(), options));
    expect(error.kind).toBe('transient');
    expect(error.status).toBeUndefined();
    expect(error.message).toMatch(/^GET \/credits\/balance failed: /);
    expect(error.cause).toBeInstanceOf(Error);
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([125, 250]);
  });

  test('a dropped connection followed by an answer succeeds', async () => {
    const server = await serve(dropConnection, balance(77));
    expect(await fetchCreditBalance(KEY, budget(), harness(server).options)).toBe(77);
    expect(server.requests).toHaveLength(2);
  });

  test('a refused connection is a transient failure', async () => {
    const server = await serve(balance(1));
    await server.close();
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/^GET \/credits\/balance failed: /);
  });

  // Real timers: the bound is the point. The slack covers timer and scheduling latency on
  // a loaded machine; a client that ignored the deadline would take the full 5 s timeout.
  const DEADLINE_MS = 300;
  const SLACK_MS = 400;

  test.each([
    ['never answers', hang],
    [
      'sends headers, then stalls the body',
      ((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"balanceCents":');
      }) as Handler,
    ],
    [
      'sends a 503, then stalls its body',
      ((_req, res) => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.write('{"msg":');
      }) as Handler,
    ],
  ])('a server that %s: the call ends by its deadline', async (_name, handler) => {
    const server = await serve(handler);
    const started = Date.now();
    const error = await rejection(
      fetchCreditBalance(
        KEY,
        { deadline: started + DEADLINE_MS },
        { baseUrl: server.url, maxAttempts: 4 },
      ),
    );
    const elapsed = Date.now() - started;
    expect(error.kind).toBe('transient');
    expect(elapsed).toBeLessThan(DEADLINE_MS + SLACK_MS);
  });

  test('a hung attempt times out at attemptTimeoutMs and is retried', async () => {
    const server = await serve(hang);
    const { options, sleeps } = harness(server, { attemptTimeoutMs: 100, maxAttempts: 3 });
    const started = Date.now();
    const error = await rejection(fetchCreditBalance(KEY, budget(10_000), options));
    expect(error.message).toBe('GET /credits/balance timed out after 100 ms');
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(3 * 100 + SLACK_MS);
  });

  test('retries with real sleeps still end by the deadline', async () => {
    const server = await serve(reply(503, ''));
    const started = Date.now();
    const error = await rejection(
      fetchCreditBalance(
        KEY,
        { deadline: started + 400 },
        { baseUrl: server.url, maxAttempts: 50, backoffBaseMs: 60, backoffCapMs: 60 },
      ),
    );
    expect(error.status).toBe(503);
    expect(server.requests.length).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(400 + SLACK_MS);
  });

  test('no request is made when the deadline has passed', async () => {
    const server = await serve(balance(1));
    const error = await rejection(
      fetchCreditBalance(KEY, { deadline: Date.now() - 1 }, harness(server).options),
    );
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('was not attempted');
    expect(server.requests).toHaveLength(0);
  });
});

describe('fetchCreditBalance: Retry-After and backoff', () => {
  /** A whole second, so an HTTP date (one-second resolution) is exact. */
  const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
  const frozen = { now: () => T0 };

  test('Retry-After in seconds is honoured', async () => {
    const server = await serve(reply(429, '', { 'retry-after': '2' }), balance(5));
    const { options, sleeps } = harness(server, frozen);
    expect(await fetchCreditBalance(KEY, { deadline: T0 + 60_000 }, options)).toBe(5);
    expect(sleeps).toEqual([2000]);
  });

  test('Retry-After as an HTTP date is honoured', async () => {
    const at = new Date(T0 + 3_000).toUTCString();
    const server = await serve(reply(503, '', { 'retry-after': at }), balance(5));
    const { options, sleeps } = harness(server, frozen);
    expect(await fetchCreditBalance(KEY, { deadline: T0 + 60_000 }, options)).toBe(5);
    expect(sleeps).toEqual([3000]);
  });

  test.each([
    ['a date in the past', new Date(T0 - 60_000).toUTCString()],
    ['zero seconds', '0'],
    ['something unreadable', 'soon'],
  ])('Retry-After of %s falls back to the backoff', async (_name, header) => {
    const server = await serve(reply(429, '', { 'retry-after': header }), balance(5));
    const { options, sleeps } = harness(server, frozen);
    expect(await fetchCreditBalance(KEY, { deadline: T0 + 60_000 }, options)).toBe(5);
    expect(sleeps).toEqual([125]);
  });

  test.each([
    ['seconds', '30'],
    ['an HTTP date', new Date(T0 + 30_000).toUTCString()],
  ])(
    'Retry-After (%s) beyond the time left: gives up at once with the 429',
    async (_name, header) => {
      const server = await serve(
        reply(429, '{"statusCode":429,"msg":"slow down","details":{}}', { 'retry-after': header }),
      );
      const { options, sleeps } = harness(server, { ...frozen, maxAttempts: 4 });
      const started = Date.now();
      const error = await rejection(fetchCreditBalance(KEY, { deadline: T0 + 10_000 }, options));
      expect(error.status).toBe(429);
      expect(error.kind).toBe('transient');
      expect(error.message).toContain('HTTP 429: slow down');
      expect(server.requests).toHaveLength(1);
      expect(sleeps).toEqual([]);
      expect(Date.now() - started).toBeLessThan(2_000);
    },
  );

  test('backoff doubles from the base and is capped', async () => {
    const server = await serve(reply(503, ''));
    const { options, sleeps } = harness(server, {
      maxAttempts: 6,
      backoffBaseMs: 100,
      backoffCapMs: 400,
      random: () => 0.999,
    });
    await rejection(fetchCreditBalance(KEY, budget(), options));
    expect(sleeps).toHaveLength(5);
    [100, 200, 400, 400, 400].forEach((ceiling, i) => {
      expect(sleeps[i]).toBeCloseTo(ceiling * 0.999, 6);
      expect(sleeps[i]).toBeLessThan(ceiling);
    });
  });

  test('backoff is fully jittered: each wait is random() times the capped ceiling', async () => {
    const draws = [0.1, 0.9, 0.3, 0];
    const server = await serve(reply(500, ''));
    const { options, sleeps } = harness(server, {
      maxAttempts: 5,
      backoffBaseMs: 100,
      backoffCapMs: 500,
      random: () => draws.shift() ?? 0,
    });
    await rejection(fetchCreditBalance(KEY, budget(), options));
    expect(sleeps).toEqual([10, 180, 120, 0]);
  });

  test('a backoff that would run past the deadline ends the call instead', async () => {
    // A fake clock that sleeping advances: the deadline logic runs without real waits.
    let clock = T0;
    const sleeps: number[] = [];
    const server = await serve(reply(503, ''));
    const error = await rejection(
      fetchCreditBalance(
        KEY,
        { deadline: T0 + 1_000 },
        {
          baseUrl: server.url,
          now: () => clock,
          sleep: async (ms) => {
            sleeps.push(ms);
            clock += ms;
          },
          random: () => 0.99,
          maxAttempts: 10,
          backoffBaseMs: 400,
          backoffCapMs: 4_000,
        },
      ),
    );
    expect(error.status).toBe(503);
    // 396 ms fits in 1000; the next wait (792 ms) would leave less than one attempt's worth.
    expect(sleeps).toEqual([396]);
    expect(server.requests).toHaveLength(2);
  });
});

describe('the API key never leaks into errors', () => {
  const echo = (status: number, text: string) =>
    reply(status, JSON.stringify({ statusCode: status, msg: text, details: { key: KEY } }));

  test.each([
    ['a 401 echoing it in msg', echo(401, `invalid key ${KEY}`)],
    ['a 403 whose msg is the key', echo(403, KEY)],
    [
      'a 500 echoing it in errorCode (retried)',
      reply(500, JSON.stringify({ statusCode: 500, msg: 'x', details: {}, errorCode: KEY })),
    ],
    ['a 400 whose msg would be cut inside the key', echo(400, `${'m'.repeat(190)} ${KEY}`)],
    ['a 200 that is not JSON and quotes the header', reply(200, `Authorization: Bearer ${KEY}`)],
    ['a 200 that is not JSON around the key', reply(200, `{"balanceCents": ${KEY}}`)],
    ['a 200 with the key as balanceCents', reply(200, JSON.stringify({ balanceCents: KEY }))],
    ['a 200 with a content type quoting it', reply(200, '{}', { 'content-type': `text/${KEY}` })],
  ])('%s', async (_name, handler) => {
    const server = await serve(handler);
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expectNoKey(error);
    expectNoKeyFragment(error);
  });

  test('the redaction is visible where the key was', async () => {
    const server = await serve(echo(401, `invalid key ${KEY}`));
    const error = await rejection(fetchCreditBalance(KEY, budget(), harness(server).options));
    expect(error.message).toContain('invalid key [redacted]');
  });

  test('an error thrown by fetch that quotes the key, in its message and cause', async () => {
    const leakyFetch: typeof fetch = async () => {
      throw new TypeError(`invalid header "Bearer ${KEY}"`, {
        cause: Object.assign(new Error(`socket for ${KEY} closed`), { code: 'ECONNRESET' }),
      });
    };
    const sleeps: number[] = [];
    const error = await rejection(
      fetchCreditBalance(KEY, budget(), {
        fetch: leakyFetch,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        maxAttempts: 2,
      }),
    );
    expectNoKey(error);
    expect(error.message).toContain('socket for [redacted] closed');
    // The redacted cause keeps what helps diagnosis.
    const cause = error.cause as Error & { cause?: Error & { code?: string } };
    expect(cause.name).toBe('TypeError');
    expect(cause.cause?.code).toBe('ECONNRESET');
  });

  test('a key echoed by a usage overview error is redacted too', async () => {
    const server = await serve(echo(401, `key ${KEY} revoked`));
    const error = await rejection(
      fetchUsageOverview(KEY, { startTime: new Date(0) }, budget(), harness(server).options),
    );
    expect(error.kind).toBe('auth');
    expectNoKey(error);
  });

  test.each([
    ['an empty key', ''],
    ['a blank key', '  \n'],
    ['a key with a line break inside', `${KEY}\nX-Injected: 1`],
    ['a key with a NUL', `${KEY}\u0000`],
    ['a key with a non-ASCII character', `${KEY}\u2019`],
  ])('%s is refused without a request, as an auth failure', async (_name, key) => {
    const server = await serve(balance(1));
    const error = await rejection(fetchCreditBalance(key, budget(), harness(server).options));
    expect(error.kind).toBe('auth');
    expect(server.requests).toHaveLength(0);
    expectNoKey(error);
  });
});

describe('fetchUsageOverview', () => {
  const START = new Date('2024-05-01T00:00:00Z');
  const END = new Date('2024-05-08T13:45:00Z');

  const valid: UsageOverviewBody = {
    uri: '/usage/overview',
    buckets: [
      {
        bucketStart: '2024-05-01T00:00:00Z',
        groupKey: 'ak_1',
        cost: '3.10000',
        requests: 10,
        errors: 1,
      },
      {
        bucketStart: '2024-05-02T00:00:00Z',
        groupKey: 'ak_2',
        cost: '0.00500',
        requests: 0,
        errors: 0,
      },
    ],
    totals: { cost: '3.10500', requests: 10, errors: 1 },
  };

  const query = (server: TestHttpServer) =>
    new URL(server.requests[0]?.url ?? '', 'http://localhost');

  test.each(['accessKey', 'provider'] as const)(
    'sends startTime, endTime and groupBy=%s',
    async (groupBy) => {
      const server = await serve(reply(200, JSON.stringify(valid)));
      const result = await fetchUsageOverview(
        KEY,
        { startTime: START, endTime: END, groupBy },
        budget(),
        harness(server).options,
      );
      expect(result).toEqual(valid);
      const url = query(server);
      expect(url.pathname).toBe('/usage/overview');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        startTime: '2024-05-01T00:00:00.000Z',
        endTime: '2024-05-08T13:45:00.000Z',
        groupBy,
      });
      expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    },
  );

  test('sends only startTime when the rest is left out', async () => {
    const server = await serve(reply(200, JSON.stringify(valid)));
    await fetchUsageOverview(KEY, { startTime: START }, budget(), harness(server).options);
    expect([...query(server).searchParams.keys()]).toEqual(['startTime']);
  });

  test('accepts an empty series and ignores extra fields', async () => {
    const body = { ...valid, buckets: [], nextPageUri: null, totals: { ...valid.totals, x: 1 } };
    const server = await serve(reply(200, JSON.stringify(body)));
    const result = await fetchUsageOverview(
      KEY,
      { startTime: START },
      budget(),
      harness(server).options,
    );
    expect(result.buckets).toEqual([]);
    expect(result.totals.cost).toBe('3.10500');
  });

  const bucket = (fields: string) =>
    `{"uri":"/u","buckets":[{"bucketStart":"2024-05-01T00:00:00Z","groupKey":"ak_1",${fields}}],"totals":{"cost":"1.00000","requests":1,"errors":0}}`;
  const totals = (fields: string) => `{"uri":"/u","buckets":[],"totals":{${fields}}}`;

  test.each([
    ['not an object', '[]', 'not a JSON object'],
    ['not JSON', '{"uri":', 'not JSON'],
    ['no uri', '{"buckets":[],"totals":{"cost":"0","requests":0,"errors":0}}', 'no uri'],
    ['no buckets', '{"uri":"/u","totals":{"cost":"0","requests":0,"errors":0}}', 'no buckets'],
    ['buckets as an object', '{"uri":"/u","buckets":{},"totals":{}}', 'no buckets'],
    ['a null bucket', '{"uri":"/u","buckets":[null],"totals":{}}', 'bucket 0'],
    ['a bucket without cost', bucket('"requests":1,"errors":0'), 'bucket 0'],
    ['a numeric cost', bucket('"cost":3.1,"requests":1,"errors":0'), 'bucket 0'],
    [
      'a numeric bucketStart',
      '{"uri":"/u","buckets":[{"bucketStart":0,"groupKey":"k","cost":"1","requests":1,"errors":0}],"totals":{}}',
      'bucket 0',
    ],
    ['requests as a string', bucket('"cost":"1","requests":"1","errors":0'), 'requests of type'],
    ['requests of 1.5', bucket('"cost":"1","requests":1.5,"errors":0'), 'not an integer'],
    ['requests of 1e3', bucket('"cost":"1","requests":1e3,"errors":0'), 'not an integer'],
    [
      'errors beyond 2^53',
      bucket('"cost":"1","requests":1,"errors":9007199254740993'),
      'beyond the range',
    ],
    ['missing errors', bucket('"cost":"1","requests":1'), 'no errors'],
    ['no totals', '{"uri":"/u","buckets":[]}', 'no totals'],
    ['totals as an array', '{"uri":"/u","buckets":[],"totals":[]}', 'no totals'],
    ['totals without cost', totals('"requests":1,"errors":0'), 'no totals'],
    ['totals without requests', totals('"cost":"1","errors":0'), 'no requests in totals'],
    ['totals.errors of 2.5', totals('"cost":"1","requests":1,"errors":2.5'), 'not an integer'],
  ])('rejects a body with %s', async (_name, body, hint) => {
    const server = await serve(reply(200, body));
    const error = await rejection(
      fetchUsageOverview(KEY, { startTime: START }, budget(), harness(server).options),
    );
    expect(error.kind).toBe('transient');
    expect(error.status).toBe(200);
    expect(error.message).toMatch(/^GET \/usage\/overview(\?\S*)? returned /);
    expect(error.message).toContain(hint);
  });

  test('an endless body is cut off at the overview cap', async () => {
    const server = await serve(endlessBody);
    const error = await rejection(
      fetchUsageOverview(KEY, { startTime: START }, budget(), harness(server).options),
    );
    expect(error.message).toContain(`more than the ${OVERVIEW_CAP} bytes`);
  });

  test('is retried like the balance call', async () => {
    const server = await serve(reply(503, ''), reply(200, JSON.stringify(valid)));
    const { options, sleeps } = harness(server);
    const result = await fetchUsageOverview(KEY, { startTime: START }, budget(), options);
    expect(result).toEqual(valid);
    expect(sleeps).toEqual([125]);
  });
});

describe('properties: whatever the body, a safe integer or an NgrokApiError', () => {
  /** An injected fetch answering every request with `text` as a JSON 200. */
  const answering =
    (text: string): typeof fetch =>
    async () =>
      new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });

  const outcome = async (promise: Promise<number>) => {
    try {
      return { value: await promise };
    } catch (error) {
      return { error };
    }
  };

  test('arbitrary JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ balanceCents: v })),
        ),
        async (text) => {
          const result = await outcome(
            fetchCreditBalance(KEY, budget(), { fetch: answering(text), maxAttempts: 1 }),
          );
          if ('error' in result) {
            expect(result.error).toBeInstanceOf(NgrokApiError);
          } else {
            expect(Number.isSafeInteger(result.value)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('arbitrary text bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (text) => {
        const result = await outcome(
          fetchCreditBalance(KEY, budget(), { fetch: answering(text), maxAttempts: 1 }),
        );
        if ('error' in result) expect(result.error).toBeInstanceOf(NgrokApiError);
        else expect(Number.isSafeInteger(result.value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('an int64 literal is read exactly when it is safe, refused when it is not', async () => {
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    const nearLimit = fc.bigInt({ min: 2n ** 53n - 5n, max: 2n ** 53n + 5n });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          int64,
          nearLimit,
          nearLimit.map((n) => -n),
        ),
        async (n) => {
          const result = await outcome(
            fetchCreditBalance(KEY, budget(), {
              fetch: answering(`{"balanceCents":${n}}`),
              maxAttempts: 1,
            }),
          );
          const safe = n >= BigInt(-MAX_SAFE) && n <= BigInt(MAX_SAFE);
          if (safe) expect(result).toEqual({ value: Number(n) });
          else expect(result.error).toBeInstanceOf(NgrokApiError);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a number spelled with a fraction or an exponent is refused', async () => {
    const spelled = fc
      .tuple(
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.stringMatching(/^\d{1,6}$/),
        fc.integer({ min: 0, max: 20 }),
        fc.constantFrom('frac', 'exp', 'both'),
      )
      .map(([int, frac, exp, form]) =>
        form === 'frac'
          ? `${int}.${frac}`
          : form === 'exp'
            ? `${int}e${exp}`
            : `${int}.${frac}E+${exp}`,
      );
    await fc.assert(
      fc.asyncProperty(spelled, async (literal) => {
        const result = await outcome(
          fetchCreditBalance(KEY, budget(), {
            fetch: answering(`{"balanceCents":${literal}}`),
            maxAttempts: 1,
          }),
        );
        expect(result.error).toBeInstanceOf(NgrokApiError);
      }),
      { numRuns: 200 },
    );
  });

  test('usage overviews: well-formed ones are returned as sent, anything else refused', async () => {
    const count = fc.integer({ min: 0, max: MAX_SAFE });
    const wellFormed = fc.record({
      uri: fc.string(),
      buckets: fc.array(
        fc.record({
          bucketStart: fc.string(),
          groupKey: fc.string(),
          cost: fc.string(),
          requests: count,
          errors: count,
        }),
        { maxLength: 5 },
      ),
      totals: fc.record({ cost: fc.string(), requests: count, errors: count }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          wellFormed.map((body) => ({ body: JSON.stringify(body), expected: body })),
          fc.json().map((body) => ({ body, expected: undefined })),
        ),
        async ({ body, expected }) => {
          let result: { value: UsageOverviewBody } | { error: unknown };
          try {
            result = {
              value: await fetchUsageOverview(KEY, { startTime: new Date(0) }, budget(), {
                fetch: answering(body),
                maxAttempts: 1,
              }),
            };
          } catch (error) {
            result = { error };
          }
          if (expected) expect(result).toEqual({ value: expected });
          else if ('error' in result) expect(result.error).toBeInstanceOf(NgrokApiError);
          else expect(Array.isArray(result.value.buckets)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
