/**
 * The artifact sequences' oracle (test/support/top-up-oracle.ts) finds each broken promise
 * it is meant to find, from ngrok's purchases and grants and what SNS received.
 */
import { describe, expect, it } from 'vitest';
import type { StandInGrant, StandInPurchase } from '../support/ngrok-credits-stand-in.ts';
import { type OracleInput, topUpViolations } from '../support/top-up-oracle.ts';

function purchase(
  n: number,
  createdAt: string,
  succeededAt?: string,
  by: 'monitor' | 'hand' = 'monitor',
): StandInPurchase {
  return {
    id: `cp_${n}`,
    key: by === 'hand' ? undefined : `ngrok-balance-alert-e-${n}`,
    amountCents: 2000,
    status: succeededAt ? 'succeeded' : 'pending',
    createdAt,
    ...(succeededAt && { succeededAt }),
  };
}

const grantOf = (p: StandInPurchase): StandInGrant => ({
  amountCents: p.amountCents,
  createdAt: p.succeededAt ?? '',
  category: 'purchase',
  purchaseId: p.id,
  listedFrom: 0,
});

const announced = (p: StandInPurchase) => [
  { kind: 'top-up-started', autoTopUp: { purchaseId: p.id } },
  ...(p.status === 'succeeded'
    ? [{ kind: 'top-up-succeeded', autoTopUp: { purchaseId: p.id } }]
    : []),
];

/** Purchases bought one per low spell, each announced once, under a $50.00 cap. */
function input(purchases: StandInPurchase[], over: Partial<OracleInput> = {}): OracleInput {
  return {
    capCents: 5000,
    purchases,
    grants: purchases.filter((p) => p.succeededAt).map(grantOf),
    lowSpells: purchases.map((_, i) => ({
      purchases: i,
      succeeded: new Set(purchases.slice(0, i).map((p) => p.id)),
    })),
    notified: purchases.filter((p) => p.key !== undefined).flatMap(announced),
    ...over,
  };
}

const DEC = '2026-12-31T23:55:00.000Z';
const JAN = '2027-01-01T00:05:00.000Z';

describe('the top-up oracle', () => {
  it('finds nothing wrong with purchases that keep every promise', () => {
    const ps = [purchase(1, DEC, JAN), purchase(2, JAN)];
    expect(topUpViolations(input(ps))).toEqual([]);
  });

  it('counts every purchase grant by the month ngrok dates it, purchases by hand included', () => {
    const ps = [purchase(1, DEC, JAN), purchase(2, JAN, JAN, 'hand')];
    expect(topUpViolations(input(ps, { capCents: 2500 }))).toEqual([
      'grants dated 2027-01 total 4000 > the cap 2500',
    ]);
  });

  it('counts the monitor’s purchases by the month they started', () => {
    const ps = [purchase(1, DEC, DEC), purchase(2, DEC)];
    expect(topUpViolations(input(ps, { capCents: 2500 }))).toEqual([
      'purchases started 2026-12 (with grants by hand) total 4000 > the cap 2500',
    ]);
  });

  it('finds a second charge in one low spell', () => {
    const ps = [purchase(1, DEC, DEC), purchase(2, DEC, JAN)];
    expect(topUpViolations(input(ps, { lowSpells: [] }))).toEqual([
      'cp_2 charged in the low spell cp_1 was bought in',
    ]);
  });

  it('finds a charge announced twice or not at all, and a purchase by hand announced', () => {
    const ps = [purchase(1, DEC, DEC), purchase(2, DEC, DEC, 'hand')];
    const twice = input(ps);
    expect(topUpViolations({ ...twice, notified: [...twice.notified, ...twice.notified] })).toEqual(
      [
        'cp_1 (succeeded): top-up-started sent 2 times',
        'cp_1 (succeeded): top-up-succeeded sent 2 times',
      ],
    );
    expect(topUpViolations({ ...twice, notified: twice.notified.slice(0, 1) })).toEqual([
      'cp_1 (succeeded): top-up-succeeded sent 0 times',
    ]);
    expect(
      topUpViolations({
        ...twice,
        notified: [...twice.notified, { kind: 'top-up-failed', autoTopUp: { purchaseId: 'cp_2' } }],
      }),
    ).toEqual(['top-up-failed ×1 for cp_2, bought by hand']);
  });

  it('lets a lost or rolled-back record repeat a notice, never more than twice', () => {
    const ps = [purchase(1, DEC, DEC)];
    const base = input(ps, { damaged: new Set(['cp_1']) });
    const again = { ...base, notified: [...base.notified, ...base.notified] };
    expect(topUpViolations(again)).toEqual([]);
    expect(topUpViolations({ ...again, notified: [...again.notified, ...base.notified] })).toEqual([
      'cp_1 (succeeded): top-up-started sent 3 times',
      'cp_1 (succeeded): top-up-succeeded sent 3 times',
    ]);
  });
});
