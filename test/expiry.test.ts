import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  type CreditGrant,
  type ExpiryInput,
  type ExpiryState,
  type ExpiryWarning,
  expiryWarnings,
  recordRead,
  shareBalance,
  transactionsReadDue,
} from '../lambda/watches/expiry.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2026-11-30T10:00:00Z');
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();

const grant = (fields: Partial<CreditGrant> = {}): CreditGrant => ({
  category: 'purchase',
  amountCents: 10_000,
  createdAt: '2025-12-10T08:00:00Z',
  expiresAt: '2026-12-10T08:00:00Z',
  ...fields,
});

/** The example: $100 bought a year ago expiring in ten days, a newer $50, $80 left. */
const OLD = grant();
const NEWER = grant({
  amountCents: 5000,
  createdAt: '2026-06-01T00:00:00Z',
  expiresAt: '2027-06-01T00:00:00Z',
});

function warn(fields: Partial<ExpiryInput> = {}) {
  return expiryWarnings({
    account: 'main',
    balanceCents: 8000,
    grants: [NEWER, OLD],
    warningDays: 14,
    state: undefined,
    now: NOW,
    ...fields,
  });
}

describe('shareBalance', () => {
  it('gives the newest grants first claim, so the oldest holds what is left', () => {
    const shares = shareBalance(8000, [OLD, NEWER], NOW);

    expect(shares).toEqual([
      { grant: NEWER, remainingCents: 5000 },
      { grant: OLD, remainingCents: 3000 },
    ]);
  });

  it('counts never-expiring grants (promotional or not) as spent last', () => {
    const forever = grant({
      category: 'promotional',
      amountCents: 2000,
      createdAt: '2024-01-01T00:00:00Z',
      expiresAt: null,
    });

    const shares = shareBalance(8000, [NEWER, OLD, forever], NOW);

    expect(shares.map((s) => [s.grant, s.remainingCents])).toEqual([
      [forever, 2000],
      [NEWER, 5000],
      [OLD, 1000],
    ]);
  });

  it('leaves older grants empty when the balance is below the newer grants', () => {
    const shares = shareBalance(4000, [NEWER, OLD], NOW);

    expect(shares.map((s) => s.remainingCents)).toEqual([4000, 0]);
  });

  it('ignores grants that have already expired', () => {
    const expired = grant({ expiresAt: NOW.toISOString() });

    expect(shareBalance(8000, [expired, NEWER], NOW)).toEqual([
      { grant: NEWER, remainingCents: 5000 },
    ]);
  });

  it('orders grants expiring together newest first', () => {
    const a = grant({ createdAt: '2025-12-10T08:00:00Z', amountCents: 1000 });
    const b = grant({ createdAt: '2025-12-11T08:00:00Z', amountCents: 1000 });

    expect(shareBalance(1500, [a, b], NOW)).toEqual([
      { grant: b, remainingCents: 1000 },
      { grant: a, remainingCents: 500 },
    ]);
  });

  it('gives nothing to any grant at a zero or negative balance', () => {
    expect(shareBalance(-300, [OLD], NOW)).toEqual([{ grant: OLD, remainingCents: 0 }]);
  });

  propertyTest.prop([
    fc.integer({ min: -1000, max: 100_000 }),
    fc.array(
      fc.record({
        category: fc.constantFrom<CreditGrant['category']>('purchase', 'promotional'),
        amountCents: fc.integer({ min: 1, max: 50_000 }),
        createdAt: fc.integer({ min: -400, max: 0 }).map(inDays),
        expiresAt: fc.option(fc.integer({ min: -30, max: 400 }).map(inDays)),
      }),
      { maxLength: 8 },
    ),
  ])(
    'matches the rule: what grants expiring by a date hold = balance − grants expiring after it',
    (balanceCents, grants) => {
      // Act
      const shares = shareBalance(balanceCents, grants, NOW);

      // Assess: at every expiry date, the shares of grants expiring by then add up to the rule.
      for (const { grant: g } of shares) {
        if (g.expiresAt === null) continue;
        const by = Date.parse(g.expiresAt);
        const held = shares
          .filter((s) => s.grant.expiresAt !== null && Date.parse(s.grant.expiresAt) <= by)
          .reduce((sum, s) => sum + s.remainingCents, 0);
        const later = shares
          .filter((s) => s.grant.expiresAt === null || Date.parse(s.grant.expiresAt) > by)
          .reduce((sum, s) => sum + s.grant.amountCents, 0);
        const byRule = Math.max(0, balanceCents - later);
        const early = shares
          .filter((s) => s.grant.expiresAt !== null && Date.parse(s.grant.expiresAt) <= by)
          .reduce((sum, s) => sum + s.grant.amountCents, 0);
        expect(held).toBe(Math.min(byRule, early));
      }
      for (const s of shares) {
        expect(s.remainingCents).toBeGreaterThanOrEqual(0);
        expect(s.remainingCents).toBeLessThanOrEqual(s.grant.amountCents);
      }
    },
  );
});

