/**
 * The purchase decisions at their edges: each exact limit the README states, each status
 * line a balance alert carries, each field an answer from ngrok may or may not change, and
 * stored values that could only make the monitor less careful if they were believed.
 */
import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_MS,
  configFingerprint,
  decideTopUp,
  type Foreign,
  type LedgerPurchase,
  type PurchaseRecord,
  type PurchaseReport,
  readTopUpState,
  type StopReason,
  type TopUpReport,
  type TopUpState,
} from '../../lambda/watches/top-up/decide.ts';
import {
  grant,
  input,
  intent,
  NOW,
  purchase,
  SETTINGS,
  STATE,
  sent,
  withIntent,
} from './decide-fixtures.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();
const later = (ms: number) => new Date(NOW.getTime() + ms);

/** A GET /credits/purchases/{id} answer. */
function read(purchaseId: string, result: PurchaseReport): TopUpReport {
  return { kind: 'read', purchaseId, result };
}

function record(fields: Partial<PurchaseRecord> = {}): PurchaseReport {
  return {
    kind: 'purchase',
    purchase: { id: 'cp_1', status: 'pending', amountCents: 2000, ...fields },
  };
}

const pending = (fields = {}) =>
  withIntent({ phase: 'pending', purchaseId: 'cp_1', told: { started: true }, ...fields });

const watched = (fields: Partial<Foreign> = {}): Foreign => ({
  purchaseId: 'cp_9',
  seenAt: NOW.toISOString(),
  phase: 'open',
  ...fields,
});

const stoppedAt = (when: number, reason: StopReason = 'failures') => ({
  reason,
  config: configFingerprint(SETTINGS),
  at: iso(when),
});

describe('the hold of a new or unreadable record: exactly 24 h 25 min', () => {
  it('buys nothing until the hold ends, then buys and forgets the hold', () => {
    const fresh = decideTopUp(input({ state: undefined }));
    const end = Date.parse('2026-12-11T12:25:00.000Z');
    expect(fresh.state.holdUntil).toBe(iso(end));
    const before = decideTopUp(input({ state: fresh.state, now: new Date(end - 1) }));
    expect(before.action.kind).toBe('none');
    expect(before.status).toBe(
      'auto top-up: waiting until 2026-12-11T12:25Z: its purchase records were started ' +
        "afresh, and a purchase made before may not show in ngrok's list yet",
    );
    const after = decideTopUp(input({ state: fresh.state, now: new Date(end) }));
    expect(after.action.kind).toBe('send');
    expect(after.state.holdUntil).toBeUndefined();
  });
});

