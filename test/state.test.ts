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

  it('drops the key names before any history, and keeps the recent readings and the spike', () => {
    // Prepare: history just under the limit, then names that push it over.
    const history = Array.from(
      { length: 175 },
      (_, i) => [1_700_000_000 + i * 21_600, 100_000 + i] as [number, number],
    );
    const recent: [number, number][] = [
      [1_700_000_000, 50_000],
      [1_700_000_900, 46_000],
    ];
    const spike = {
      since: '2026-11-24T12:30:00.000Z',
      levelCentsPerHour: 125,
      lastNotifiedAt: '2026-11-24T12:30:00.000Z',
    };
    const keyNames = {
      fetchedAt: '2026-11-24T12:00:00.000Z',
      names: Object.fromEntries(
        Array.from({ length: 6 }, (_, i) => [`ak_${'x'.repeat(30)}${i}`, 'n'.repeat(40)]),
      ),
    };
    const full = { ...state, history, recent, spike, keyNames };
    expect(Buffer.byteLength(JSON.stringify({ ...full, keyNames: undefined }))).toBeLessThan(
      MAX_STATE_BYTES,
    );
    expect(Buffer.byteLength(JSON.stringify(full))).toBeGreaterThan(MAX_STATE_BYTES);
    // Act
    const saved = JSON.parse(serializeState(full)) as AlertState;
    // Assess
    expect(saved.keyNames).toBeUndefined();
    expect(saved.history).toEqual(history);
    expect(saved.recent).toEqual(recent);
    expect(saved.spike).toEqual(spike);
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
