/**
 * A fake ngrok.ai API (GET /credits/balance, GET /usage/overview, GET /credits/transactions,
 * GET /access-keys, and the credit purchases and ledger when an account has a credits
 * stand-in) with scripted answers per API key; records every request.
 */
import type { IncomingMessage } from 'node:http';
import { accessKeysPage, type StandInAccessKey, sortKeys } from '../access-keys-stand-in.ts';
import { type CreditsStandIn, creditsReply } from '../ngrok-credits-stand-in.ts';
import { type Reply, StandInServer } from './server.ts';

/** What the fake ngrok API answers for one API key. */
export interface NgrokAccountScript {
  /**
   * The balance in cents per GET /credits/balance, in order; the last one repeats. A
   * single number always answers the same.
   */
  readonly balanceCents?: number | readonly number[];
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
}

export class FakeNgrokApi extends StandInServer {
  readonly requests: NgrokRequest[] = [];
  private readonly accounts = new Map<string, NgrokAccountScript>();
  private readonly balanceCalls = new Map<string, number>();
  private readonly started = performance.now();

  /** Scripts the answers for one API key; replaces any earlier script and its call count. */
  setAccount(apiKey: string, script: NgrokAccountScript): this {
    this.accounts.set(apiKey, script);
    this.balanceCalls.set(apiKey, 0);
    return this;
  }

  protected handle(req: IncomingMessage, body: string): Reply {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      apiKey: bearer,
      at: performance.now() - this.started,
    });
    const account = bearer === undefined ? undefined : this.accounts.get(bearer);
    if (!account) return ngrokError(401, 'ERR_NGROK_401', 'the API key is not valid');
    if (account.status !== undefined && account.status !== 200) {
      return ngrokError(account.status, `ERR_NGROK_${account.status}`, 'scripted failure');
    }
    const key = req.headers['idempotency-key'];
    const credits =
      account.credits &&
      creditsReply(account.credits, {
        method: req.method ?? '',
        path: url.pathname,
        idempotencyKey: Array.isArray(key) ? key[0] : key,
        body,
      });
    if (credits) return json(credits.status, credits.value);
    if (req.method !== 'GET') return ngrokError(405, 'ERR_NGROK_405', 'method not allowed');
    if (url.pathname === '/credits/balance') {
      const calls = this.balanceCalls.get(bearer as string) ?? 0;
      this.balanceCalls.set(bearer as string, calls + 1);
      const script = account.balanceCents ?? 0;
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

function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function ngrokError(status: number, errorCode: string, msg: string): Reply {
  return json(status, { errorCode, msg, statusCode: status });
}
