/**
 * A fake ngrok.ai API (GET /credits/balance, GET /usage/overview, GET /credits/transactions,
 * GET /access-keys, and the credit purchases and ledger when an account has a credits
 * stand-in) with scripted answers per API key; records every request. Per request it can
 * also fail on cue (`fault`: answer lost after the request was processed, or refused
 * before) and hold a request until the test lets it go (`hold`), to interleave the runs of
 * several processes at a chosen point.
 */
import type { IncomingMessage } from 'node:http';
import { accessKeysPage, type StandInAccessKey, sortKeys } from '../access-keys-stand-in.ts';
import { type CreditsStandIn, creditsReply } from '../ngrok-credits-stand-in.ts';
import { type Reply, StandInServer } from './server.ts';

/** What the fake ngrok API answers for one API key. */
export interface NgrokAccountScript {
  /**
   * The balance in cents per GET /credits/balance, in order; the last one repeats. A
   * single number always answers the same; a function is asked at each request.
   */
  readonly balanceCents?: number | readonly number[] | (() => number);
  /** Answer every call with this HTTP status instead (e.g. 401, 503). */
  readonly status?: number;
  /** Buckets for GET /usage/overview; none by default (nothing spent). */
  readonly usageBuckets?: readonly {
    bucketStart: string;
    groupKey: string;
    cost: string;
    requests: number;
    errors: number;
  }[];
  /**
   * POST and GET /credits/purchases and GET /credits/transactions, with ngrok's idempotency
   * rules; without it those paths are 404.
   */
  readonly credits?: CreditsStandIn;
  /** Credit grants for GET /credits/transactions; none by default. */
  readonly grants?: readonly {
    category: 'purchase' | 'promotional';
    amountCents: number;
    createdAt: string;
    expiresAt: string | null;
  }[];
  /** The account's access keys for GET /access-keys; none by default. */
  readonly accessKeys?: readonly StandInAccessKey[];
  /** Answer GET /access-keys with this HTTP status instead. */
  readonly accessKeysStatus?: number;
}

