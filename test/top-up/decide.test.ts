/**
 * The purchase decisions on their own: what a stored record may say, how the cap counts,
 * and what each answer from ngrok does to an intent. The sequences across runs are in
 * money.regressions.test.ts and the model.
 */
import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_MS,
  configFingerprint,
  decideTopUp,
  HOLD_MS,
  type Intent,
  idempotencyKey,
  monthIndex,
  monthTotals,
  newEpoch,
  PENDING_NOTICE_MS,
  readTopUpState,
  type TopUpState,
} from '../../lambda/watches/top-up/decide.ts';
import {
  at,
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

describe('keys, epochs and months', () => {
  it('makes keys from the epoch and the intent number only, within ngrok’s 255 characters', () => {
    expect(idempotencyKey('e1', 3)).toBe('ngrok-balance-alert-e1-3');
    const epoch = newEpoch('x'.repeat(300), NOW);
    expect(epoch).toMatch(/^[a-z0-9]{1,40}$/);
    expect(idempotencyKey(epoch, Number.MAX_SAFE_INTEGER).length).toBeLessThanOrEqual(255);
    expect(newEpoch('Run-1/A', NOW)).toBe(`${NOW.getTime().toString(36)}run1a`);
  });

  it('numbers months in order, across a year end', () => {
    const december = monthIndex(Date.parse('2026-12-31T23:59:59.999Z'));
    expect(monthIndex(Date.parse('2026-12-01T00:00:00Z'))).toBe(december);
    expect(monthIndex(Date.parse('2027-01-01T00:00:00Z'))).toBe(december + 1);
    expect(monthIndex(Date.parse('2026-11-30T23:59:59Z'))).toBe(december - 1);
    // past the range of dates: the range's last (or first) month, never "no month"
    expect(monthIndex(8.64e15 + 1)).toBe(monthIndex(8.64e15));
    expect(monthIndex(-8.64e15 - 1)).toBe(monthIndex(-8.64e15));
    expect(Number.isNaN(monthIndex(8.64e15))).toBe(false);
  });

  it('fingerprints every setting a stop applies to', () => {
    const base = configFingerprint(SETTINGS);
    for (const change of [
      { amountCents: 1 },
      { monthlyCapCents: 1 },
      { belowCents: 1 },
      { dryRun: true },
    ]) {
      expect(configFingerprint({ ...SETTINGS, ...change })).not.toBe(base);
    }
  });
});

describe('monthTotals', () => {
  const month = (m: string) => monthIndex(Date.parse(`${m}-01T00:00:00Z`));

  it('adds purchase grants by their month, leaving out promotions and refund rows', () => {
    const totals = monthTotals(
      [
        grant(500),
        grant(700, '2026-11-30T23:59:59.000Z'),
        { ...grant(900), category: 'promotional' },
        grant(-500),
      ],
      [],
      [month('2026-11'), month('2026-12'), month('2027-01')],
    );
    expect(totals).toEqual([700, 500, 0]);
  });

  it('counts a purchase in every month its grant could be dated in, on top of listed grants', () => {
    const totals = monthTotals(
      [grant(2000, '2026-12-01T00:02:00.000Z')],
      [
        {
          amountCents: 2000,
          from: Date.parse('2026-11-30T23:50:00Z'),
          to: Date.parse('2026-12-01T00:10:00Z'),
        },
      ],
      [month('2026-10'), month('2026-11'), month('2026-12'), month('2027-01')],
    );
    expect(totals).toEqual([0, 2000, 4000, 0]);
  });

  it('counts a purchase without a date it could be dated by in every month', () => {
    const undated = { amountCents: 2000, from: Number.NaN, to: NOW.getTime() };
    expect(monthTotals([], [undated], [month('2026-11'), month('2027-01')])).toEqual([2000, 2000]);
    expect(
      monthTotals([], [{ ...undated, from: NOW.getTime(), to: Number.NaN }], [month('2026-11')]),
    ).toEqual([2000]);
  });

  it('counts a purchase whose dates are the wrong way round in every month between them', () => {
    const backwards = {
      amountCents: 2000,
      from: NOW.getTime(),
      to: NOW.getTime() - 100 * 86_400_000,
    };
    expect(
      monthTotals([], [backwards], [month('2026-08'), month('2026-11'), month('2026-12')]),
    ).toEqual([0, 2000, 2000]);
  });
});

describe('readTopUpState: stored values can only make the monitor more careful', () => {
  it('accepts what the decisions write', () => {
    expect(readTopUpState(withIntent({ phase: 'pending', purchaseId: 'cp_1' }))).toBeDefined();
    expect(readTopUpState(STATE)).toEqual(STATE);
  });

  it.each([
    ['not an object', 'x'],
    ['no epoch', { ...STATE, epoch: undefined }],
    ['an epoch that cannot be sent in a key', { ...STATE, epoch: 'a b' }],
    ['a negative sequence', { ...STATE, seq: -1 }],
    ['a fractional failure count', { ...STATE, failures: 0.5 }],
    ['an intent numbered past the sequence', { ...withIntent(), seq: 0 }],
    ['a negative amount', withIntent({ amountCents: -2000 })],
    ['an amount ngrok would never take', withIntent({ amountCents: 50_001 })],
    ['an unknown phase', withIntent({ phase: 'refunded' as never })],
    ['a success without its time', withIntent({ phase: 'succeeded' })],
    ['a time that is not one', withIntent({ createdAt: 'soon' })],
    ['a key with a space', withIntent({ key: 'a b' })],
    ['a hold that is not a time', { ...STATE, holdUntil: 'later' }],
    [
      'an unknown stop reason',
      { ...STATE, stopped: { reason: 'x', config: '', at: NOW.toISOString() } },
    ],
    [
      'a watched purchase without a time',
      { ...STATE, foreign: [{ purchaseId: 'cp_9', phase: 'open' }] },
    ],
    ['a settled entry without a time', { ...STATE, settled: [{ id: 'e1-1' }] }],
    ['intents that are not a list', { ...STATE, intents: {} }],
  ])('reads %s as lost: a new epoch, and a hold of a day', (_what, stored) => {
    expect(readTopUpState(stored)).toBeUndefined();
    const decision = decideTopUp(input({ state: stored }));
    expect(decision.restarted).toBe(true);
    expect(decision.action).toEqual({ kind: 'none' });
    expect(decision.state.holdUntil).toBe(new Date(NOW.getTime() + HOLD_MS).toISOString());
    expect(decision.state.epoch).not.toBe('e1');
    expect(decision.status).toContain('waiting until');
  });
});

describe('decideTopUp: starting a purchase', () => {
  it('writes an intent and sends its key when the balance is low and the cap allows', () => {
    const decision = decideTopUp(input());
    expect(decision.action).toEqual({
      kind: 'send',
      key: 'ngrok-balance-alert-e1-1',
      amountCents: 2000,
    });
    expect(decision.state.seq).toBe(1);
    expect(decision.state.intents).toEqual([intent({ by: 'run-1' })]);
    expect(decision.notifications).toEqual([]);
  });

  it('asks for the ledger first, and never buys without a readable one', () => {
    expect(decideTopUp(input({ ledgerRead: false })).action).toEqual({ kind: 'ledger' });
    const unreadable = decideTopUp(input({ ledger: { readable: false } }));
    expect(unreadable.action.kind).toBe('none');
    expect(unreadable.status).toContain('could not be read');
  });

  it('buys nothing at or above the buy level, or without a balance', () => {
    expect(decideTopUp(input({ balanceCents: 1000 })).action.kind).toBe('none');
    expect(decideTopUp(input({ balanceCents: 999 })).action.kind).toBe('send');
    expect(decideTopUp(input({ balanceCents: undefined })).status).toContain(
      'balance could not be read',
    );
  });

  it('keeps the cap exactly, and announces the refusal once a month', () => {
    const full = { readable: true as const, purchases: [grant(3000)] };
    expect(decideTopUp(input({ ledger: full })).action.kind).toBe('send');
    const over = { readable: true as const, purchases: [grant(3001)] };
    const refused = decideTopUp(input({ ledger: over }));
    expect(refused.action.kind).toBe('none');
    expect(refused.notifications.map((n) => n.kind)).toEqual(['top-up-capped']);
    expect(refused.notifications[0]).toMatchObject({ monthTotalCents: 3001, capCents: 5000 });
    const again = decideTopUp(input({ ledger: over, state: refused.state, now: at(1) }));
    expect(again.notifications).toEqual([]);
  });

  it('near a month’s end, a purchase must fit the next month too', () => {
    const endOfMonth = new Date('2026-12-31T23:58:00.000Z');
    const january = {
      readable: true as const,
      purchases: [grant(3500, '2027-01-01T00:00:00.000Z')],
    };
    expect(decideTopUp(input({ ledger: january, now: endOfMonth })).action.kind).toBe('none');
    // an hour later than that, December is out of reach
    const december = {
      readable: true as const,
      purchases: [grant(3500, '2026-12-31T12:00:00.000Z')],
    };
    const newYear = new Date('2027-01-01T00:30:00.000Z');
    expect(decideTopUp(input({ ledger: december, now: newYear })).action.kind).toBe('send');
    expect(
      decideTopUp(
        input({
          ledger: december,
          now: new Date(newYear.getTime() - 30 * 60_000 + CLOCK_SKEW_MS - 1),
        }),
      ).action.kind,
    ).toBe('none');
  });

  it('a dry run announces once per low spell and writes no intent', () => {
    const dry = { ...SETTINGS, dryRun: true };
    const first = decideTopUp(input({ settings: dry }));
    expect(first.action.kind).toBe('none');
    expect(first.state.intents).toEqual([]);
    expect(first.notifications.map((n) => n.kind)).toEqual(['top-up-dry-run']);
    expect(decideTopUp(input({ settings: dry, state: first.state })).notifications).toEqual([]);
    const over = decideTopUp(input({ settings: dry, state: first.state, balanceCents: 5000 }));
    expect(over.state.dryRunNoticed).toBeUndefined();
  });
});

describe('decideTopUp: following an intent', () => {
  it('resends the key of an intent nobody has heard about, low balance or not', () => {
    const decision = decideTopUp(input({ state: withIntent(), balanceCents: 9000 }));
    expect(decision.action).toMatchObject({ kind: 'send', key: 'ngrok-balance-alert-e1-1' });
  });

  it('never sends from a dry run or while stopped, and counts the intent meanwhile', () => {
    const dry = decideTopUp(
      input({ state: withIntent(), settings: { ...SETTINGS, dryRun: true } }),
    );
    expect(dry.action.kind).toBe('none');
    const stopped = {
      ...withIntent(),
      stopped: {
        reason: 'no_default_payment_method' as const,
        config: configFingerprint(SETTINGS),
        at: NOW.toISOString(),
      },
    };
    expect(decideTopUp(input({ state: stopped })).action.kind).toBe('none');
  });

  it('announces the start once, then success once, and resets the failure count', () => {
    const started = decideTopUp(
      input({ state: { ...withIntent(), failures: 2 }, report: sent(purchase('pending')) }),
    );
    expect(started.notifications.map((n) => n.kind)).toEqual(['top-up-started']);
    expect(started.state.intents[0]).toMatchObject({
      phase: 'pending',
      purchaseId: 'cp_1',
      told: { started: true },
    });
    expect(started.action.kind).toBe('none');
    const done = decideTopUp(
      input({
        state: started.state,
        report: { kind: 'read', purchaseId: 'cp_1', result: purchase('succeeded') },
      }),
    );
    expect(done.notifications.map((n) => n.kind)).toEqual(['top-up-succeeded']);
    expect(done.state.failures).toBe(0);
    const again = decideTopUp(
      input({
        state: done.state,
        report: { kind: 'read', purchaseId: 'cp_1', result: purchase('succeeded') },
      }),
    );
    expect(again.notifications).toEqual([]);
    // a stale answer does not move it back
    const stale = decideTopUp(
      input({
        state: done.state,
        report: { kind: 'read', purchaseId: 'cp_1', result: purchase('pending') },
      }),
    );
    expect(stale.state.intents[0]?.phase).toBe('succeeded');
  });

  it('counts a success until ngrok has had the time to list its grant, then settles it', () => {
    const done = withIntent({
      phase: 'succeeded',
      purchaseId: 'cp_1',
      succeededAt: NOW.toISOString(),
      told: { started: true, succeeded: true },
    });
    const ledger = { readable: true as const, purchases: [grant(2000, NOW.toISOString())] };
    const during = decideTopUp(input({ state: done, ledger, now: at(2) }));
    expect(during.status).toContain('blocked by the monthly cap ($40.00');
    const after = decideTopUp(
      input({ state: done, ledger, now: new Date(NOW.getTime() + HOLD_MS) }),
    );
    expect(after.state.intents.map((i) => i.id)).toEqual(['e1-2']);
    expect(after.state.settled).toEqual([
      { id: 'e1-1', purchaseId: 'cp_1', at: after.state.settled[0]?.at },
    ]);
    expect(after.action.kind).toBe('send');
  });

  it('waits for the balance to show a success before buying again', () => {
    const done = withIntent({
      phase: 'succeeded',
      purchaseId: 'cp_1',
      succeededAt: NOW.toISOString(),
      told: { started: true, succeeded: true },
    });
    const roomy = { ...SETTINGS, monthlyCapCents: 50_000 };
    expect(
      decideTopUp(input({ state: done, settings: roomy, now: at(0.49), balanceCents: 900 })).action
        .kind,
    ).toBe('none');
    expect(
      decideTopUp(input({ state: done, settings: roomy, now: at(0.5), balanceCents: 401 })).action
        .kind,
    ).toBe('send');
    expect(
      decideTopUp(input({ state: done, settings: roomy, now: at(0.5), balanceCents: 400 })).action
        .kind,
    ).toBe('none');
    expect(
      decideTopUp(input({ state: done, settings: roomy, now: at(1), balanceCents: 100 })).action
        .kind,
    ).toBe('send');
  });

  it('announces a failure with ngrok’s reason, and stops after three in a row', () => {
    const failed = decideTopUp(
      input({
        state: { ...withIntent(), failures: 2 },
        report: sent({
          kind: 'purchase',
          purchase: {
            id: 'cp_1',
            status: 'failed',
            amountCents: 2000,
            failureCode: 'card_declined',
          },
        }),
      }),
    );
    expect(failed.notifications.map((n) => n.kind)).toEqual([
      'top-up-started',
      'top-up-failed',
      'top-up-stopped',
    ]);
    expect(failed.notifications[1]).toMatchObject({
      failureCode: 'card_declined',
      consecutiveFailures: 3,
    });
    expect(failed.state.stopped?.reason).toBe('failures');
    expect(failed.state.intents).toEqual([]);
    expect(failed.state.settled.map((s) => s.purchaseId)).toEqual(['cp_1']);
  });

  it('a failure does not retry in the same run', () => {
    const failed = decideTopUp(input({ state: withIntent(), report: sent(purchase('failed')) }));
    expect(failed.action.kind).toBe('none');
    expect(decideTopUp(input({ state: failed.state, now: at(0.1) })).action.kind).toBe('send');
  });

  it('needs action: announced once, followed', () => {
    const first = decideTopUp(
      input({ state: withIntent(), report: sent(purchase('actionRequired')) }),
    );
    expect(first.notifications.map((n) => n.kind)).toEqual([
      'top-up-started',
      'top-up-action-required',
    ]);
    const next = decideTopUp(input({ state: first.state, now: at(1) }));
    expect(next.action).toEqual({ kind: 'read', purchaseId: 'cp_1' });
    expect(next.status).toContain('confirmed at app.ngrok.ai');
  });

  it('a purchase pending over an hour gets one notice', () => {
    const state = withIntent({ phase: 'pending', purchaseId: 'cp_1', told: { started: true } });
    const read = (now: Date, s: TopUpState) =>
      decideTopUp(
        input({
          state: s,
          now,
          report: { kind: 'read', purchaseId: 'cp_1', result: purchase('pending') },
        }),
      );
    expect(read(new Date(NOW.getTime() + PENDING_NOTICE_MS - 1), state).notifications).toEqual([]);
    const long = read(new Date(NOW.getTime() + PENDING_NOTICE_MS), state);
    expect(long.notifications.map((n) => n.kind)).toEqual(['top-up-pending-long']);
    expect(read(at(3), long.state).notifications).toEqual([]);
  });

  it.each([
    ['a timeout', { kind: 'unavailable', message: 'timed out' }],
    ['a 429 after an attempt that may have landed', { kind: 'rate-limited' }],
    ['another 4xx', { kind: 'rejected', message: 'HTTP 400' }],
  ] as const)('%s keeps the intent, counted, and says so once after an hour', (_what, result) => {
    const first = decideTopUp(input({ state: withIntent(), report: sent(result) }));
    expect(first.state.intents[0]).toMatchObject({
      phase: 'open',
      unansweredSince: NOW.toISOString(),
    });
    expect(first.action.kind).toBe('none');
    const later = decideTopUp(input({ state: first.state, now: at(1), report: sent(result) }));
    expect(later.notifications.map((n) => n.kind)).toEqual(['top-up-pending-long']);
    expect(later.notifications[0]?.failureMessage).toContain('counts it as bought meanwhile');
    expect(
      decideTopUp(input({ state: later.state, now: at(2), report: sent(result) })).notifications,
    ).toEqual([]);
  });
});

describe('decideTopUp: what ngrok refuses', () => {
  it('a 409 naming a purchase not ours: wait, watch it, never announce it', () => {
    const refused = decideTopUp(
      input({
        state: withIntent(),
        report: sent({ kind: 'follow', purchaseId: 'cp_9', reason: 'purchase_in_progress' }),
      }),
    );
    expect(refused.notifications).toEqual([]);
    expect(refused.state.foreign).toEqual([
      { purchaseId: 'cp_9', seenAt: NOW.toISOString(), phase: 'open' },
    ]);
    expect(refused.state.intents[0]).toMatchObject({ phase: 'open', blocked: true });
    expect(refused.action).toEqual({ kind: 'read', purchaseId: 'cp_9' });
    expect(refused.status).toContain(
      "a purchase is in progress at ngrok (not one of auto top-up's)",
    );
    const watched = decideTopUp(
      input({
        state: refused.state,
        report: {
          kind: 'read',
          purchaseId: 'cp_9',
          result: {
            kind: 'purchase',
            purchase: { id: 'cp_9', status: 'failed', amountCents: 500 },
          },
        },
      }),
    );
    expect(watched.notifications).toEqual([]);
    expect(watched.state.failures).toBe(0);
    expect(watched.state.foreign).toEqual([]);
  });

  it('a refused intent is sent again only if it would be decided now', () => {
    const blocked = withIntent({ blocked: true });
    expect(decideTopUp(input({ state: blocked })).action).toMatchObject({
      kind: 'send',
      key: 'ngrok-balance-alert-e1-1',
    });
    expect(decideTopUp(input({ state: blocked, balanceCents: 5000 })).action.kind).toBe('none');
    const full = { readable: true as const, purchases: [grant(3001)] };
    expect(decideTopUp(input({ state: blocked, ledger: full })).action.kind).toBe('none');
    // a watched purchase by hand that succeeded counts against the cap
    const watched = {
      ...blocked,
      foreign: [
        {
          purchaseId: 'cp_9',
          seenAt: NOW.toISOString(),
          phase: 'succeeded' as const,
          amountCents: 3001,
          succeededAt: NOW.toISOString(),
        },
      ],
    };
    expect(decideTopUp(input({ state: watched })).action.kind).toBe('none');
  });

  it('a 409 key reuse names this intent’s own purchase: follow it', () => {
    const reuse = decideTopUp(
      input({
        state: withIntent(),
        report: sent({ kind: 'follow', purchaseId: 'cp_1', reason: 'idempotency_key_reuse' }),
      }),
    );
    expect(reuse.state.intents[0]).toMatchObject({ purchaseId: 'cp_1', phase: 'pending' });
    expect(reuse.action).toEqual({ kind: 'read', purchaseId: 'cp_1' });
  });

  it('a 400 that no retry fixes stops buying, once, until the settings change', () => {
    const refused = decideTopUp(
      input({
        state: withIntent(),
        report: sent({ kind: 'refused', reason: 'no_default_payment_method' }),
      }),
    );
    expect(refused.notifications.map((n) => n.kind)).toEqual(['top-up-stopped']);
    expect(refused.state.stopped?.reason).toBe('no_default_payment_method');
    expect(decideTopUp(input({ state: refused.state, now: at(1) })).action.kind).toBe('none');
    const changed = decideTopUp(
      input({ state: refused.state, settings: { ...SETTINGS, amountCents: 2500 } }),
    );
    expect(changed.state.stopped).toBeUndefined();
    expect(changed.action).toMatchObject({ kind: 'send', amountCents: 2000 });
  });

  it('a stop lifts after a purchase by hand the ledger lists since', () => {
    const stopped = {
      ...STATE,
      stopped: {
        reason: 'failures' as const,
        config: configFingerprint(SETTINGS),
        at: NOW.toISOString(),
      },
      failures: 3,
    };
    const before = { readable: true as const, purchases: [grant(500, NOW.toISOString())] };
    expect(
      decideTopUp(input({ state: stopped, ledger: before, now: at(1) })).state.stopped,
    ).toBeDefined();
    const after = { readable: true as const, purchases: [grant(500, at(0.5).toISOString())] };
    const lifted = decideTopUp(input({ state: stopped, ledger: after, now: at(1) }));
    expect(lifted.state.stopped).toBeUndefined();
    expect(lifted.state.failures).toBe(0);
  });

  it('an answer about an intent the record lost is recorded again: the purchase is ours', () => {
    const recovered = decideTopUp(input({ report: sent(purchase('pending')) }));
    expect(recovered.state.intents).toMatchObject([
      { key: 'ngrok-balance-alert-e1-1', purchaseId: 'cp_1', phase: 'pending' },
    ]);
    const known = {
      ...STATE,
      settled: [{ id: 'e1-1', purchaseId: 'cp_1', at: NOW.toISOString() }],
    };
    const late = decideTopUp(input({ state: known, report: sent(purchase('failed')) }));
    expect(late.state.intents.some((i) => i.purchaseId === 'cp_1')).toBe(false);
    expect(late.notifications).toEqual([]);
  });
});

describe('readTopUpState: every field of a stored purchase is checked', () => {
  const good = intent({ phase: 'pending', purchaseId: 'cp_1', ngrokCreatedAt: NOW.toISOString() });
  const foreign = { purchaseId: 'cp_9', seenAt: NOW.toISOString(), phase: 'open' };
  const settled = { id: 'e0-1', purchaseId: 'cp_0', at: NOW.toISOString() };
  const stored = (fields: Record<string, unknown>, part: 'intent' | 'foreign' | 'settled') => ({
    ...STATE,
    seq: 1,
    intents: [part === 'intent' ? { ...good, ...fields } : good],
    foreign: [part === 'foreign' ? { ...foreign, ...fields } : foreign],
    settled: [part === 'settled' ? { ...settled, ...fields } : settled],
  });

  it('accepts the well-formed record', () => {
    expect(readTopUpState(stored({}, 'intent'))).toBeDefined();
    expect(
      readTopUpState({
        ...stored({}, 'intent'),
        holdUntil: NOW.toISOString(),
        cappedMonth: '2026-12',
        dryRunNoticed: true,
      }),
    ).toBeDefined();
  });

  it.each([
    ['intent', { id: 7 }],
    ['intent', { id: 'x'.repeat(81) }],
    ['intent', { key: '' }],
    ['intent', { key: 'k'.repeat(256) }],
    ['intent', { amountCents: 0 }],
    ['intent', { amountCents: 1.5 }],
    ['intent', { by: 1 }],
    ['intent', { balanceBeforeCents: 0.5 }],
    ['intent', { phase: 7 }],
    ['intent', { purchaseId: '' }],
    ['intent', { purchaseId: 5 }],
    ['intent', { ngrokCreatedAt: 'x' }],
    ['intent', { succeededAt: 'x' }],
    ['intent', { unansweredSince: 'x' }],
    ['intent', { blocked: 'yes' }],
    ['intent', { told: null }],
    ['intent', { told: [] }],
    ['foreign', { purchaseId: 9 }],
    ['foreign', { phase: 'x' }],
    ['foreign', { phase: 1 }],
    ['foreign', { amountCents: -1 }],
    ['foreign', { createdAt: 'x' }],
    ['foreign', { succeededAt: 'x' }],
    ['settled', { id: 1 }],
    ['settled', { purchaseId: 1 }],
    ['settled', { at: 'x' }],
  ] as const)('a %s with %j is unreadable', (part, fields) => {
    expect(readTopUpState(stored(fields, part))).toBeUndefined();
  });

  it.each([
    ['foreign', 'x'],
    ['settled', 'x'],
    ['intent', 'x'],
    ['dryRunNoticed', 'yes'],
    ['cappedMonth', 7],
    ['stopped', 'x'],
    ['stopped', { reason: 'failures', config: 1, at: NOW.toISOString() }],
    ['stopped', { reason: 'failures', config: '', at: 'x' }],
    ['stopped', { reason: 5, config: '', at: NOW.toISOString() }],
  ])('a record whose %s is %j is unreadable', (field, value) => {
    const record = {
      ...STATE,
      [field === 'intent' ? 'intents' : field]:
        field === 'foreign' || field === 'settled' || field === 'intent' ? [value] : value,
    };
    expect(readTopUpState(record)).toBeUndefined();
  });

  it('an intent of another epoch may carry any number; one of this epoch not past the sequence', () => {
    expect(
      readTopUpState({ ...STATE, seq: 0, intents: [intent({ id: 'other-9' })] }),
    ).toBeDefined();
    expect(readTopUpState({ ...STATE, seq: 1, intents: [intent({ id: 'e1-1' })] })).toBeDefined();
    expect(readTopUpState({ ...STATE, seq: 1, intents: [intent({ id: 'e1-2' })] })).toBeUndefined();
  });
});

describe('decideTopUp: purchases by hand that ngrok named', () => {
  const watched = (fields: Record<string, unknown>): TopUpState => ({
    ...STATE,
    foreign: [{ purchaseId: 'cp_9', seenAt: NOW.toISOString(), phase: 'open', ...fields }],
  });
  const read = (
    state: TopUpState,
    p: Partial<{
      status: 'pending' | 'succeeded' | 'failed';
      amountCents: number;
      createdAt: string;
      id: string;
    }>,
    now = NOW,
  ) =>
    decideTopUp(
      input({
        state,
        now,
        report: {
          kind: 'read',
          purchaseId: 'cp_9',
          result: {
            kind: 'purchase',
            purchase: { id: 'cp_9', status: 'pending', amountCents: 3001, ...p },
          },
        },
      }),
    );

  it('keeps its amount, start and success time, and does not move back', () => {
    const created = '2026-12-10T11:00:00.000Z';
    const pending = read(watched({}), { createdAt: created });
    expect(pending.state.foreign).toEqual([
      {
        purchaseId: 'cp_9',
        seenAt: NOW.toISOString(),
        phase: 'pending',
        amountCents: 3001,
        createdAt: created,
      },
    ]);
    expect(pending.action.kind).toBe('none');
    const done = read(pending.state, { status: 'succeeded', createdAt: created }, at(1));
    expect(done.state.foreign[0]).toMatchObject({
      phase: 'succeeded',
      succeededAt: at(1).toISOString(),
    });
    const again = read(done.state, { status: 'succeeded' }, at(2));
    expect(again.state.foreign[0]?.succeededAt).toBe(at(1).toISOString());
    expect(read(done.state, { status: 'pending' }, at(2)).state.foreign[0]?.phase).toBe(
      'succeeded',
    );
  });

  it('counts a success until ngrok had the time to list it, then forgets it', () => {
    const done = watched({
      phase: 'succeeded',
      amountCents: 3001,
      createdAt: NOW.toISOString(),
      succeededAt: NOW.toISOString(),
    });
    expect(decideTopUp(input({ state: done, now: at(1) })).status).toContain(
      'blocked by the monthly cap ($30.01',
    );
    const later = decideTopUp(input({ state: done, now: new Date(NOW.getTime() + HOLD_MS) }));
    expect(later.state.foreign).toEqual([]);
    expect(later.action.kind).toBe('send');
    // one that failed is forgotten at once, one whose amount is unknown counts nothing yet
    expect(
      decideTopUp(input({ state: watched({ phase: 'failed', amountCents: 3001 }) })).state.foreign,
    ).toEqual([]);
  });

  it('counts a pending one whose amount it read; a failed read ends the run', () => {
    const pending = watched({ phase: 'pending', amountCents: 3001 });
    expect(decideTopUp(input({ state: pending })).action).toEqual({
      kind: 'read',
      purchaseId: 'cp_9',
    });
    const failedRead = decideTopUp(
      input({
        state: pending,
        report: {
          kind: 'read',
          purchaseId: 'cp_9',
          result: { kind: 'unavailable', message: 'down' },
        },
      }),
    );
    expect(failedRead.action.kind).toBe('none');
    expect(failedRead.notifications).toEqual([]);
    const otherId = decideTopUp(
      input({
        state: pending,
        report: { kind: 'read', purchaseId: 'cp_9', result: purchase('succeeded') },
      }),
    );
    expect(otherId.state.foreign[0]?.phase).toBe('pending');
  });

  it('a month-end purchase by hand counts in both months it could be dated in', () => {
    const endOfMonth = watched({
      phase: 'succeeded',
      amountCents: 3001,
      createdAt: '2026-11-30T23:58:00.000Z',
      succeededAt: '2026-12-01T00:01:00.000Z',
    });
    const november = { readable: true as const, purchases: [] };
    expect(
      decideTopUp(
        input({ state: endOfMonth, ledger: november, now: new Date('2026-12-01T02:00:00Z') }),
      ).action.kind,
    ).toBe('none');
  });
});

describe('decideTopUp: details that keep the money safe', () => {
  it('a blocked intent is not counted twice when it is decided again', () => {
    const blocked = withIntent({ blocked: true });
    const tight = { ...SETTINGS, monthlyCapCents: 4000 };
    const ledger = { readable: true as const, purchases: [grant(2000)] };
    expect(decideTopUp(input({ state: blocked, settings: tight, ledger })).action.kind).toBe(
      'send',
    );
  });

  it('the newest success decides when to buy again', () => {
    const old = intent({
      id: 'e1-1',
      phase: 'succeeded',
      purchaseId: 'cp_1',
      succeededAt: at(-2).toISOString(),
      told: { started: true, succeeded: true },
    });
    const recent = intent({
      id: 'e1-2',
      key: idempotencyKey('e1', 2),
      phase: 'succeeded',
      purchaseId: 'cp_2',
      succeededAt: at(-0.2).toISOString(),
      told: { started: true, succeeded: true },
    });
    const roomy = { ...SETTINGS, monthlyCapCents: 50_000 };
    for (const intents of [
      [old, recent],
      [recent, old],
    ]) {
      const state = { ...STATE, seq: 2, intents };
      expect(decideTopUp(input({ state, settings: roomy })).action.kind).toBe('none');
    }
  });

  it('remembers settled purchases for 40 days, then forgets them', () => {
    const settled = [{ id: 'e1-1', purchaseId: 'cp_1', at: NOW.toISOString() }];
    const state = { ...STATE, seq: 1, settled };
    expect(
      decideTopUp(input({ state, balanceCents: 5000, now: at(24 * 40 - 1) })).state.settled,
    ).toEqual(settled);
    expect(
      decideTopUp(input({ state, balanceCents: 5000, now: at(24 * 40) })).state.settled,
    ).toEqual([]);
  });

  it('keeps ngrok’s first start time, and ignores a record about another purchase', () => {
    const first = '2026-12-10T11:59:00.000Z';
    const known = withIntent({
      phase: 'pending',
      purchaseId: 'cp_1',
      ngrokCreatedAt: first,
      told: { started: true },
    });
    const read = decideTopUp(
      input({
        state: known,
        report: { kind: 'read', purchaseId: 'cp_1', result: purchase('pending') },
      }),
    );
    expect(read.state.intents[0]?.ngrokCreatedAt).toBe(first);
    const other = decideTopUp(
      input({
        state: known,
        report: {
          kind: 'read',
          purchaseId: 'cp_1',
          result: {
            kind: 'purchase',
            purchase: { id: 'cp_2', status: 'failed', amountCents: 2000 },
          },
        },
      }),
    );
    expect(other.state.intents[0]?.phase).toBe('pending');
    expect(other.notifications).toEqual([]);
  });

  it('a stop is not lifted by a grant that can be auto top-up’s own, only by one bought by hand', () => {
    const stoppedAt = NOW.toISOString();
    const mine = intent({
      phase: 'succeeded',
      purchaseId: 'cp_1',
      createdAt: at(0.5).toISOString(),
      succeededAt: at(1).toISOString(),
      told: { started: true, succeeded: true },
    });
    const state = {
      ...STATE,
      seq: 1,
      intents: [mine],
      failures: 3,
      stopped: { reason: 'failures' as const, config: configFingerprint(SETTINGS), at: stoppedAt },
    };
    const ours = { readable: true as const, purchases: [grant(2000, at(1).toISOString())] };
    expect(decideTopUp(input({ state, ledger: ours, now: at(2) })).state.stopped).toBeDefined();
    for (const byHand of [
      grant(2500, at(1).toISOString()),
      grant(2000, at(3).toISOString()),
      grant(2000, at(0.2).toISOString()),
    ]) {
      const ledger = { readable: true as const, purchases: [byHand] };
      expect(decideTopUp(input({ state, ledger, now: at(4) })).state.stopped).toBeUndefined();
    }
  });

  it('an intent the record lost is counted again at the larger of the two amounts', () => {
    const bigger = decideTopUp(
      input({
        report: {
          ...sent({
            kind: 'purchase',
            purchase: { id: 'cp_1', status: 'pending', amountCents: 2500 },
          }),
          amountCents: 2000,
        },
      }),
    );
    expect(bigger.state.intents[0]).toMatchObject({
      id: 'e1-r1',
      amountCents: 2500,
      phase: 'pending',
    });
    expect(bigger.state.seq).toBe(1);
    const refused = decideTopUp(input({ report: sent({ kind: 'unavailable', message: 'x' }) }));
    expect(refused.state.intents.map((i) => i.id)).toEqual(['e1-1']);
  });
});

describe('mutation survivors, second round', () => {
  it('accepts amounts from 1 cent to ngrok’s 50,000 and ids up to 80 characters', () => {
    for (const amountCents of [1, 50_000]) {
      expect(readTopUpState(withIntent({ amountCents }))).toBeDefined();
    }
    expect(
      readTopUpState({ ...STATE, seq: 1, intents: [intent({ id: `x${'1'.repeat(79)}` })] }),
    ).toBeDefined();
  });

  it.each([
    ['a key that is a number', { key: 7 }],
    ['a phase in a list', { phase: ['open'] }],
    ['a start time that is a number', { createdAt: 0 }],
  ])('reads an intent with %s as lost', (_what, fields) => {
    expect(readTopUpState(withIntent(fields as unknown as Partial<Intent>))).toBeUndefined();
  });

  it('reads a watched purchase with a phase in a list, or a stop reason in a list, as lost', () => {
    expect(
      readTopUpState({
        ...STATE,
        foreign: [{ purchaseId: 'cp_9', seenAt: NOW.toISOString(), phase: ['open'] }],
      }),
    ).toBeUndefined();
    expect(
      readTopUpState({
        ...STATE,
        stopped: { reason: ['failures'], config: '', at: NOW.toISOString() },
      }),
    ).toBeUndefined();
  });

  it('tells settings apart that would read alike run together', () => {
    expect(configFingerprint({ ...SETTINGS, amountCents: 2000, monthlyCapCents: 15_000 })).not.toBe(
      configFingerprint({ ...SETTINGS, amountCents: 20_001, monthlyCapCents: 5000 }),
    );
  });

  it('a record read well is not restarted', () => {
    expect(decideTopUp(input()).restarted).toBe(false);
    expect(decideTopUp(input({ state: undefined })).restarted).toBe(true);
  });

  it('an answer changes only the intent it is about', () => {
    const old = intent({
      phase: 'succeeded',
      purchaseId: 'cp_0',
      succeededAt: NOW.toISOString(),
      told: { started: true, succeeded: true },
    });
    const open = intent({ id: 'e1-2', key: idempotencyKey('e1', 2) });
    const state = { ...STATE, seq: 2, intents: [old, open] };
    const report = {
      kind: 'sent' as const,
      key: idempotencyKey('e1', 2),
      amountCents: 2000,
      result: purchase('pending'),
    };
    const decision = decideTopUp(input({ state, report }));
    expect(decision.state.intents[0]).toEqual(old);
    expect(decision.state.intents[1]).toMatchObject({ id: 'e1-2', purchaseId: 'cp_1' });
    // an answer naming the right id with another key is not this intent's
    const wrongKey = decideTopUp(input({ state, report: { ...report, key: 'other' } }));
    expect(wrongKey.state.intents[1]?.purchaseId).toBeUndefined();
  });
});