describe('the status line each low-balance alert carries', () => {
  it.each<[StopReason, string]>([
    ['failures', '3 purchases failed in a row'],
    ['no_default_payment_method', 'no saved card'],
    ['metronome_not_provisioned', 'this account cannot buy credits by API'],
    ['billing_disabled', 'credit billing is disabled for this account'],
  ])('stopped for %s: says why', (reason, why) => {
    const state = { ...STATE, stopped: stoppedAt(NOW.getTime(), reason) };
    expect(decideTopUp(input({ state })).status).toBe(`auto top-up stopped: ${why}`);
    const requested = { ...withIntent(), stopped: stoppedAt(NOW.getTime(), reason) };
    expect(decideTopUp(input({ state: requested })).status).toBe(
      `auto top-up stopped: ${why} ($20.00 requested earlier, counted until ngrok says how it ended)`,
    );
  });

  it('names what it is doing, or why not, in every other case', () => {
    const succeeded = pending({ phase: 'succeeded', succeededAt: iso(NOW.getTime() - 10 * MIN) });
    const cases: [string, Parameters<typeof input>[0]][] = [
      ['auto top-up: buying $20.00', {}],
      ['auto top-up: not needed above $10.00', { balanceCents: 5000 }],
      ["auto top-up: reading ngrok's purchase history", { ledgerRead: false }],
      [
        'auto top-up: bought $20.00, waiting for the balance to show it',
        { state: { ...succeeded, intents: succeeded.intents } },
      ],
      ['auto top-up dry run: would buy $20.00', { settings: { ...SETTINGS, dryRun: true } }],
      [
        "auto top-up: waiting, a purchase is in progress at ngrok (not one of auto top-up's)",
        { state: { ...STATE, foreign: [watched()] } },
      ],
      ['auto top-up: $20.00 started, waiting for it', { state: pending() }],
      [
        'auto top-up: $20.00 waiting for the payment to be confirmed at app.ngrok.ai',
        { state: pending({ phase: 'actionRequired' }) },
      ],
      ["auto top-up: $20.00 requested, waiting for ngrok's answer", { state: withIntent() }],
      [
        "auto top-up: $20.00 requested, waiting for ngrok's answer",
        { state: withIntent(), settings: { ...SETTINGS, dryRun: true } },
      ],
      [
        "auto top-up: $20.00 to buy, waiting: a purchase is in progress at ngrok (not one of auto top-up's)",
        { state: { ...withIntent(), foreign: [watched()] } },
      ],
    ];
    for (const [status, fields] of cases) expect(decideTopUp(input(fields)).status).toBe(status);
  });

  it('after a purchase failed in this run: tries again on a later run', () => {
    const failed = decideTopUp(
      input({ state: pending(), report: read('cp_1', record({ status: 'failed' })) }),
    );
    expect(failed.action.kind).toBe('none');
    expect(failed.status).toBe(
      'auto top-up: the last purchase failed, trying again on a later run',
    );
  });

  it('after a success seen this run: waits for the balance to show it', () => {
    const done = decideTopUp(
      input({ state: pending(), report: read('cp_1', record({ status: 'succeeded' })) }),
    );
    expect(done.status).toBe('auto top-up: bought $20.00, waiting for the balance to show it');
  });
});

