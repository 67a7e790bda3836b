import { describe, expect, it } from 'vitest';
import {
  configFingerprint,
  decideTopUp,
  type InFlight,
  idempotencyKey,
  type LedgerFacts,
  type LedgerPurchase,
  monthPurchases,
  type PurchaseRecord,
  type PurchaseReport,
  type TopUpInput,
  type TopUpSettings,
  type TopUpState,
  utcMonth,
} from '../../lambda/watches/top-up/decide.ts';

const HOUR = 3_600_000;
const T0 = new Date('2026-12-10T12:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const SETTINGS: TopUpSettings = {
  amountCents: 2000,
  monthlyCapCents: 6000,
  belowCents: 1000,
  dryRun: false,
};
const KEY1 = 'ngrok-balance-alert-2026-12-1-1';

const grant = (amountCents: number, createdAt = '2026-12-01T09:00:00Z'): LedgerPurchase => ({
  amountCents,
  createdAt,
});
const ledger = (...purchases: LedgerPurchase[]): LedgerFacts => ({ readable: true, purchases });

function input(fields: Partial<TopUpInput> = {}): TopUpInput {
  return {
    account: 'prod',
    settings: SETTINGS,
    observation: { ok: true, balanceCents: 500 },
    test: false,
    ledger: ledger(),
    // A saved state with nothing in it; lost state (undefined) has tests of its own.
    state: { failures: 0 },
    now: T0,
    ...fields,
  };
}

const purchase = (status: PurchaseRecord['status'], extra: Partial<PurchaseRecord> = {}) => ({
  kind: 'purchase' as const,
  purchase: { id: 'cp_1', status, amountCents: 2000, ...extra },
});

const inFlight = (fields: Partial<InFlight> = {}): InFlight => ({
  id: 'cp_1',
  key: KEY1,
  amountCents: 2000,
  startedAt: T0.toISOString(),
  month: '2026-12',
  n: 1,
  balanceBeforeCents: 500,
  ledgerAfterCents: 2000,
  seen: true,
  ...fields,
});

/** The state after a run that bought and got `report` back. */
function afterBuy(report: PurchaseReport, fields: Partial<TopUpInput> = {}) {
  const first = decideTopUp(input(fields));
  return decideTopUp(input({ ...fields, state: first.state, report }));
}

