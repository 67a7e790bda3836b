/**
 * ngrok's credit purchases as its API documentation describes them, for the money model:
 * - a key seen before replays its attempt (same amount) or is 409 `idempotency_key_reuse`;
 * - one unresolved purchase per account: a new one while another (by hand too) is pending
 *   or needs action is 409 `purchase_in_progress`, naming it;
 * - a grant is dated when its purchase succeeds (ngrok's clock) and listed up to a day later;
 * - a refund removes the grant from the list and adds a negative row;
 * - the balance shows a purchase's credit a few minutes after it succeeded.
 * Times are ngrok's (true time); the monitor's runs read their own skewed clocks.
 */

export type Status = 'pending' | 'actionRequired' | 'succeeded' | 'failed';

export interface ModelPurchase {
  readonly id: string;
  /** Undefined for a purchase by hand. */
  readonly key: string | undefined;
  readonly amountCents: number;
  status: Status;
  readonly createdAt: number;
  succeededAt?: number;
  /** When the grant shows in GET /credits/transactions. */
  grantVisibleAt?: number;
  /** When the balance shows the credit. */
  creditAt?: number;
  refundedAt?: number;
}

export type PostResult =
  | { readonly status: 200; readonly purchase: ModelPurchase; readonly created: boolean }
  | { readonly status: 409; readonly reason: string; readonly purchaseId: string }
  | { readonly status: 429 };

export class NgrokModel {
  readonly purchases: ModelPurchase[] = [];
  /** Refund rows: negative amounts listed from `at`. */
  readonly refunds: { amountCents: number; at: number }[] = [];
  /** Balance without the credits of purchases (usage moves it). */
  baseCents = 5000;

  constructor(readonly now: () => number) {}

  post(key: string, amountCents: number): PostResult {
    const known = this.purchases.find((p) => p.key === key);
    if (known) {
      return known.amountCents === amountCents
        ? { status: 200, purchase: known, created: false }
        : { status: 409, reason: 'idempotency_key_reuse', purchaseId: known.id };
    }
    const open = this.unresolved();
    if (open) return { status: 409, reason: 'purchase_in_progress', purchaseId: open.id };
    const purchase: ModelPurchase = {
      id: `cp_${this.purchases.length + 1}`,
      key,
      amountCents,
      status: 'pending',
      createdAt: this.now(),
    };
    this.purchases.push(purchase);
    return { status: 200, purchase, created: true };
  }

  /** A purchase made by hand in the dashboard; unless it is unresolved it ends at once. */
  byHand(amountCents: number, status: Status, lagMs: number, creditLagMs: number): void {
    if (this.unresolved()) return;
    const purchase: ModelPurchase = {
      id: `cp_${this.purchases.length + 1}`,
      key: undefined,
      amountCents,
      status: 'pending',
      createdAt: this.now(),
    };
    this.purchases.push(purchase);
    this.settle(purchase, status, lagMs, creditLagMs);
  }

  settle(p: ModelPurchase, status: Status, lagMs: number, creditLagMs: number): void {
    if (p.status === 'succeeded' || p.status === 'failed') return;
    p.status = status;
    if (status === 'succeeded') {
      const now = this.now();
      p.succeededAt = now;
      p.grantVisibleAt = now + lagMs;
      p.creditAt = now + creditLagMs;
    }
  }

  refund(p: ModelPurchase): void {
    if (p.status !== 'succeeded' || p.refundedAt !== undefined) return;
    p.refundedAt = this.now();
    this.refunds.push({ amountCents: -p.amountCents, at: this.now() });
  }

  unresolved(): ModelPurchase | undefined {
    return this.purchases.find((p) => p.status === 'pending' || p.status === 'actionRequired');
  }

  balance(): number {
    const now = this.now();
    const credits = this.purchases
      .filter((p) => p.creditAt !== undefined && p.creditAt <= now && p.refundedAt === undefined)
      .reduce((sum, p) => sum + p.amountCents, 0);
    return this.baseCents + credits;
  }

  /** GET /credits/transactions items, newest first. */
  transactions(): unknown[] {
    const now = this.now();
    const rows = [
      ...this.purchases
        .filter(
          (p) =>
            p.grantVisibleAt !== undefined &&
            p.grantVisibleAt <= now &&
            (p.refundedAt === undefined || p.refundedAt > now),
        )
        .map((p) => ({ at: p.succeededAt ?? 0, amountCents: p.amountCents })),
      ...this.refunds.filter((r) => r.at <= now),
    ].sort((a, b) => b.at - a.at);
    return rows.map((r) => ({
      type: 'credits',
      category: 'purchase',
      amountCents: r.amountCents,
      createdAt: new Date(r.at).toISOString(),
      expiresAt: null,
    }));
  }
}

export function purchaseJson(p: ModelPurchase): Record<string, unknown> {
  return {
    id: p.id,
    status: p.status,
    amountCents: p.amountCents,
    currency: 'usd',
    createdAt: new Date(p.createdAt).toISOString(),
    expiresAt: new Date(p.createdAt + 365 * 86_400_000).toISOString(),
    ...(p.status === 'failed' && { failureCode: 'card_declined', failureMessage: 'declined' }),
  };
}