describe('what an answer about one of its purchases changes', () => {
  it('keeps ngrok’s first start time, and counts the larger amount, at most ngrok’s 50,000', () => {
    const first = decideTopUp(
      input({
        state: withIntent(),
        report: sent(record({ createdAt: '2026-12-10T11:58:00.000Z', amountCents: 2500 })),
      }),
    );
    expect(first.state.intents[0]).toMatchObject({
      ngrokCreatedAt: '2026-12-10T11:58:00.000Z',
      amountCents: 2500,
    });
    const second = decideTopUp(
      input({
        state: first.state,
        report: read('cp_1', record({ createdAt: '2026-12-10T11:59:00.000Z', amountCents: 9e9 })),
      }),
    );
    expect(second.state.intents[0]).toMatchObject({
      ngrokCreatedAt: '2026-12-10T11:58:00.000Z',
      amountCents: 50_000,
    });
    expect(readTopUpState(second.state)).toBeDefined();
  });

  it('times "pending over an hour" from ngrok’s start, to the millisecond', () => {
    // The monitor wrote the intent 50 minutes after ngrok started the purchase (a racing
    // run's record, a clock behind): an hour from ngrok's start is what counts.
    const state = pending({
      createdAt: iso(NOW.getTime() + 50 * MIN),
      ngrokCreatedAt: NOW.toISOString(),
    });
    const at = (ms: number) =>
      decideTopUp(
        input({ state, now: later(ms), report: read('cp_1', record({ status: 'pending' })) }),
      ).notifications.map((n) => n.kind);
    expect(at(HOUR - 1)).toEqual([]);
    expect(at(HOUR)).toEqual(['top-up-pending-long']);
  });

  it('a payment to confirm is announced once, and never as "pending over an hour"', () => {
    const first = decideTopUp(
      input({ state: pending(), report: read('cp_1', record({ status: 'actionRequired' })) }),
    );
    expect(first.notifications.map((n) => n.kind)).toEqual(['top-up-action-required']);
    const second = decideTopUp(
      input({
        state: first.state,
        now: later(2 * HOUR),
        report: read('cp_1', record({ status: 'actionRequired' })),
      }),
    );
    expect(second.notifications).toEqual([]);
    // confirmed later but not finished: moves back to pending
    const confirmed = decideTopUp(
      input({ state: first.state, report: read('cp_1', record({ status: 'pending' })) }),
    );
    expect(confirmed.state.intents[0]?.phase).toBe('pending');
  });

  it('a failure is counted in the record; the third stops buying with its reason, once', () => {
    const one = decideTopUp(
      input({ state: pending(), report: read('cp_1', record({ status: 'failed' })) }),
    );
    expect(one.state.failures).toBe(1);
    const third = decideTopUp(
      input({
        state: { ...pending(), failures: 2 },
        report: read('cp_1', record({ status: 'failed' })),
      }),
    );
    expect(third.notifications.find((n) => n.kind === 'top-up-stopped')).toMatchObject({
      stopReason: 'failures',
      amountCents: 2000,
    });
    // already stopped: a fourth failure is announced, the stop is not again
    const fourth = decideTopUp(
      input({
        state: { ...pending(), failures: 3, stopped: stoppedAt(NOW.getTime() - HOUR) },
        report: read('cp_1', record({ status: 'failed' })),
      }),
    );
    expect(fourth.notifications.map((n) => n.kind)).toEqual(['top-up-failed']);
  });

  it('an answer naming the key’s own purchase never moves a settled phase back', () => {
    const done = pending({ phase: 'succeeded', succeededAt: NOW.toISOString() });
    const reuse = decideTopUp(
      input({
        state: done,
        report: sent({ kind: 'follow', purchaseId: 'cp_1', reason: 'idempotency_key_reuse' }),
      }),
    );
    expect(reuse.state.intents[0]?.phase).toBe('succeeded');
    // a 409 "in progress" naming its own purchase is its own, not someone else's
    const inProgress = decideTopUp(
      input({
        state: pending(),
        report: sent({ kind: 'follow', purchaseId: 'cp_1', reason: 'purchase_in_progress' }),
      }),
    );
    expect(inProgress.state.foreign).toEqual([]);
    expect(inProgress.state.intents[0]?.blocked).toBeUndefined();
  });

  it('a 409 naming a purchase it already watches, or another of its own, adds no watch', () => {
    const again = decideTopUp(
      input({
        state: { ...withIntent(), foreign: [watched()] },
        report: sent({ kind: 'follow', purchaseId: 'cp_9', reason: 'purchase_in_progress' }),
      }),
    );
    expect(again.state.foreign).toHaveLength(1);
    const ownOther: TopUpState = {
      ...STATE,
      seq: 2,
      intents: [
        intent({ phase: 'pending', purchaseId: 'cp_1' }),
        intent({ id: 'e1-2', key: 'ngrok-balance-alert-e1-2' }),
      ],
    };
    const named = decideTopUp(
      input({
        state: ownOther,
        report: {
          kind: 'sent',
          key: 'ngrok-balance-alert-e1-2',
          amountCents: 2000,
          result: { kind: 'follow', purchaseId: 'cp_1', reason: 'purchase_in_progress' },
        },
      }),
    );
    expect(named.state.foreign).toEqual([]);
  });
});