export interface NgrokRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/credits/balance`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The bearer token, or undefined when there was none. */
  readonly apiKey: string | undefined;
  /** Milliseconds since the stand-in started, when the request arrived. */
  readonly at: number;
  /** The Idempotency-Key header, if any. */
  readonly idempotencyKey?: string;
  /** The scripted fault it met, if any. */
  readonly fault?: NgrokFault;
}

/**
 * A request's route as `fault` and `hold` name it: method and path, a purchase's id as
 * `{id}` (`GET /credits/purchases/{id}`).
 */
export type NgrokRoute = `${'GET' | 'POST'} /${string}`;

/**
 * What a scripted fault does to one request. `landThen503`, `landThen429`, `landThenDrop`:
 * the request is processed (a POST may charge) and its answer lost: a 503, a 429, or the
 * connection closed without an answer. `unavailable`, `rateLimited`, `drop`: the same
 * answers without processing it.
 */
export type NgrokFault =
  | 'landThen503'
  | 'landThen429'
  | 'landThenDrop'
  | 'unavailable'
  | 'rateLimited'
  | 'drop';

/** A request held by `hold`: `arrived` resolves once it came in; it is answered on `release`. */
export interface HeldRequest {
  readonly arrived: Promise<void>;
  release(): void;
}

interface Hold {
  readonly route: NgrokRoute;
  readonly arrive: () => void;
  readonly released: Promise<void>;
  taken: boolean;
}

export class FakeNgrokApi extends StandInServer {
  readonly requests: NgrokRequest[] = [];
  private readonly accounts = new Map<string, NgrokAccountScript>();
  private readonly balanceCalls = new Map<string, number>();
  private readonly started = performance.now();
  private readonly faults: { route: NgrokRoute; fault: NgrokFault }[] = [];
  private readonly holds: Hold[] = [];

  /** Scripts the answers for one API key; replaces any earlier script and its call count. */
  setAccount(apiKey: string, script: NgrokAccountScript): this {
    this.accounts.set(apiKey, script);
    this.balanceCalls.set(apiKey, 0);
    return this;
  }

  /**
   * The next requests to `route` meet these faults, one each, in order (a client that
   * retries meets the next one on its retry); later requests are answered normally.
   */
  fault(route: NgrokRoute, ...faults: NgrokFault[]): this {
    for (const fault of faults) this.faults.push({ route, fault });
    return this;
  }

  /** Faults scripted and not met yet. */
  pendingFaults(): { route: NgrokRoute; fault: NgrokFault }[] {
    return [...this.faults];
  }

  /**
   * Holds the next request to `route` (after any earlier holds of it took theirs) before
   * it is processed, until `release()`: what it reads is ngrok's state at the release.
   */
  hold(route: NgrokRoute): HeldRequest {
    let arrive = () => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.push({ route, arrive, released, taken: false });
    return { arrived, release };
  }

  protected async handle(req: IncomingMessage, body: string): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const key = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(key) ? key[0] : key;
    const route = routeOf(req.method ?? '', url.pathname);
    const faultAt = this.faults.findIndex((f) => f.route === route);
    const fault = faultAt < 0 ? undefined : this.faults.splice(faultAt, 1)[0]?.fault;
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      apiKey: bearer,
      at: performance.now() - this.started,
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      ...(fault !== undefined && { fault }),
    });
    const held = this.holds.find((h) => h.route === route && !h.taken);
    if (held) {
      held.taken = true;
      held.arrive();
      await held.released;
    }
    if (fault === 'unavailable') return ngrokError(503, 'ERR_NGROK_503', 'scripted failure');
    if (fault === 'rateLimited') return rateLimited();
    if (fault === 'drop') return DROP;
    const reply = this.answer(req, url, bearer, idempotencyKey, body);
    if (fault === 'landThen503') return ngrokError(503, 'ERR_NGROK_503', 'scripted failure');
    if (fault === 'landThen429') return rateLimited();
    if (fault === 'landThenDrop') return DROP;
    return reply;
  }

  private answer(
    req: IncomingMessage,
    url: URL,
    bearer: string | undefined,
    idempotencyKey: string | undefined,
    body: string,
  ): Reply {
    const account = bearer === undefined ? undefined : this.accounts.get(bearer);
    if (!account) return ngrokError(401, 'ERR_NGROK_401', 'the API key is not valid');
    if (account.status !== undefined && account.status !== 200) {
      return ngrokError(account.status, `ERR_NGROK_${account.status}`, 'scripted failure');
    }
    const credits =
      account.credits &&
      creditsReply(account.credits, {
        method: req.method ?? '',
        path: url.pathname,
        idempotencyKey,
        body,
      });
    if (credits) return json(credits.status, credits.value);
    if (req.method !== 'GET') return ngrokError(405, 'ERR_NGROK_405', 'method not allowed');
    if (url.pathname === '/credits/balance') {
      const calls = this.balanceCalls.get(bearer as string) ?? 0;
      this.balanceCalls.set(bearer as string, calls + 1);
      const script = account.balanceCents ?? 0;
      if (typeof script === 'function') return json(200, { balanceCents: script() });
      const list = typeof script === 'number' ? [script] : script;
      const balanceCents = list[Math.min(calls, list.length - 1)] ?? 0;
      return json(200, { balanceCents });
    }
    if (url.pathname === '/usage/overview') {
      const buckets = account.usageBuckets ?? [];
      const requests = buckets.reduce((sum, b) => sum + b.requests, 0);
      const errors = buckets.reduce((sum, b) => sum + b.errors, 0);
      const cost = buckets.reduce((sum, b) => sum + Number(b.cost), 0);
      return json(200, {
        uri: `${url.pathname}${url.search}`,
        buckets,
        totals: { cost: cost.toFixed(5), requests, errors },
      });
    }
    if (url.pathname === '/credits/transactions') {
      const items = (account.grants ?? []).map((g) => ({ type: 'credits', ...g }));
      return json(200, { items });
    }
    if (url.pathname === '/access-keys') {
      if (account.accessKeysStatus !== undefined) {
        return ngrokError(account.accessKeysStatus, 'ERR_NGROK_503', 'scripted failure');
      }
      return json(200, accessKeysPage(sortKeys(account.accessKeys ?? []), url));
    }
    return ngrokError(404, 'ERR_NGROK_404', `no route for ${url.pathname}`);
  }
}

/** `GET /credits/purchases/{id}` for a purchase's path, else the method and path. */
function routeOf(method: string, pathname: string): NgrokRoute {
  const path = pathname.replace(/^\/credits\/purchases\/[^/]+$/, '/credits/purchases/{id}');
  return `${method} ${path}` as NgrokRoute;
}

const DROP: Reply = { status: 0, headers: {}, body: '', drop: true };

/** ngrok's purchase rate limit: the card was not charged. */
function rateLimited(): Reply {
  return json(429, {
    errorCode: 'ERR_NGROK_AI_GATEWAY_CREDIT_PURCHASE_RATE_LIMITED',
    msg: 'too many credit purchases, try again later',
    statusCode: 429,
    details: { reason: 'rate_limited' },
  });
}

function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function ngrokError(status: number, errorCode: string, msg: string): Reply {
  return json(status, { errorCode, msg, statusCode: status });
}
