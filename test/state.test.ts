import { describe, expect, it } from 'vitest';
import type { AlertState } from '../lambda/store/state.ts';
import { parseState, stateChanged } from '../lambda/store/state.ts';
import type { TopUpState } from '../lambda/watches/top-up/decide.ts';

const state: AlertState = {
  level: 'low',
  reason: 'balance',
  since: '2026-11-24T00:00:00.000Z',
  failures: 0,
};

/** A state with every part the snooze, the digest and the expiry warnings add. */
const full: AlertState = {
  ...state,
  snooze: { until: '2026-11-26T00:00:00.000Z', note: 'top-up approved', level: 'low' },
  week: {
    week: '2026-11-23',
    startCents: 900,
    lastCents: 800,
    spentCents: 100,
    addedCents: 0,
    alerts: 1,
    topUps: 0,
  },
  expiry: { readOn: '2026-11-24', warned: [[1_700_000_000, 1_800_000_000, 1]] },
};

describe('parseState', () => {
  it('treats a missing or freshly deployed parameter as a first run, quietly', () => {
    expect(parseState(undefined)).toEqual({ state: undefined });
    expect(parseState('{}')).toEqual({ state: undefined });
  });

  it('treats corrupt state as a first run and says why', () => {
    expect(parseState('{"level":')).toEqual({
      state: undefined,
      problem: 'saved state is not JSON',
    });
    expect(
      parseState('{"level":"panic","reason":"balance","since":"x","failures":0}'),
    ).toMatchObject({
      state: undefined,
      problem: expect.stringContaining('expected fields'),
    });
    expect(parseState('[1,2]').state).toBeUndefined();
    expect(
      parseState('{"level":"ok","reason":"balance","since":"x","failures":-1}').state,
    ).toBeUndefined();
  });

  it('reads back what was saved', () => {
    expect(parseState(JSON.stringify(state))).toEqual({ state });
    expect(parseState(JSON.stringify(full))).toEqual({ state: full });
  });

  it('treats blank or seeded text as a first run without a problem', () => {
    for (const raw of ['', '   ', ' {} '])
      expect(parseState(raw)).toStrictEqual({ state: undefined });
  });

  it.each([
    ['null', 'null'],
    ['a reason that is not one', { ...state, reason: 'mood' }],
    ['a start that is not text', { ...state, since: 5 }],
    ['no failure count', { ...state, failures: undefined }],
  ])('refuses %s as saved state', (_what, value) => {
    expect(parseState(JSON.stringify(value))).toMatchObject({
      state: undefined,
      problem: 'saved state does not have the expected fields',
    });
  });

  it.each([
    ['a snooze without an end', { snooze: { level: 'low' } }],
    ['a snooze with an unknown level', { snooze: { until: '2026-11-26T00:00:00Z', level: 'x' } }],
    ['a null week', { week: null }],
    ['a week with a total missing', { week: { ...full.week, topUps: undefined } }],
    ['a week with no totals', { week: { week: '2026-11-23' } }],
    ['expiry warnings that are not a list', { expiry: { warned: 'x' } }],
    ['a null expiry', { expiry: null }],
  ])('drops %s and keeps the rest', (_what, part) => {
    expect(parseState(JSON.stringify({ ...state, ...part }))).toEqual({ state });
  });

  it('keeps expiry state with only a read date or only warnings', () => {
    for (const expiry of [{ readOn: '2026-11-24' }, { warned: [] }]) {
      expect(parseState(JSON.stringify({ ...state, expiry }))).toEqual({
        state: { ...state, expiry },
      });
    }
  });

  it('drops only a snooze, week or expiry part with the wrong shape, keeping the alert state', () => {
    const raw = JSON.stringify({
      ...state,
      snooze: { until: 'soon', level: 'low' },
      week: { week: 3 },
      expiry: { readOn: 5 },
    });

    expect(parseState(raw)).toEqual({ state });
  });
});

describe('stateChanged', () => {
  it('ignores key order and the event id, so an unchanged state is not rewritten', () => {
    const reordered = JSON.parse(
      JSON.stringify({ failures: 0, since: state.since, reason: 'balance', level: 'low' }),
    );
    expect(stateChanged(reordered, { ...state, lastEventId: 'e-2' })).toBe(false);
  });

  it('sees a real change', () => {
    expect(stateChanged(state, { ...state, failures: 1 })).toBe(true);
    expect(stateChanged(undefined, state)).toBe(true);
  });
});

describe('the auto top-up part of the state', () => {
  const topUp: TopUpState = {
    epoch: 'e1',
    seq: 1,
    failures: 1,
    intents: [
      {
        id: 'e1-1',
        key: 'ngrok-balance-alert-e1-1',
        amountCents: 2000,
        by: 'run-1',
        createdAt: '2026-12-10T12:00:00.000Z',
        balanceBeforeCents: 400,
        phase: 'pending',
        purchaseId: 'cp_1',
        told: { started: true },
      },
    ],
    foreign: [],
    settled: [],
  };

  it('reads back what was saved', () => {
    expect(parseState(JSON.stringify({ ...state, topUp }))).toEqual({
      state: { ...state, topUp },
    });
  });

  it('reads a malformed top-up part as lost, keeping the alert state', () => {
    // Lost top-up state makes the decisions hold new purchases (see decide.ts).
    for (const bad of [
      { failures: 'x' },
      { ...topUp, intents: [{ ...topUp.intents[0], amountCents: -5 }] },
      { ...topUp, seq: 0 },
      null,
    ]) {
      expect(parseState(JSON.stringify({ ...state, topUp: bad }))).toEqual({ state });
    }
  });
});