describe('"ngrok has not answered for an hour": one notice that says what it heard', () => {
  const quiet = (fields = {}) =>
    withIntent({ unansweredSince: iso(NOW.getTime() - HOUR), ...fields });
  it('quotes at most 120 characters of what it heard', () => {
    const long = 'x'.repeat(200);
    const decision = decideTopUp(
      input({ state: quiet(), report: sent({ kind: 'unavailable', message: long }) }),
    );
    expect(decision.notifications[0]?.failureMessage).toContain(`(${'x'.repeat(120)})`);
  });

  it.each<[string, TopUpState, TopUpReport, string]>([
    ['a 429 to a resend', quiet(), sent({ kind: 'rate-limited' }), 'ngrok asked to wait'],
    [
      'a timeout',
      quiet(),
      sent({ kind: 'unavailable', message: 'POST timed out' }),
      'POST timed out',
    ],
    [
      'a failing status read',
      pending({ unansweredSince: iso(NOW.getTime() - HOUR) }),
      read('cp_1', { kind: 'unavailable', message: 'GET failed: 503' }),
      'GET failed: 503',
    ],
    [
      'a status read refused',
      pending({ unansweredSince: iso(NOW.getTime() - HOUR) }),
      read('cp_1', { kind: 'rejected', message: 'GET refused: 404' }),
      'GET refused: 404',
    ],
    [
      'a status read answered with a 429',
      pending({ unansweredSince: iso(NOW.getTime() - HOUR) }),
      read('cp_1', { kind: 'rate-limited' }),
      'ngrok asked to wait',
    ],
    [
      'a status read answered with a stop reason',
      pending({ unansweredSince: iso(NOW.getTime() - HOUR) }),
      read('cp_1', { kind: 'refused', reason: 'billing_disabled' }),
      'credit billing is disabled for this account',
    ],
    [
      'a status read naming another purchase',
      pending({ unansweredSince: iso(NOW.getTime() - HOUR) }),
      read('cp_1', { kind: 'follow', purchaseId: 'cp_7', reason: 'purchase_in_progress' }),
      'ngrok named purchase cp_7',
    ],
  ])('%s', (_what, state, report, heard) => {
    const decision = decideTopUp(input({ state, report }));
    expect(decision.notifications).toHaveLength(1);
    expect(decision.notifications[0]?.failureMessage).toBe(
      `ngrok has not said how this purchase ended since 2026-12-10T11:00Z (${heard}); auto top-up keeps asking and counts it as bought meanwhile`,
    );
  });
});

describe('answers about purchases it does not know', () => {
  it('a failed read about a purchase nobody follows does not stop this run buying', () => {
    const decision = decideTopUp(
      input({ report: read('cp_5', { kind: 'unavailable', message: 'x' }) }),
    );
    expect(decision.action.kind).toBe('send');
  });

  it('an answer for an intent the record lost is recorded again, with this run’s balance', () => {
    const lost = decideTopUp(
      input({ state: { ...STATE, seq: 1 }, report: sent(purchase('pending')) }),
    );
    expect(lost.state.intents).toMatchObject([
      { id: 'e1-r2', key: 'ngrok-balance-alert-e1-1', purchaseId: 'cp_1', balanceBeforeCents: 400 },
    ]);
    // an intent of that id with another key is not the one that was sent
    const other = decideTopUp(
      input({
        state: withIntent({ key: 'ngrok-balance-alert-zz-1' }),
        report: sent(purchase('pending')),
      }),
    );
    expect(other.state.intents.map((i) => i.key)).toEqual([
      'ngrok-balance-alert-zz-1',
      'ngrok-balance-alert-e1-1',
    ]);
  });

  it('is not recorded twice when another intent already has its purchase; a settled other one does not hide it', () => {
    const owned: TopUpState = {
      ...STATE,
      seq: 2,
      intents: [intent({ id: 'e1-2', key: 'k2', phase: 'pending', purchaseId: 'cp_1' })],
    };
    const dup = decideTopUp(input({ state: owned, report: sent(purchase('pending')) }));
    expect(dup.state.intents).toHaveLength(1);
    const settledOther: TopUpState = {
      ...STATE,
      seq: 1,
      settled: [{ id: 'e1-0', purchaseId: 'cp_0', at: NOW.toISOString() }],
    };
    const recorded = decideTopUp(input({ state: settledOther, report: sent(purchase('pending')) }));
    expect(recorded.state.intents.map((i) => i.purchaseId)).toEqual(['cp_1']);
  });

  it('an unknown kind of answer is a programming error, not a silent pass', () => {
    expect(() =>
      decideTopUp(input({ state: withIntent(), report: sent({ kind: 'odd' } as never) })),
    ).toThrow('unexpected value: {"kind":"odd"}');
  });
});

