/**
 * A stand-in for ngrok's credit purchases: an in-memory ledger with the idempotency rules
 * ngrok documents, usable directly (property tests of the purchase decisions) or over HTTP
 * (client tests, through `creditsHandler` and test/support/http-server.ts).
 *
 * - A key seen before returns the attempt it started, in its current state, and charges
 *   nothing; the same key with another amount is 409 `idempotency_key_reuse`.
 * - A new purchase while another is unresolved (pending or actionRequired) is 409
 *   `purchase_in_progress`, naming the unresolved one.
 * - A purchase charges the card when it becomes `succeeded`; its grant shows in the ledger
 *   at once, or only after `catchUp()` when the ledger lags.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type PurchaseStatus = 'pending' | 'actionRequired' | 'succeeded' | 'failed';

export interface StandInPurchase {
  readonly id: string;
  readonly key: string | undefined;
  readonly amountCents: number;
  status: PurchaseStatus;
  readonly createdAt: string;
  failureCode?: string;
  failureMessage?: string;
}

export interface StandInGrant {
  readonly amountCents: number;
  readonly createdAt: string;
  readonly category: 'purchase' | 'promotional';
}

export type CreateResult =
  | { readonly status: 200; readonly purchase: StandInPurchase }
  | {
      readonly status: 400 | 409;
      readonly reason: string;
      readonly purchaseId?: string;
    };

export class CreditsStandIn {
  readonly purchases: StandInPurchase[] = [];
  /** Grants the ledger shows. */
  readonly grants: StandInGrant[] = [];
  /** Grants of succeeded purchases the ledger does not show yet. */
  readonly lagging: StandInGrant[] = [];
  /** When true, a success's grant waits for `catchUp()`. */
  ledgerLags = false;
  /** When set, every POST is refused with this 400 reason. */
  refuseWith: string | undefined;
  /** Status a new purchase starts in. */
  initialStatus: PurchaseStatus = 'pending';
  now: () => Date = () => new Date();

  /** POST /credits/purchases. */
  create(amountCents: number, key: string | undefined): CreateResult {
    const trimmed = key?.trim() || undefined;
    if (trimmed !== undefined && trimmed.length > 255) {
      return { status: 400, reason: 'invalid_idempotency_key' };
    }
    if (this.refuseWith) return { status: 400, reason: this.refuseWith };
    const known = trimmed === undefined ? undefined : this.purchases.find((p) => p.key === trimmed);
    if (known) {
      return known.amountCents === amountCents
        ? { status: 200, purchase: known }
        : { status: 409, reason: 'idempotency_key_reuse', purchaseId: known.id };
    }
    const open = this.purchases.find(
      (p) => p.status === 'pending' || p.status === 'actionRequired',
    );
    if (open) return { status: 409, reason: 'purchase_in_progress', purchaseId: open.id };
    const purchase: StandInPurchase = {
      id: `cp_${this.purchases.length + 1}`,
      key: trimmed,
      amountCents,
      status: 'pending',
      createdAt: this.now().toISOString(),
    };
    this.purchases.push(purchase);
    this.settle(purchase.id, this.initialStatus);
    return { status: 200, purchase };
  }

  /** Moves a purchase on; a success charges and grants. Terminal purchases do not move. */
  settle(id: string, status: PurchaseStatus, failureCode = 'card_declined'): void {
    const purchase = this.purchases.find((p) => p.id === id);
    if (!purchase || purchase.status === 'succeeded' || purchase.status === 'failed') return;
    purchase.status = status;
    if (status === 'failed') {
      purchase.failureCode = failureCode;
      purchase.failureMessage = 'Your card was declined.';
    }
    if (status === 'succeeded') {
      const grant: StandInGrant = {
        amountCents: purchase.amountCents,
        createdAt: this.now().toISOString(),
        category: 'purchase',
      };
      (this.ledgerLags ? this.lagging : this.grants).push(grant);
    }
  }

  /** A purchase made by hand in the dashboard (no key), succeeded at once. */
  buyByHand(amountCents: number): void {
    this.purchases.push({
      id: `cp_${this.purchases.length + 1}`,
      key: undefined,
      amountCents,
      status: 'succeeded',
      createdAt: this.now().toISOString(),
    });
    this.grants.push({ amountCents, createdAt: this.now().toISOString(), category: 'purchase' });
  }

  /** The ledger shows every grant of a succeeded purchase. */
  catchUp(): void {
    this.grants.push(...this.lagging.splice(0));
  }

  /** The first purchase that is neither succeeded nor failed. */
  unresolved(): StandInPurchase | undefined {
    return this.purchases.find((p) => p.status === 'pending' || p.status === 'actionRequired');
  }

  get(id: string): StandInPurchase | undefined {
    return this.purchases.find((p) => p.id === id);
  }

  /** GET /credits/transactions: grants newest first, as ngrok lists them. */
  transactions(): unknown[] {
    return [...this.grants].reverse().map((g) => ({
      type: 'credits',
      category: g.category,
      amountCents: g.amountCents,
      createdAt: g.createdAt,
      expiresAt: null,
    }));
  }
}

/** The purchase as the API serialises it. */
export function purchaseBody(p: StandInPurchase): Record<string, unknown> {
  return {
    id: p.id,
    status: p.status,
    amountCents: p.amountCents,
    currency: 'usd',
    createdAt: p.createdAt,
    expiresAt: '2027-12-01T00:00:00Z',
    ...(p.failureCode ? { failureCode: p.failureCode, failureMessage: p.failureMessage } : {}),
  };
}

/**
 * Answers one of the three credit operations from `standIn`, or undefined when the request
 * is not one of them. Shared by the HTTP handler below and the artifact tests' ngrok.
 */
export function creditsReply(
  standIn: CreditsStandIn,
  request: { method: string; path: string; idempotencyKey: string | undefined; body: string },
): { status: number; value: unknown } | undefined {
  const error = (status: number, msg: string, details: Record<string, string>) => ({
    status,
    value: { statusCode: status, msg, details },
  });
  const { method, path } = request;
  if (method === 'GET' && path === '/credits/transactions') {
    return { status: 200, value: { items: standIn.transactions() } };
  }
  if (method === 'GET' && path.startsWith('/credits/purchases/')) {
    const purchase = standIn.get(decodeURIComponent(path.split('/')[3] ?? ''));
    return purchase
      ? { status: 200, value: purchaseBody(purchase) }
      : error(404, 'purchase not found', {});
  }
  if (method === 'POST' && path === '/credits/purchases') {
    const { amount } = JSON.parse(request.body) as { amount: number };
    const result = standIn.create(amount, request.idempotencyKey);
    if (result.status === 200) return { status: 200, value: purchaseBody(result.purchase) };
    return error(result.status, `purchase refused: ${result.reason}`, {
      reason: result.reason,
      ...(result.purchaseId ? { purchase_id: result.purchaseId } : {}),
    });
  }
  return undefined;
}

/**
 * An HTTP handler serving the three credit operations from `standIn`. `before` may answer a
 * request itself (a 5xx, a stall) by returning true; it sees every request first.
 */
export function creditsHandler(
  standIn: CreditsStandIn,
  before?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (before?.(req, res, body)) return;
      const key = req.headers['idempotency-key'];
      const reply = creditsReply(standIn, {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://stand-in').pathname,
        idempotencyKey: Array.isArray(key) ? key[0] : key,
        body,
      }) ?? { status: 404, value: { statusCode: 404, msg: 'not found', details: {} } };
      res
        .writeHead(reply.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(reply.value));
    });
  };
}
