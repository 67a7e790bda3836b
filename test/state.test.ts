import { describe, expect, it } from 'vitest';
import type { AlertState } from '../lambda/state.ts';
import { MAX_STATE_BYTES, parseState, serializeState, stateChanged } from '../lambda/state.ts';

const state: AlertState = {
  level: 'low',
  reason: 'balance',
  since: '2026-11-24T00:00:00.000Z',
  failures: 0,
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

  it('reads back what serializeState wrote', () => {
    expect(parseState(serializeState(state))).toEqual({ state });
  });
});

describe('serializeState', () => {
  it('drops the oldest history first to stay within a standard parameter', () => {
    const history = Array.from(
      { length: 400 },
      (_, i) => [1_700_000_000 + i * 21_600, 100_000 + i] as [number, number],
    );
    const text = serializeState({ ...state, history });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_STATE_BYTES);
    const saved = JSON.parse(text) as AlertState;
    expect(saved.history?.at(-1)).toEqual(history.at(-1));
    expect(saved.level).toBe('low');
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
  const topUp = {
    failures: 1,
    inFlight: {
      id: 'cp_1',
      key: 'ngrok-balance-alert-2026-12-1-1',
      amountCents: 2000,
      startedAt: '2026-12-10T12:00:00.000Z',
      month: '2026-12',
      n: 1,
      balanceBeforeCents: 400,
      ledgerAfterCents: 2000,
    },
  };

  it('reads back what was saved', () => {
    expect(parseState(serializeState({ ...state, topUp }))).toEqual({
      state: { ...state, topUp },
    });
  });

  it('reads a malformed top-up part as lost, keeping the alert state', () => {
    // Lost top-up state makes the decisions hold one purchase back under the cap.
    for (const bad of [{ failures: 'x' }, { failures: 0, inFlight: { key: 7 } }, null]) {
      expect(parseState(JSON.stringify({ ...state, topUp: bad }))).toEqual({ state });
    }
  });

  it('is kept whole when the state outgrows the parameter: history goes first', () => {
    // Prepare
    const history = Array.from({ length: 400 }, (_, i): [number, number] => [
      1_790_000_000 + i * 3600,
      100_000 + i,
    ]);
    // Act
    const text = serializeState({ ...state, history, topUp });
    // Assess
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_STATE_BYTES);
    expect(JSON.parse(text).topUp).toEqual(topUp);
  });
});