describe('a purchase by hand it watches', () => {
  const readFor = (id: string, fields: Partial<PurchaseRecord>) =>
    read(id, {
      kind: 'purchase',
      purchase: { id, status: 'pending', amountCents: 2000, ...fields },
    });

  it('learns its amount from a read while still pending, and moves only the one read', () => {
    const state = {
      ...STATE,
      foreign: [watched({ purchaseId: 'cp_8' }), watched({ phase: 'pending' })],
    };
    const decision = decideTopUp(input({ state, report: readFor('cp_9', { amountCents: 2500 }) }));
    expect(decision.state.foreign).toEqual([
      watched({ purchaseId: 'cp_8' }),
      watched({ phase: 'pending', amountCents: 2500 }),
    ]);
  });

  it('counts an amount of 1 cent; a refund-like amount is not counted, never subtracted', () => {
    const one = decideTopUp(
      input({
        state: { ...STATE, foreign: [watched()] },
        report: readFor('cp_9', { amountCents: 1 }),
      }),
    );
    expect(one.state.foreign[0]?.amountCents).toBe(1);
    // $35.00 listed: one more $20.00 passes the $50.00 cap, whatever a negative amount says
    const ledger = { readable: true as const, purchases: [grant(3500)] };
    const negative = decideTopUp(
      input({
        state: { ...STATE, foreign: [watched()] },
        ledger,
        now: later(2 * HOUR),
        report: readFor('cp_9', { status: 'failed', amountCents: -500 }),
      }),
    );
    expect(negative.action.kind).toBe('none');
    const succeededNegative = decideTopUp(
      input({
        state: { ...STATE, foreign: [watched()] },
        ledger,
        report: readFor('cp_9', { status: 'succeeded', amountCents: -500 }),
      }),
    );
    expect(succeededNegative.state.foreign[0]?.amountCents).toBeUndefined();
    expect(decideTopUp(input({ state: succeededNegative.state, ledger })).status).toContain(
      'blocked by the monthly cap',
    );
  });

  it('keeps a start time only if it is one, so the record stays readable', () => {
    const decision = decideTopUp(
      input({
        state: { ...STATE, foreign: [watched()] },
        report: readFor('cp_9', { createdAt: 'soon' }),
      }),
    );
    expect(decision.state.foreign[0]?.createdAt).toBeUndefined();
    expect(readTopUpState(decision.state)).toBeDefined();
  });

  it('a failed read of it means nothing more this run', () => {
    const state = { ...withIntent({ blocked: true }), foreign: [watched()] };
    const decision = decideTopUp(
      input({ state, report: read('cp_9', { kind: 'unavailable', message: 'x' }) }),
    );
    expect(decision.action).toEqual({ kind: 'none' });
  });

  it('counts a success from a day before it was seen (no start time known) to just after', () => {
    // December 31 23:50: December has $30.00 listed; a purchase by hand of $20.00 was seen
    // succeed at 00:00 on a racing run's clock. It may be dated in December: no room left.
    const now = new Date('2026-12-31T23:50:00.000Z');
    const ledger = {
      readable: true as const,
      purchases: [grant(3000, '2026-12-15T00:00:00.000Z')],
    };
    const seen = '2027-01-01T00:00:00.000Z';
    const state = {
      ...STATE,
      foreign: [
        watched({ seenAt: seen, phase: 'succeeded', succeededAt: seen, amountCents: 2000 }),
      ],
    };
    expect(decideTopUp(input({ state, ledger, now })).status).toContain(
      'blocked by the monthly cap',
    );
  });

  it('stops counting a success in months after the one it was seen in', () => {
    // Seen succeeding on November 30 at 22:00: on December 1 it is not December's.
    const now = new Date('2026-12-01T00:30:00.000Z');
    const ledger = {
      readable: true as const,
      purchases: [grant(2000, '2026-12-01T00:10:00.000Z')],
    };
    const seen = '2026-11-30T22:00:00.000Z';
    const state = {
      ...STATE,
      foreign: [
        watched({
          seenAt: seen,
          createdAt: seen,
          phase: 'succeeded',
          succeededAt: seen,
          amountCents: 2000,
        }),
      ],
    };
    expect(decideTopUp(input({ state, ledger, now })).action.kind).toBe('send');
  });
});

