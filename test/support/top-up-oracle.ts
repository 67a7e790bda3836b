/**
 * The README's promises about auto top-up's money, checked over what ngrok's stand-in did
 * (purchases, grants) and what SNS received, not over the monitor's own bookkeeping:
 *
 * - the cap, by the UTC month of each purchase grant (ngrok's clock, purchases by hand
 *   included), and by the month each of the monitor's purchases started (grants by hand
 *   by their month);
 * - one charge per low spell: between two purchases the monitor's keys charged, the test
 *   started a new low spell after the first one's credit showed;
 * - every charge the monitor caused announced exactly once: one `top-up-started`, and one
 *   `top-up-succeeded` or `top-up-failed` as it ended; nothing announced for a purchase by
 *   hand, or for a purchase ngrok does not have.
 */
import type { StandInGrant, StandInPurchase } from './ngrok-credits-stand-in.ts';

/** Prefix of every Idempotency-Key the monitor sends (README: `ngrok-balance-alert-<epoch>-<n>`). */
export const MONITOR_KEY_PREFIX = 'ngrok-balance-alert-';

/** The test started a low spell: the balance went low again after what was bought so far. */
export interface LowSpell {
  /** How many purchases ngrok had then (the ones after it are bought in this spell). */
  readonly purchases: number;
  /** The purchases that had succeeded by then (their credit showed before this spell). */
  readonly succeeded: ReadonlySet<string>;
}

export interface OracleInput {
  readonly capCents: number;
  readonly purchases: readonly StandInPurchase[];
  readonly grants: readonly StandInGrant[];
  readonly lowSpells: readonly LowSpell[];
  /** The notifications SNS received, in order. */
  readonly notified: readonly {
    readonly kind: string;
    readonly autoTopUp?: { readonly purchaseId?: string };
  }[];
  /**
   * Purchases whose record was lost or rolled back: the README allows their notices to be
   * sent twice (Limits); each is checked to be sent at most twice.
   */
  readonly damaged?: ReadonlySet<string>;
  /**
   * What the README lets pass the cap: after a record lost while one of the monitor's
   * purchases was unresolved at ngrok, that one purchase once ("Lost or unreadable record").
   */
  readonly overCapCents?: number;
}

const month = (iso: string) => iso.slice(0, 7);
export const isMonitors = (p: StandInPurchase) => p.key?.startsWith(MONITOR_KEY_PREFIX) === true;

/** Every broken promise, in words; empty when all held. */
export function topUpViolations(input: OracleInput): string[] {
  const v: string[] = [];
  const { purchases, grants } = input;
  const capCents = input.capCents + (input.overCapCents ?? 0);
  const own = purchases.filter(isMonitors);
  const byHand = purchases.filter((p) => p.key === undefined);

  // The cap by the month ngrok dates each grant in, every purchase grant counted.
  const byGrantMonth = new Map<string, number>();
  for (const g of grants) {
    if (g.category !== 'purchase') continue;
    byGrantMonth.set(
      month(g.createdAt),
      (byGrantMonth.get(month(g.createdAt)) ?? 0) + g.amountCents,
    );
  }
  for (const [m, total] of byGrantMonth) {
    if (total > capCents) v.push(`grants dated ${m} total ${total} > the cap ${capCents}`);
  }
  // The cap by the month each of the monitor's purchases started (any that may charge).
  const byStartMonth = new Map<string, number>();
  const add = (m: string, cents: number) => byStartMonth.set(m, (byStartMonth.get(m) ?? 0) + cents);
  for (const p of own) if (p.status !== 'failed') add(month(p.createdAt), p.amountCents);
  for (const p of byHand) if (p.succeededAt) add(month(p.succeededAt), p.amountCents);
  for (const [m, total] of byStartMonth) {
    if (total > capCents) {
      v.push(`purchases started ${m} (with grants by hand) total ${total} > the cap ${capCents}`);
    }
  }

  // One charge per low spell.
  const charged = own.filter((p) => p.status === 'succeeded');
  for (let i = 1; i < charged.length; i++) {
    const prev = charged[i - 1] as StandInPurchase;
    const next = charged[i] as StandInPurchase;
    const at = purchases.indexOf(next);
    const newSpell = input.lowSpells.some((s) => s.purchases <= at && s.succeeded.has(prev.id));
    if (!newSpell) v.push(`${next.id} charged in the low spell ${prev.id} was bought in`);
  }

  // Every charge announced exactly once; nothing for another's purchase.
  const ids = new Set(purchases.map((p) => p.id));
  const count = new Map<string, number>();
  for (const n of input.notified) {
    if (!n.kind.startsWith('top-up-')) continue;
    const id = n.autoTopUp?.purchaseId;
    if (id === undefined) continue;
    if (!ids.has(id)) v.push(`${n.kind} names ${id}, which ngrok does not have`);
    count.set(`${id} ${n.kind}`, (count.get(`${id} ${n.kind}`) ?? 0) + 1);
  }
  const told = (id: string, kind: string) => count.get(`${id} top-up-${kind}`) ?? 0;
  for (const p of byHand) {
    for (const [key, n] of count) {
      if (key.startsWith(`${p.id} `))
        v.push(`${key.slice(p.id.length + 1)} ×${n} for ${p.id}, bought by hand`);
    }
  }
  for (const p of own) {
    const want = {
      started: 1,
      succeeded: p.status === 'succeeded' ? 1 : 0,
      failed: p.status === 'failed' ? 1 : 0,
    };
    const damaged = input.damaged?.has(p.id) === true;
    for (const [kind, n] of Object.entries(want)) {
      const got = told(p.id, kind);
      const ok = damaged ? got <= 2 && (n > 0 || got === 0) : got === n;
      if (!ok) v.push(`${p.id} (${p.status}): top-up-${kind} sent ${got} times`);
    }
    for (const kind of ['pending-long', 'action-required']) {
      if (told(p.id, kind) > (damaged ? 2 : 1)) {
        v.push(`${p.id}: top-up-${kind} sent ${told(p.id, kind)} times`);
      }
    }
  }
  return v;
}