describe('idempotencyKey and the ledger facts', () => {
  it('builds the key from the month, the ledger position and the attempt only', () => {
    expect(idempotencyKey('2026-12', 3, 2)).toBe('ngrok-balance-alert-2026-12-3-2');
    expect(idempotencyKey('2026-12', 99_999, 99_999).length).toBeLessThanOrEqual(255);
  });

  it('counts and sums only the purchases of the given UTC month', () => {
    const purchases = [
      grant(2000, '2026-11-30T23:59:59Z'),
      grant(500, '2026-12-01T00:00:00Z'),
      grant(1000, '2026-12-31T23:59:59Z'),
      grant(700, '2027-01-01T00:00:00Z'),
    ];
    expect(monthPurchases(purchases, '2026-12')).toEqual({ count: 2, totalCents: 1500 });
    expect(utcMonth(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12');
  });

  it('fingerprints all four settings', () => {
    const base = configFingerprint(SETTINGS);
    expect(base).toBe('2000/6000/1000/false');
    for (const change of [
      { amountCents: 2500 },
      { monthlyCapCents: 8000 },
      { belowCents: 1500 },
      { dryRun: true },
    ]) {
      expect(configFingerprint({ ...SETTINGS, ...change })).not.toBe(base);
    }
  });
});

describe('decideTopUp: when to buy', () => {
  it('buys one purchase after a successful read below the threshold, with the derived key', () => {
    // Act
    const decision = decideTopUp(input());
    // Assess
    expect(decision.action).toEqual({ kind: 'buy', amountCents: 2000, idempotencyKey: KEY1 });
    expect(decision.notifications).toEqual([]);
    expect(decision.status).toBe('auto top-up: buying $20.00');
    expect(decision.state.inFlight).toEqual({
      key: KEY1,
      amountCents: 2000,
      startedAt: T0.toISOString(),
      month: '2026-12',
      n: 1,
      balanceBeforeCents: 500,
      ledgerAfterCents: 2000,
    });
  });

  it('numbers the key after this month’s purchases in the ledger', () => {
    const decision = decideTopUp(
      input({ ledger: ledger(grant(2000), grant(500), grant(9999, '2026-11-20T00:00:00Z')) }),
    );
    expect(decision.action).toMatchObject({ idempotencyKey: 'ngrok-balance-alert-2026-12-3-1' });
    expect(decision.state.inFlight?.ledgerAfterCents).toBe(4500);
  });

  it.each([
    ['at the threshold', 1000, 'none'],
    ['one cent below it', 999, 'buy'],
    ['overdrawn', -50, 'buy'],
  ])('with the balance %s (%i): %s', (_name, balanceCents, kind) => {
    const decision = decideTopUp(input({ observation: { ok: true, balanceCents } }));
    expect(decision.action.kind).toBe(kind);
  });

  it('says it is not needed above the threshold, and ends a dry run’s low spell', () => {
    const decision = decideTopUp(
      input({
        observation: { ok: true, balanceCents: 1000 },
        state: { failures: 0, dryRunNoticed: true },
      }),
    );
    expect(decision.status).toBe('auto top-up: not needed above $10.00');
    expect(decision.state).toEqual({ failures: 0 });
  });

  it('never buys when the check failed', () => {
    const decision = decideTopUp(input({ observation: { ok: false } }));
    expect(decision.action).toEqual({ kind: 'none' });
    expect(decision.status).toBe('auto top-up: not buying, the balance could not be read');
  });

  it('does nothing at all on a test invocation, even with a purchase to follow', () => {
    const state: TopUpState = { failures: 0, inFlight: inFlight() };
    const decision = decideTopUp(input({ test: true, state }));
    expect(decision).toEqual({
      state,
      action: { kind: 'none' },
      notifications: [],
      status: 'test run: auto top-up not checked',
    });
    expect(decideTopUp(input({ test: true })).state).toEqual({ failures: 0 });
  });

  it('never buys without a readable ledger', () => {
    const decision = decideTopUp(input({ ledger: { readable: false } }));
    expect(decision.action).toEqual({ kind: 'none' });
    expect(decision.status).toBe(
      "auto top-up: not buying, ngrok's purchase history could not be read",
    );
  });
});

describe('decideTopUp: the monthly cap', () => {
  it('buys up to the cap exactly', () => {
    const decision = decideTopUp(input({ ledger: ledger(grant(2000), grant(2000)) }));
    expect(decision.action.kind).toBe('buy');
  });

  it('refuses past the cap, says so once a month with the total and the cap', () => {
    // Prepare
    const full = ledger(grant(2000), grant(2000), grant(2001));
    // Act
    const first = decideTopUp(input({ ledger: full }));
    const second = decideTopUp(input({ ledger: full, state: first.state, now: at(1) }));
    const nextMonth = decideTopUp(
      input({
        ledger: ledger(grant(5000, '2027-01-01T01:00:00Z')),
        state: second.state,
        now: new Date('2027-01-02T00:00:00Z'),
      }),
    );
    // Assess
    expect(first.action).toEqual({ kind: 'none' });
    expect(first.notifications).toEqual([
      {
        kind: 'top-up-capped',
        account: 'prod',
        amountCents: 2000,
        capCents: 6000,
        monthTotalCents: 6001,
        balanceCents: 500,
        at: T0.toISOString(),
      },
    ]);
    expect(first.status).toBe('auto top-up: blocked by the monthly cap ($60.01 of $60.00 bought)');
    expect(first.state.cappedMonth).toBe('2026-12');
    expect(second.notifications).toEqual([]);
    expect(second.status).toBe(first.status);
    expect(nextMonth.notifications.map((n) => n.kind)).toEqual(['top-up-capped']);
  });

  it('counts a success the ledger does not show yet, and waits for it', () => {
    const lastSuccess = {
      id: 'cp_1',
      at: at(-2).toISOString(),
      amountCents: 2000,
      month: '2026-12',
      balanceBeforeCents: 500,
      ledgerAfterCents: 2000,
    };
    const state: TopUpState = { failures: 0, lastSuccess };
    const lagging = decideTopUp(input({ state }));
    expect(lagging.action).toEqual({ kind: 'none' });
    expect(lagging.status).toBe(
      "auto top-up: bought $20.00, waiting for ngrok's ledger to show it",
    );
    const shown = decideTopUp(input({ state, ledger: ledger(grant(2000)) }));
    expect(shown.action).toMatchObject({ idempotencyKey: 'ngrok-balance-alert-2026-12-2-1' });
    // After a day the grant is taken as shown (its amount may never match).
    const dayLater = decideTopUp(input({ state, now: at(22) }));
    expect(dayLater.action).toMatchObject({ kind: 'buy', idempotencyKey: KEY1 });
    expect(decideTopUp(input({ state, now: at(21.99) })).action.kind).toBe('none');
    // A success of last month does not count against this one.
    const lastMonth = decideTopUp(
      input({ state: { ...state, lastSuccess: { ...lastSuccess, month: '2026-11' } } }),
    );
    expect(lastMonth.action.kind).toBe('buy');
  });
});

describe('decideTopUp: after a success', () => {
  const success: TopUpState = {
    failures: 0,
    lastSuccess: {
      id: 'cp_1',
      at: T0.toISOString(),
      amountCents: 2000,
      month: '2026-12',
      balanceBeforeCents: 500,
      ledgerAfterCents: 2000,
    },
  };
  const shown = ledger(grant(2000));

  it('waits for the balance to show the credit or an hour, whichever comes first', () => {
    const early = decideTopUp(input({ state: success, ledger: shown, now: at(0.99) }));
    expect(early.action).toEqual({ kind: 'none' });
    expect(early.status).toBe('auto top-up: bought $20.00, waiting for the balance to show it');
    const hourLater = decideTopUp(input({ state: success, ledger: shown, now: at(1) }));
    expect(hourLater.action.kind).toBe('buy');
    const credited = decideTopUp(
      input({ state: success, ledger: shown, observation: { ok: true, balanceCents: 501 } }),
    );
    expect(credited.action.kind).toBe('buy');
    const same = decideTopUp(
      input({ state: success, ledger: shown, observation: { ok: true, balanceCents: 500 } }),
    );
    expect(same.action.kind).toBe('none');
  });

  it('a resent key that replays the known success charges nothing and says nothing', () => {
    const state: TopUpState = {
      ...success,
      inFlight: inFlight({ id: undefined, seen: undefined }),
    };
    const decision = decideTopUp(input({ state, report: purchase('succeeded') }));
    expect(decision.notifications).toEqual([]);
    expect(decision.state).toEqual(success);
    expect(decision.status).toBe(
      "auto top-up: bought $20.00, waiting for ngrok's ledger to show it",
    );
  });
});

describe('decideTopUp: following a purchase', () => {
  it('announces a started purchase once, with its id and the balance before it', () => {
    const decision = afterBuy(purchase('pending'));
    expect(decision.notifications).toEqual([
      {
        kind: 'top-up-started',
        account: 'prod',
        amountCents: 2000,
        capCents: 6000,
        purchaseId: 'cp_1',
        balanceCents: 500,
        at: T0.toISOString(),
      },
    ]);
    expect(decision.action).toEqual({ kind: 'none' });
    expect(decision.state.inFlight).toMatchObject({ id: 'cp_1', seen: true });
    expect(decision.status).toBe('auto top-up: $20.00 started, waiting for it');
  });

  it('follows it on every later run, whatever the balance, before anything else', () => {
    const state: TopUpState = { failures: 0, inFlight: inFlight() };
    for (const observation of [{ ok: false } as const, { ok: true, balanceCents: 9999 } as const]) {
      const decision = decideTopUp(input({ state, observation, ledger: { readable: false } }));
      expect(decision.action).toEqual({ kind: 'follow', purchaseId: 'cp_1' });
      expect(decision.status).toBe('auto top-up: $20.00 started, waiting for it');
    }
  });

  it('says once when a purchase is still pending after an hour, and keeps following', () => {
    const state: TopUpState = { failures: 0, inFlight: inFlight() };
    const early = decideTopUp(input({ state, report: purchase('pending'), now: at(0.99) }));
    expect(early.notifications).toEqual([]);
    const late = decideTopUp(input({ state, report: purchase('pending'), now: at(1) }));
    expect(late.notifications.map((n) => [n.kind, n.purchaseId])).toEqual([
      ['top-up-pending-long', 'cp_1'],
    ]);
    expect(late.state.inFlight?.pendingNoticed).toBe(true);
    const later = decideTopUp(
      input({ state: late.state, report: purchase('pending'), now: at(5) }),
    );
    expect(later.notifications).toEqual([]);
    expect(decideTopUp(input({ state: later.state, now: at(6) })).action.kind).toBe('follow');
  });

  it('announces a success once, resets the failures and remembers it', () => {
    const state: TopUpState = { failures: 2, inFlight: inFlight() };
    const decision = decideTopUp(input({ state, report: purchase('succeeded'), now: at(1) }));
    expect(decision.notifications).toEqual([
      {
        kind: 'top-up-succeeded',
        account: 'prod',
        amountCents: 2000,
        capCents: 6000,
        purchaseId: 'cp_1',
        at: at(1).toISOString(),
      },
    ]);
    expect(decision.state).toEqual({
      failures: 0,
      lastSuccess: {
        id: 'cp_1',
        at: at(1).toISOString(),
        amountCents: 2000,
        month: '2026-12',
        balanceBeforeCents: 500,
        ledgerAfterCents: 2000,
      },
    });
    expect(decision.status).toBe('auto top-up: bought $20.00, waiting for the balance to show it');
  });

  it('asks once to confirm the payment at app.ngrok.ai and keeps following', () => {
    const first = afterBuy(purchase('actionRequired'));
    expect(first.notifications.map((n) => n.kind)).toEqual(['top-up-action-required']);
    expect(first.status).toBe(
      'auto top-up: $20.00 waiting for the payment to be confirmed at app.ngrok.ai',
    );
    const again = decideTopUp(input({ state: first.state, report: purchase('actionRequired') }));
    expect(again.notifications).toEqual([]);
    expect(decideTopUp(input({ state: again.state })).action).toEqual({
      kind: 'follow',
      purchaseId: 'cp_1',
    });
  });

  it('follows the purchase a 409 names, and announces it when it turns out pending', () => {
    const conflict = afterBuy({ kind: 'follow', purchaseId: 'cp_9' });
    expect(conflict.action).toEqual({ kind: 'follow', purchaseId: 'cp_9' });
    expect(conflict.status).toBe('auto top-up: following purchase cp_9');
    expect(conflict.notifications).toEqual([]);
    const read = decideTopUp(
      input({
        state: conflict.state,
        report: purchase('pending', { id: 'cp_9', amountCents: 500 }),
      }),
    );
    expect(read.notifications.map((n) => [n.kind, n.purchaseId, n.amountCents])).toEqual([
      ['top-up-started', 'cp_9', 500],
    ]);
    expect(read.state.inFlight).toMatchObject({ id: 'cp_9', amountCents: 500, key: KEY1 });
  });

  it('ignores a report when nothing is in flight', () => {
    const decision = decideTopUp(input({ state: { failures: 1 }, report: purchase('failed') }));
    expect(decision).toMatchObject({ state: { failures: 1 }, notifications: [] });
  });
});

describe('decideTopUp: failures and stops', () => {
  const declined = purchase('failed', {
    failureCode: 'card_declined',
    failureMessage: 'Your card was declined.',
  });

  it('alerts with ngrok’s reason and retries on a later run with the next key', () => {
    const failed = afterBuy(declined);
    expect(failed.notifications).toEqual([
      {
        kind: 'top-up-failed',
        account: 'prod',
        amountCents: 2000,
        capCents: 6000,
        purchaseId: 'cp_1',
        failureCode: 'card_declined',
        failureMessage: 'Your card was declined.',
        consecutiveFailures: 1,
        at: T0.toISOString(),
      },
    ]);
    expect(failed.state).toEqual({
      failures: 1,
      attempts: { month: '2026-12', n: 1, made: 1 },
    });
    expect(failed.status).toBe('auto top-up: the last purchase of $20.00 failed');
    const retry = decideTopUp(input({ state: failed.state, now: at(1) }));
    expect(retry.action).toMatchObject({ idempotencyKey: 'ngrok-balance-alert-2026-12-1-2' });
    // Another ledger position starts again at attempt 1.
    const moved = decideTopUp(input({ state: failed.state, ledger: ledger(grant(500)) }));
    expect(moved.action).toMatchObject({ idempotencyKey: 'ngrok-balance-alert-2026-12-2-1' });
  });

  it.each([
    ['the same position', { month: '2026-12', n: 1, made: 1 }, 2],
    ['another month', { month: '2026-11', n: 1, made: 1 }, 1],
    ['another position', { month: '2026-12', n: 2, made: 1 }, 1],
  ])('counts a failure after one at %s as attempt %i', (_name, attempts, made) => {
    const state: TopUpState = { failures: 1, attempts, inFlight: inFlight() };
    const decision = decideTopUp(input({ state, report: declined }));
    expect(decision.state.attempts).toEqual({ month: '2026-12', n: 1, made });
  });

  it('starts the attempts of a new month at 1, even at the same position', () => {
    const state: TopUpState = { failures: 0, attempts: { month: '2026-11', n: 1, made: 2 } };
    const decision = decideTopUp(input({ state }));
    expect(decision.action).toMatchObject({ idempotencyKey: KEY1 });
  });

  it('stops after three failures in a row and says so, then buys nothing', () => {
    let state: TopUpState | undefined;
    let last = decideTopUp(input());
    for (let i = 0; i < 3; i++) {
      last = decideTopUp(input({ state }));
      last = decideTopUp(input({ state: last.state, report: declined }));
      state = last.state;
    }
    expect(last.notifications.map((n) => n.kind)).toEqual(['top-up-failed', 'top-up-stopped']);
    expect(last.notifications[1]).toMatchObject({ stopReason: 'failures', amountCents: 2000 });
    expect(last.status).toBe('auto top-up stopped: 3 purchases failed in a row');
    expect(state?.stopped).toEqual({
      reason: 'failures',
      config: '2000/6000/1000/false',
      at: T0.toISOString(),
    });
    const next = decideTopUp(input({ state, now: at(5) }));
    expect(next.action).toEqual({ kind: 'none' });
    expect(next.status).toBe('auto top-up stopped: 3 purchases failed in a row');
  });

  const stopped: TopUpState = {
    failures: 3,
    stopped: { reason: 'failures', config: '2000/6000/1000/false', at: T0.toISOString() },
  };

  it('resumes when the configuration changes', () => {
    const decision = decideTopUp(
      input({ state: stopped, settings: { ...SETTINGS, amountCents: 2500 }, now: at(1) }),
    );
    expect(decision.action).toMatchObject({ kind: 'buy', amountCents: 2500 });
    expect(decision.state.failures).toBe(0);
    expect(decision.state.stopped).toBeUndefined();
  });

  it('resumes when the ledger shows a purchase made by hand after the stop', () => {
    const byHand = decideTopUp(
      input({ state: stopped, ledger: ledger(grant(500, at(1).toISOString())), now: at(2) }),
    );
    expect(byHand.action).toMatchObject({ idempotencyKey: 'ngrok-balance-alert-2026-12-2-1' });
    const before = decideTopUp(
      input({ state: stopped, ledger: ledger(grant(500, T0.toISOString())), now: at(2) }),
    );
    expect(before.action.kind).toBe('none');
    const unreadable = decideTopUp(input({ state: stopped, ledger: { readable: false } }));
    expect(unreadable.status).toBe('auto top-up stopped: 3 purchases failed in a row');
  });

  it.each([
    ['no_default_payment_method', 'auto top-up stopped: no saved card'],
    ['metronome_not_provisioned', 'auto top-up stopped: this account cannot buy credits by API'],
    ['billing_disabled', 'auto top-up stopped: credit billing is disabled for this account'],
  ] as const)('a 400 %s stops buying with one alert', (reason, status) => {
    const decision = afterBuy({ kind: 'refused', reason });
    expect(decision.notifications.map((n) => [n.kind, n.stopReason])).toEqual([
      ['top-up-stopped', reason],
    ]);
    expect(decision.status).toBe(status);
    expect(decision.state.inFlight).toBeUndefined();
    expect(decision.state.failures).toBe(0);
    expect(decideTopUp(input({ state: decision.state, now: at(1) })).notifications).toEqual([]);
  });

  it('another refusal counts as a failed purchase', () => {
    const decision = afterBuy({ kind: 'rejected', message: 'HTTP 404: not found' });
    expect(decision.notifications).toMatchObject([
      { kind: 'top-up-failed', failureMessage: 'HTTP 404: not found', consecutiveFailures: 1 },
    ]);
    expect(decision.state.attempts).toEqual({ month: '2026-12', n: 1, made: 1 });
  });

  it('a 429 is not a failure: nothing is kept and a later run tries again', () => {
    const decision = afterBuy({ kind: 'rate-limited' });
    expect(decision.notifications).toEqual([]);
    expect(decision.state).toEqual({ failures: 0 });
    expect(decision.status).toBe('auto top-up: ngrok asked to wait, trying again on a later run');
  });
});

describe('decideTopUp: a request with no answer', () => {
  const unanswered = afterBuy({ kind: 'unavailable', message: 'HTTP 503' });

  it('keeps the key so the next run resends it, low balance or not', () => {
    expect(unanswered.status).toBe('auto top-up: $20.00 requested, no answer yet (HTTP 503)');
    expect(unanswered.state.inFlight).toMatchObject({ key: KEY1 });
    const resent = decideTopUp(
      input({
        state: unanswered.state,
        observation: { ok: true, balanceCents: 5000 },
        ledger: ledger(grant(500)),
        settings: { ...SETTINGS, amountCents: 500 },
        now: at(1),
      }),
    );
    expect(resent.action).toEqual({ kind: 'buy', amountCents: 2000, idempotencyKey: KEY1 });
    expect(resent.state.inFlight?.startedAt).toBe(T0.toISOString());
  });

  it('keeps it without resending in a dry run or past the cap, and drops it in another month', () => {
    // It may have charged: forgetting it would let a run after a purchase by hand (which
    // moves the ledger count) buy past it.
    const state = unanswered.state;
    const dry = decideTopUp(input({ state, settings: { ...SETTINGS, dryRun: true } }));
    expect(dry.state.inFlight).toEqual(state.inFlight);
    expect(dry.action.kind).toBe('none');
    const capped = decideTopUp(input({ state, ledger: ledger(grant(4001)) }));
    expect(capped.state.inFlight).toEqual(state.inFlight);
    expect(capped.action.kind).toBe('none');
    const nextMonth = decideTopUp(
      input({
        state,
        observation: { ok: true, balanceCents: 5000 },
        now: new Date('2027-01-01T00:00:00Z'),
      }),
    );
    expect(nextMonth.state.inFlight).toBeUndefined();
    expect(nextMonth.action.kind).toBe('none');
  });

  it('a run that lost its state derives the same key and replays the purchase', () => {
    const lost = decideTopUp(input({ state: undefined, now: at(0.5) }));
    expect(lost.action).toMatchObject({ idempotencyKey: KEY1 });
  });
});

describe('decideTopUp: lost state never lifts the cap', () => {
  // The month has $40.00 by hand in the ledger; a purchase of ours may be unseen.
  const month = ledger(grant(2000), grant(2000));

  it('holds one purchase back for a day while the ledger has purchases this month', () => {
    // Act
    const lost = decideTopUp(input({ state: undefined, ledger: month }));
    // Assess
    expect(lost.action).toEqual({ kind: 'none' });
    expect(lost.notifications).toEqual([]);
    expect(lost.state.stateLostAt).toBe(T0.toISOString());
    expect(lost.status).toBe(
      'auto top-up: waiting until 2026-12-11T12:00Z: the saved state was lost, so $20.00 of ' +
        'the monthly cap is held back for a purchase that may still be in flight',
    );
    const later = decideTopUp(input({ state: lost.state, ledger: month, now: at(23.9) }));
    expect(later.action.kind).toBe('none');
  });

  it('buys once the day is over, and forgets when the state was lost', () => {
    const lost = decideTopUp(input({ state: undefined, ledger: month }));
    const dayLater = decideTopUp(input({ state: lost.state, ledger: month, now: at(24) }));
    expect(dayLater.action).toMatchObject({ kind: 'buy', amountCents: 2000 });
    expect(dayLater.state.stateLostAt).toBeUndefined();
  });

  it('does not hold back when the cap has room for both, or the month has no purchase yet', () => {
    const roomy = { ...SETTINGS, monthlyCapCents: 8000 };
    expect(
      decideTopUp(input({ state: undefined, ledger: month, settings: roomy })).action.kind,
    ).toBe('buy');
    // With no purchase this month the count cannot have moved: the key replays ours.
    const first = decideTopUp(input({ state: undefined }));
    expect(first.action).toMatchObject({ kind: 'buy', idempotencyKey: KEY1 });
    expect(first.state.stateLostAt).toBe(T0.toISOString());
  });

  it('notes lost state on a test run too, so a test run cannot clear the hold', () => {
    const test = decideTopUp(input({ state: undefined, ledger: month, test: true }));
    expect(test.state).toEqual({ failures: 0, stateLostAt: T0.toISOString() });
    const next = decideTopUp(input({ state: test.state, ledger: month, now: at(1) }));
    expect(next.action.kind).toBe('none');
  });

  it('still refuses for the cap itself, once, beside the hold', () => {
    const full = ledger(grant(2000), grant(2000), grant(2000));
    const lost = decideTopUp(input({ state: undefined, ledger: full }));
    expect(lost.notifications.map((n) => n.kind)).toEqual(['top-up-capped']);
  });
});

describe('decideTopUp: dry run', () => {
  const dry = { ...SETTINGS, dryRun: true };

  it('announces what it would buy once per low spell, and never buys', () => {
    const first = decideTopUp(input({ settings: dry }));
    expect(first.action).toEqual({ kind: 'none' });
    expect(first.status).toBe('auto top-up dry run: would buy $20.00');
    expect(first.notifications).toEqual([
      {
        kind: 'top-up-dry-run',
        account: 'prod',
        amountCents: 2000,
        capCents: 6000,
        balanceCents: 500,
        monthTotalCents: 0,
        at: T0.toISOString(),
      },
    ]);
    const again = decideTopUp(input({ settings: dry, state: first.state, now: at(1) }));
    expect(again.notifications).toEqual([]);
    expect(again.status).toBe(first.status);
    const recovered = decideTopUp(
      input({ settings: dry, state: again.state, observation: { ok: true, balanceCents: 2000 } }),
    );
    const lowAgain = decideTopUp(input({ settings: dry, state: recovered.state, now: at(3) }));
    expect(lowAgain.notifications.map((n) => n.kind)).toEqual(['top-up-dry-run']);
  });

  it('reports the cap instead when the cap would stop it', () => {
    const decision = decideTopUp(input({ settings: dry, ledger: ledger(grant(5000)) }));
    expect(decision.notifications.map((n) => n.kind)).toEqual(['top-up-capped']);
  });
});

describe('decideTopUp: racing and repeated runs', () => {
  it('two runs from the same state and ledger derive the same key', () => {
    const state: TopUpState = { failures: 1, attempts: { month: '2026-12', n: 2, made: 1 } };
    const facts = ledger(grant(1000));
    const a = decideTopUp(input({ state, ledger: facts }));
    const b = decideTopUp(input({ state, ledger: facts, now: at(0.01) }));
    expect(a.action).toEqual(b.action);
    expect(a.action).toMatchObject({ idempotencyKey: 'ngrok-balance-alert-2026-12-2-2' });
  });
});

describe('TopUpState size', () => {
  it('stays under 1 KB with every field set, so it fits the shared 4 KB state parameter', () => {
    // Prepare: every optional field, ids as long as ngrok's are likely to be.
    const id = `cp_${'x'.repeat(60)}`;
    const state: TopUpState = {
      inFlight: {
        ...inFlight({ id }),
        key: idempotencyKey('2026-12', 100, 99),
        pendingNoticed: true,
        actionNoticed: true,
      },
      attempts: { month: '2026-12', n: 100, made: 98 },
      failures: 2,
      stopped: {
        reason: 'no_default_payment_method',
        config: '50000/999999999/999999999/false',
        at: T0.toISOString(),
      },
      lastSuccess: {
        id,
        at: T0.toISOString(),
        amountCents: 50000,
        month: '2026-12',
        balanceBeforeCents: -999999,
        ledgerAfterCents: 999999999,
      },
      cappedMonth: '2026-12',
      dryRunNoticed: true,
    };
    // Act
    const bytes = Buffer.byteLength(JSON.stringify(state));
    // Assess
    expect(bytes).toBeLessThan(1024);
  });
});
