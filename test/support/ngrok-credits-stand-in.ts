/**
 * A stand-in for ngrok's credit purchases: an in-memory ledger with the idempotency rules
 * ngrok documents, usable directly (property tests of the purchase decisions) or over HTTP
 * (client tests, through `creditsHandler` and test/support/http-server.ts).
 *
 * - A key seen before returns the attempt it started, in its current state, and charges
 *   nothing; the same key with another amount is 409 `idempotency_key_reuse`.
 * - A new purchase while another is unresolved (pending or actionRequired, by hand too) is
 *   409 `purchase_in_progress`, naming the unresolved one.
 * - A purchase charges the card when it becomes `succeeded`; its grant is dated then (ngrok's
 *   clock, `now`) and listed at once, or after the `listAfterMs` given to `settle`.
 * - A refund takes the grant off the list and lists a row of the negative amount.
 * - The balance is what usage left (`setBalance`) plus the credits of succeeded purchases
 *   since, less refunds.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type PurchaseStatus = 'pending' | 'actionRequired' | 'succeeded' | 'failed';

export interface StandInPurchase {
  readonly id: string;
  /** The Idempotency-Key it was started with; undefined for a purchase by hand. */
  readonly key: string | undefined;
  readonly amountCents: number;
  status: PurchaseStatus;
  readonly createdAt: string;
  /** When it succeeded (ngrok's clock): the date of its grant. */
  succeededAt?: string;
  /** When it was refunded (ngrok's clock). */
  refundedAt?: string;
  failureCode?: string;
  failureMessage?: string;
}

export interface StandInGrant {
  readonly amountCents: number;
  /** When it was granted (ngrok's clock): the date the list shows. */
  readonly createdAt: string;
  readonly category: 'purchase' | 'promotional';
  /** The purchase it grants (the stand-in's bookkeeping: ngrok's list does not say). */
  readonly purchaseId?: string;
  /** Epoch ms (ngrok's clock) from which the list shows it. */
  readonly listedFrom: number;
  /** Epoch ms of its refund: from then on the list no longer shows it. */
  refundedAt?: number;
}

/** A refund row: listed from its date, with the negative amount. */
export interface StandInRefund {
  readonly amountCents: number;
  readonly createdAt: string;
  readonly purchaseId: string;
}

export interface SettleOptions {
  /** ngrok's decline code when it fails. */
  readonly failureCode?: string;
  /** When it succeeds: the list shows its grant this long after the success. */
  readonly listAfterMs?: number;
}

export type CreateResult =
  | { readonly status: 200; readonly purchase: StandInPurchase }
  | {
      readonly status: 400 | 409;
      readonly reason: string;
      readonly purchaseId?: string;
    };

const UNRESOLVED: readonly PurchaseStatus[] = ['pending', 'actionRequired'];

export class CreditsStandIn {
  readonly purchases: StandInPurchase[] = [];
  /** Every grant of a succeeded purchase, listed or not yet. */
  readonly grants: StandInGrant[] = [];
  readonly refunds: StandInRefund[] = [];
  /** When set, every POST is refused with this 400 reason. */
  refuseWith: string | undefined;
  /** Status a new purchase starts in. */
  initialStatus: PurchaseStatus = 'pending';
  /** What usage left of the balance; credits and refunds since add to it (see `balance`). */
  baseCents = 0;
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
    const open = this.unresolved();
    if (open) return { status: 409, reason: 'purchase_in_progress', purchaseId: open.id };
    const purchase = this.start(amountCents, trimmed);
    this.settle(purchase.id, this.initialStatus);
    return { status: 200, purchase };
  }

  /**
   * Moves a purchase on; a success charges and grants (dated now, listed after
   * `listAfterMs`). Terminal purchases do not move.
   */
  settle(id: string, status: PurchaseStatus, options: SettleOptions = {}): void {
    const purchase = this.purchases.find((p) => p.id === id);
    if (!purchase || purchase.status === 'succeeded' || purchase.status === 'failed') return;
    purchase.status = status;
    if (status === 'failed') {
      purchase.failureCode = options.failureCode ?? 'card_declined';
      purchase.failureMessage = 'Your card was declined.';
    }
    if (status === 'succeeded') {
      const now = this.now();
      purchase.succeededAt = now.toISOString();
      this.grants.push({
        amountCents: purchase.amountCents,
        createdAt: now.toISOString(),
        category: 'purchase',
        purchaseId: purchase.id,
        listedFrom: now.getTime() + (options.listAfterMs ?? 0),
      });
    }
  }

  /**
   * A purchase made by hand in the dashboard (no key): succeeded at once unless `status`
   * says otherwise (pending, waiting for the card's confirmation, declined). ngrok allows
   * one unresolved purchase per account: the dashboard cannot start one beside another.
   */
  buyByHand(
    amountCents: number,
    status: PurchaseStatus = 'succeeded',
    options: SettleOptions = {},
  ): StandInPurchase {
    const open = this.unresolved();
    if (open) throw new Error(`a purchase by hand while ${open.id} is unresolved at ngrok`);
    const purchase = this.start(amountCents, undefined);
    this.settle(purchase.id, status, options);
    return purchase;
  }

  /** A succeeded purchase is refunded: its grant leaves the list, a negative row joins it. */
  refund(id: string): void {
    const purchase = this.get(id);
    if (purchase?.status !== 'succeeded' || purchase.refundedAt !== undefined) return;
    const now = this.now();
    purchase.refundedAt = now.toISOString();
    for (const grant of this.grants) if (grant.purchaseId === id) grant.refundedAt = now.getTime();
    this.refunds.push({
      amountCents: -purchase.amountCents,
      createdAt: now.toISOString(),
      purchaseId: id,
    });
  }

  /** GET /credits/balance: what usage left, plus the credits bought since, less refunds. */
  balance(): number {
    return this.baseCents + this.credited();
  }

  /** The balance reads `balanceCents` now (usage spent the rest); later credits add to it. */
  setBalance(balanceCents: number): void {
    this.baseCents = balanceCents - this.credited();
  }

  /** The first purchase that is neither succeeded nor failed. */
  unresolved(): StandInPurchase | undefined {
    return this.purchases.find((p) => UNRESOLVED.includes(p.status));
  }

  get(id: string): StandInPurchase | undefined {
    return this.purchases.find((p) => p.id === id);
  }

  /** GET /credits/transactions: the grants listed now and the refund rows, newest first. */
  transactions(): unknown[] {
    const now = this.now().getTime();
    const listed = this.grants.filter(
      (g) => g.listedFrom <= now && (g.refundedAt === undefined || g.refundedAt > now),
    );
    const refunds = this.refunds.filter((r) => Date.parse(r.createdAt) <= now);
    return [...listed, ...refunds]
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))
      .reverse()
      .map((row) => ({
        type: 'credits',
        category: 'category' in row ? row.category : 'purchase',
        amountCents: row.amountCents,
        createdAt: row.createdAt,
        expiresAt: null,
      }));
  }

  private start(amountCents: number, key: string | undefined): StandInPurchase {
    const purchase: StandInPurchase = {
      id: `cp_${this.purchases.length + 1}`,
      key,
      amountCents,
      status: 'pending',
      createdAt: this.now().toISOString(),
    };
    this.purchases.push(purchase);
    return purchase;
  }

  private credited(): number {
    return this.purchases
      .filter((p) => p.status === 'succeeded' && p.refundedAt === undefined)
      .reduce((sum, p) => sum + p.amountCents, 0);
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