describe('counting its own purchases', () => {
  it('from the earlier of its two start times (the monitor’s, ngrok’s), less the clock skew', () => {
    // December 31 23:50. A succeeded purchase whose ngrok start was December 31 23:57 and
    // whose record says January 1 00:08 (a racing run's fast clock) may be dated in December.
    const now = new Date('2026-12-31T23:50:00.000Z');
    const ledger = {
      readable: true as const,
      purchases: [grant(3000, '2026-12-15T00:00:00.000Z')],
    };
    const state = withIntent({
      createdAt: '2027-01-01T00:08:00.000Z',
      ngrokCreatedAt: '2026-12-31T23:57:00.000Z',
      phase: 'succeeded',
      purchaseId: 'cp_1',
      succeededAt: '2026-12-31T22:40:00.000Z',
      balanceBeforeCents: 0,
      told: { started: true, succeeded: true },
    });
    expect(decideTopUp(input({ state, ledger, now })).status).toContain(
      'blocked by the monthly cap',
    );
  });
});

describe('housekeeping never forgets a purchase that may have charged', () => {
  it('an unresolved purchase stays, whatever a stored success time says', () => {
    const old = iso(NOW.getTime() - 3 * 24 * HOUR);
    const state = {
      ...withIntent({ createdAt: old, succeededAt: old }),
      foreign: [watched({ seenAt: old, succeededAt: old, amountCents: 2000 })],
    };
    const decision = decideTopUp(input({ state }));
    expect(decision.state.intents.map((i) => i.id)).toEqual(['e1-1']);
    expect(decision.state.foreign.map((f) => f.purchaseId)).toEqual(['cp_9']);
  });

  it('settling one purchase, or forgetting an old settled entry, keeps the others', () => {
    const longAgo = iso(NOW.getTime() - 41 * 24 * HOUR);
    const state: TopUpState = {
      ...STATE,
      seq: 2,
      intents: [
        intent({ phase: 'failed', purchaseId: 'cp_1', told: { started: true } }),
        intent({ id: 'e1-2', key: 'k2', phase: 'pending', purchaseId: 'cp_2' }),
      ],
      settled: [
        { id: 'e1-0', at: longAgo },
        { id: 'e0-1', at: NOW.toISOString() },
      ],
    };
    const decision = decideTopUp(input({ state }));
    expect(decision.state.intents.map((i) => i.id)).toEqual(['e1-2']);
    expect(decision.state.settled.map((s) => s.id)).toEqual(['e0-1', 'e1-1']);
  });
});

describe('an intent that ngrok refused before anything started', () => {
  it('is followed, not decided again, once it names a purchase', () => {
    const state = withIntent({ blocked: true, purchaseId: 'cp_1', phase: 'pending' });
    expect(decideTopUp(input({ state, balanceCents: 9000 })).action).toEqual({
      kind: 'read',
      purchaseId: 'cp_1',
    });
  });

  it('is sent again only with a balance read this run, and says it is buying', () => {
    const state = withIntent({ blocked: true });
    expect(decideTopUp(input({ state, balanceCents: undefined })).action.kind).toBe('none');
    const again = decideTopUp(input({ state }));
    expect(again.action).toMatchObject({ kind: 'send', key: 'ngrok-balance-alert-e1-1' });
    expect(again.status).toBe('auto top-up: buying $20.00');
  });
});