describe('expiryWarnings', () => {
  it('warns once about $30.00 of the $100 grant expiring in ten days', () => {
    // Act
    const { warnings, state } = warn();

    // Assess
    expect(warnings).toEqual<ExpiryWarning[]>([
      {
        kind: 'credit-expiry',
        account: 'main',
        amountCents: 3000,
        category: 'purchase',
        createdAt: '2025-12-10T08:00:00Z',
        expiresAt: '2026-12-10T08:00:00Z',
        final: false,
        at: NOW.toISOString(),
      },
    ]);
    expect(state.warned).toEqual([
      [Date.parse(OLD.createdAt) / 1000, Date.parse(OLD.expiresAt as string) / 1000, 1],
    ]);
  });

  it('gives exactly one warning over ten days of daily reads, then one last 3 days before', () => {
    // Prepare
    let state: ExpiryState | undefined;
    const sent: Array<[day: number, final: boolean, cents: number]> = [];

    // Act: a read every day, while the balance falls by $2 a day.
    for (let day = 0; day < 12; day++) {
      const now = new Date(NOW.getTime() + day * DAY);
      const result = warn({ state, now, balanceCents: 8000 - day * 200 });
      for (const w of result.warnings) sent.push([day, w.final, w.amountCents]);
      state = result.state;
    }

    // Assess: expires 2026-12-10T08:00Z; 3 days before is day 7 (at 10:00, 2.9 days left).
    expect(sent).toEqual([
      [0, false, 3000],
      [7, true, 1600],
    ]);
    expect(state?.warned).toBeUndefined();
  });

  it('warns at exactly warningDays and exactly 3 days before', () => {
    const expiresAt = inDays(14);
    const g = grant({ expiresAt });

    const first = warn({ grants: [g], balanceCents: 100 });
    const beforeFinal = warn({
      grants: [g],
      balanceCents: 100,
      state: first.state,
      now: new Date(NOW.getTime() + 11 * DAY - 1),
    });
    const final = warn({
      grants: [g],
      balanceCents: 100,
      state: first.state,
      now: new Date(NOW.getTime() + 11 * DAY),
    });

    expect(first.warnings.map((w) => w.final)).toEqual([false]);
    expect(beforeFinal.warnings).toEqual([]);
    expect(final.warnings.map((w) => w.final)).toEqual([true]);
  });

  it('does not warn a moment before the warning period', () => {
    const g = grant({ expiresAt: new Date(NOW.getTime() + 14 * DAY + 1).toISOString() });

    expect(warn({ grants: [g], balanceCents: 100 }).warnings).toEqual([]);
  });

  it('gives a grant first seen inside the last 3 days one warning only', () => {
    const g = grant({ expiresAt: inDays(2) });

    const first = warn({ grants: [g], balanceCents: 100 });
    const next = warn({
      grants: [g],
      balanceCents: 100,
      state: first.state,
      now: new Date(NOW.getTime() + DAY),
    });

    expect(first.warnings.map((w) => w.final)).toEqual([true]);
    expect(next.warnings).toEqual([]);
  });

  it('warns once only when the warning period is 3 days or less', () => {
    const g = grant({ expiresAt: inDays(2) });

    const first = warn({ grants: [g], balanceCents: 100, warningDays: 2 });
    const later = warn({
      grants: [g],
      balanceCents: 100,
      warningDays: 2,
      state: first.state,
      now: new Date(NOW.getTime() + DAY),
    });
    const outside = warn({
      grants: [grant({ expiresAt: inDays(2.5) })],
      balanceCents: 100,
      warningDays: 2,
    });

    expect(first.warnings.map((w) => w.final)).toEqual([true]);
    expect(later.warnings).toEqual([]);
    expect(outside.warnings).toEqual([]);
  });

  it('never warns when warnings are off', () => {
    expect(warn({ warningDays: 0 }).warnings).toEqual([]);
  });

  it('never warns about a grant whose credit is already spent', () => {
    // $50 balance: all of it belongs to the newer grant.
    expect(warn({ balanceCents: 5000 }).warnings).toEqual([]);
    expect(warn({ balanceCents: 0 }).warnings).toEqual([]);
  });

  it('never warns about grants that do not expire', () => {
    const forever = grant({ category: 'promotional', expiresAt: null });

    expect(warn({ grants: [forever], balanceCents: 10_000 }).warnings).toEqual([]);
  });

  it('warns about several grants, promotional and purchased, each with its own share', () => {
    // Prepare: oldest first: promo $20 (5 days), purchase $100 (10 days), newer $50 (never).
    const promo = grant({
      category: 'promotional',
      amountCents: 2000,
      createdAt: '2026-10-01T00:00:00Z',
      expiresAt: inDays(5),
    });
    const forever = { ...NEWER, expiresAt: null };

    // Act
    const { warnings, state } = warn({ grants: [forever, OLD, promo], balanceCents: 16_000 });

    // Assess
    expect(warnings.map((w) => [w.category, w.amountCents, w.final])).toEqual([
      ['purchase', 10_000, false],
      ['promotional', 1000, false],
    ]);
    expect(state.warned).toHaveLength(2);
  });

  it('forgets warnings about grants that have expired, and keeps the rest of the state', () => {
    const state: ExpiryState = {
      readOn: '2026-11-30',
      warned: [
        [1, Math.floor(NOW.getTime() / 1000), 2],
        [Date.parse(OLD.createdAt) / 1000, Date.parse(OLD.expiresAt as string) / 1000, 1],
      ],
    };

    const result = warn({ state });

    expect(result.warnings).toEqual([]);
    expect(result.state).toEqual({
      readOn: '2026-11-30',
      warned: [[Date.parse(OLD.createdAt) / 1000, Date.parse(OLD.expiresAt as string) / 1000, 1]],
    });
  });

  it('tells grants apart by both purchase and expiry time', () => {
    // Prepare: each entry shares one of the two times with OLD, neither both.
    const created = Date.parse(OLD.createdAt) / 1000;
    const expires = Date.parse(OLD.expiresAt as string) / 1000;
    const state: ExpiryState = {
      warned: [
        [created, expires + 60, 2],
        [created - 60, expires, 2],
      ],
    };

    // Act
    const result = warn({ state });

    // Assess
    expect(result.warnings.map((w) => w.amountCents)).toEqual([3000]);
  });

  it('does not warn again after the final warning', () => {
    const g = grant({ expiresAt: inDays(2) });
    const key = [Date.parse(g.createdAt) / 1000, Date.parse(g.expiresAt as string) / 1000] as const;

    const result = warn({ grants: [g], balanceCents: 100, state: { warned: [[...key, 2]] } });

    expect(result.warnings).toEqual([]);
    expect(result.state.warned).toEqual([[...key, 2]]);
  });
});

describe('transactionsReadDue', () => {
  it('reads at the first run, and at the first run of each UTC day, success or not', () => {
    const read = recordRead(undefined, NOW);

    expect(transactionsReadDue(undefined, 14, NOW)).toBe(true);
    expect(read).toEqual({ readOn: '2026-11-30' });
    expect(transactionsReadDue(read, 14, new Date('2026-11-30T23:59:59Z'))).toBe(false);
    expect(transactionsReadDue(read, 14, new Date('2026-12-01T00:00:00Z'))).toBe(true);
  });

  it('never reads when warnings are off', () => {
    expect(transactionsReadDue(undefined, 0, NOW)).toBe(false);
  });

  it('keeps the warnings already sent when recording a read', () => {
    const state: ExpiryState = { readOn: '2026-11-29', warned: [[1, 2, 1]] };

    expect(recordRead(state, NOW)).toEqual({ readOn: '2026-11-30', warned: [[1, 2, 1]] });
  });
});