describe('a stop lifts only for a purchase by hand that cannot be its own', () => {
  const stoppedTwoHoursAgo = (fields = {}) => ({
    ...withIntent({ createdAt: iso(NOW.getTime() - HOUR), ...fields }),
    stopped: stoppedAt(NOW.getTime() - 2 * HOUR),
  });
  const lifts = (state: TopUpState, g: LedgerPurchase) =>
    decideTopUp(input({ state, ledger: { readable: true, purchases: [g] } })).state.stopped ===
    undefined;

  it('not a promotion, not a refund row, not one from before the stop (skew included)', () => {
    const state = { ...STATE, stopped: stoppedAt(NOW.getTime() - 2 * HOUR) };
    const after = iso(NOW.getTime() - HOUR);
    expect(lifts(state, { ...grant(2000, after), category: 'promotional' })).toBe(false);
    expect(lifts(state, grant(-2000, after))).toBe(false);
    expect(lifts(state, grant(0, after))).toBe(false);
    const edge = NOW.getTime() - 2 * HOUR + CLOCK_SKEW_MS;
    expect(lifts(state, grant(2000, iso(edge)))).toBe(false);
    expect(lifts(state, grant(2000, iso(edge + 1)))).toBe(true);
  });

  it('a grant of its own amount, from its start less the skew to the latest its grant could be dated, may be its own', () => {
    const state = stoppedTwoHoursAgo();
    const from = NOW.getTime() - HOUR - CLOCK_SKEW_MS;
    expect(lifts(state, grant(2000, iso(from)))).toBe(false);
    expect(lifts(state, grant(2000, iso(from - 1)))).toBe(true);
    // unresolved: it may be dated as late as this run's end plus the skew
    const latest = NOW.getTime() + 20 * MIN;
    expect(lifts(state, grant(2000, iso(latest)))).toBe(false);
    expect(lifts(state, grant(2000, iso(NOW.getTime() + 4 * MIN)))).toBe(false);
    expect(lifts(state, grant(2000, iso(latest + 1)))).toBe(true);
    expect(lifts(state, grant(2500, iso(NOW.getTime())))).toBe(true);
  });

  it('an unresolved purchase stays "may be its own" whatever a stored success time says', () => {
    const old = iso(NOW.getTime() - 10 * 24 * HOUR);
    const state = {
      ...withIntent({ createdAt: old, succeededAt: old }),
      stopped: stoppedAt(NOW.getTime() - 11 * 24 * HOUR),
    };
    expect(lifts(state, grant(2000, NOW.toISOString()))).toBe(false);
  });
});

describe('readTopUpState: lists of the wrong things', () => {
  it.each([
    ['an intent that is null', { ...STATE, intents: [null] }],
    ['an intent whose id is a list', { ...withIntent(), intents: [{ ...intent(), id: ['e1-1'] }] }],
  ])('reads %s as lost, without throwing', (_what, stored) => {
    expect(readTopUpState(stored)).toBeUndefined();
  });
});

describe('a dry run’s notice', () => {
  it('says the balance and the month’s total', () => {
    const ledger = { readable: true as const, purchases: [grant(1500)] };
    const dry = decideTopUp(input({ settings: { ...SETTINGS, dryRun: true }, ledger }));
    expect(dry.notifications[0]).toMatchObject({
      kind: 'top-up-dry-run',
      balanceCents: 400,
      monthTotalCents: 1500,
    });
  });
});

describe('dates from ngrok or the record, however far off', () => {
  const FAR_AHEAD = '+275760-09-13T00:00:00.000Z';
  const FAR_BACK = '-271821-04-20T00:00:00.000Z';

  it('a purchase by hand dated at the end of time still counts now', () => {
    // $35.00 listed: the $20.00 by hand that ngrok says started in year 275760 leaves no room
    const ledger = { readable: true as const, purchases: [grant(3500)] };
    const read = decideTopUp(
      input({
        state: { ...STATE, foreign: [watched()] },
        ledger,
        report: {
          kind: 'read',
          purchaseId: 'cp_9',
          result: {
            kind: 'purchase',
            purchase: { id: 'cp_9', status: 'succeeded', amountCents: 2000, createdAt: FAR_AHEAD },
          },
        },
      }),
    );
    expect(read.state.foreign[0]?.createdAt).toBe(FAR_AHEAD);
    expect(decideTopUp(input({ state: read.state, ledger })).status).toContain(
      'blocked by the monthly cap ($55.00 of $50.00 bought)',
    );
  });

  it('a purchase of its own that ngrok dates at the beginning of time is counted, and decided on at once', () => {
    const state = pending({
      phase: 'succeeded',
      ngrokCreatedAt: FAR_BACK,
      succeededAt: iso(NOW.getTime() - 2 * HOUR),
      balanceBeforeCents: 0,
    });
    expect(readTopUpState(state)).toBeDefined();
    const ledger = { readable: true as const, purchases: [grant(1500)] };
    expect(decideTopUp(input({ state, ledger })).status).toBe(
      'auto top-up: blocked by the monthly cap ($35.00 of $50.00 bought)',
    );
  });
});
