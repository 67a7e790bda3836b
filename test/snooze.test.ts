import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type {
  CheckFailureKind,
  Level,
  Notification,
  NotificationKind,
  Observation,
} from '../lambda/common/types.ts';
import { decide, type PolicyInput } from '../lambda/watches/alert-policy.ts';
import {
  activeSnooze,
  applySnooze,
  applySnoozeCommand,
  isSnoozeEvent,
  MAX_NOTE_CHARS,
  parseSnoozeRequest,
  type SnoozableState,
  SnoozeRequestError,
  type SnoozeState,
  sanitiseNote,
  snoozeCommand,
  snoozeForADayCommand,
  withLatestSnooze,
} from '../lambda/watches/snooze.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = new Date('2026-12-01T10:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const ACCOUNTS = ['main', 'backup'];

const thresholds = { thresholdCents: 1000, criticalThresholdCents: 300, recoveryMarginCents: 100 };
const settings = { renotifyMs: 24 * HOUR, failureAlertAfter: 3, runwayAlertDays: 3 };

const balance = (balanceCents: number): Observation => ({ ok: true, balanceCents });
const failure = (kind: CheckFailureKind): Observation => ({
  ok: false,
  failure: { kind, message: `${kind} failure` },
});

function policyInput(
  observation: Observation,
  previous: SnoozableState | undefined,
  now: Date,
): PolicyInput {
  return {
    account: 'main',
    thresholdParameterName: '/ngrok-balance-alert/main/threshold-cents',
    tokenParameterName: '/ngrok/main-key',
    observation,
    thresholds,
    configProblems: [],
    previous,
    now,
    settings,
  };
}

const state = (fields: Partial<SnoozableState> = {}): SnoozableState => ({
  level: 'ok',
  reason: 'balance',
  since: T0.toISOString(),
  failures: 0,
  ...fields,
});

const snoozed = (fields: Partial<SnoozeState> = {}): SnoozeState => ({
  until: at(48).toISOString(),
  level: 'low',
  ...fields,
});

function notification(kind: NotificationKind, fields: Partial<Notification> = {}): Notification {
  return {
    kind,
    account: 'main',
    level: 'low',
    reason: 'balance',
    thresholds,
    thresholdParameterName: '/ngrok-balance-alert/main/threshold-cents',
    configProblems: [],
    at: at(1).toISOString(),
    ...fields,
  };
}

/** Runs the real policy, then the snooze, as the monitor will. */
function run(observation: Observation, previous: SnoozableState | undefined, now: Date) {
  const input = policyInput(observation, previous, now);
  return applySnooze(input, decide(input));
}

describe('parseSnoozeRequest', () => {
  it('accepts an account, an end time and a note', () => {
    // Prepare
    const payload = { account: 'main', until: '2026-12-04T09:00:00Z', note: 'top-up approved' };

    // Act
    const request = parseSnoozeRequest(payload, ACCOUNTS, T0);

    // Assess
    expect(request).toEqual({
      account: 'main',
      until: new Date('2026-12-04T09:00:00Z'),
      note: 'top-up approved',
    });
  });

  it('accepts "*" for every account, a zone offset, fractions of a second, and no note', () => {
    const request = parseSnoozeRequest(
      { account: '*', until: '2026-12-02T11:30:15.250+02:00' },
      ACCOUNTS,
      T0,
    );

    expect(request).toEqual({
      account: '*',
      until: new Date('2026-12-02T09:30:15.250Z'),
      note: undefined,
    });
  });

  it('accepts a time without seconds', () => {
    const request = parseSnoozeRequest(
      { account: 'main', until: '2026-12-02T09:30Z' },
      ACCOUNTS,
      T0,
    );

    expect(request.until).toEqual(new Date('2026-12-02T09:30:00Z'));
  });

  it('reads "until": null as the end of the snooze, and a null note as no note', () => {
    const request = parseSnoozeRequest(
      { account: 'backup', until: null, note: null },
      ACCOUNTS,
      T0,
    );

    expect(request).toEqual({ account: 'backup', until: undefined, note: undefined });
  });

  it('accepts exactly fourteen days ahead', () => {
    const request = parseSnoozeRequest(
      { account: 'main', until: new Date(T0.getTime() + 14 * DAY).toISOString() },
      ACCOUNTS,
      T0,
    );

    expect(request.until?.getTime()).toBe(T0.getTime() + 14 * DAY);
  });

  it.each([
    { duration: '90m', ms: 90 * 60_000 },
    { duration: '24h', ms: DAY },
    { duration: '3d', ms: 3 * DAY },
    { duration: '14d', ms: 14 * DAY },
    { duration: '336h', ms: 14 * DAY },
  ])('accepts "for": "$duration", ending that long after the command', ({ duration, ms }) => {
    const request = parseSnoozeRequest({ account: 'main', for: duration }, ACCOUNTS, T0);

    expect(request.until).toEqual(new Date(T0.getTime() + ms));
  });

  it('ends a "for" snooze on the whole minute, so a retry within the minute is a repeat', () => {
    // Prepare
    const first = new Date('2026-12-01T10:00:05.300Z');
    const retry = new Date('2026-12-01T10:00:41.000Z');

    // Act
    const a = parseSnoozeRequest({ account: 'main', for: '24h' }, ACCOUNTS, first);
    const b = parseSnoozeRequest({ account: 'main', for: '24h' }, ACCOUNTS, retry);

    // Assess
    expect(a.until).toEqual(new Date('2026-12-02T10:00:00Z'));
    expect(b.until).toEqual(a.until);
  });

  it('accepts a zone offset up to 23:59', () => {
    const request = parseSnoozeRequest(
      { account: 'main', until: '2026-12-03T09:00:00+23:59' },
      ACCOUNTS,
      T0,
    );

    expect(request.until).toEqual(new Date('2026-12-02T09:01:00Z'));
  });

  it('gives hints whose example dates are in the future whenever it runs', () => {
    // Prepare
    const later = new Date('2031-05-20T22:15:00Z');

    // Act
    let message = '';
    try {
      parseSnoozeRequest({ account: 'main', until: 'next monday' }, ACCOUNTS, later);
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess: the example parses and is accepted at that time.
    const example = /e\.g\. "([^"]+)"/.exec(message)?.[1] as string;
    expect(example).toBe('2031-05-21T09:00:00Z');
    expect(parseSnoozeRequest({ account: 'main', until: example }, ACCOUNTS, later).until).toEqual(
      new Date(example),
    );
  });

  it('refuses a note over the limit instead of cutting it', () => {
    let error: unknown;
    try {
      parseSnoozeRequest(
        { account: 'main', for: '24h', note: 'n'.repeat(MAX_NOTE_CHARS + 1) },
        ACCOUNTS,
        T0,
      );
    } catch (caught) {
      error = caught;
    }

    expect((error as SnoozeRequestError).field).toBe('snooze.note');
    expect((error as Error).message).toContain(
      `is ${MAX_NOTE_CHARS + 1} characters long. Expected at most ${MAX_NOTE_CHARS}`,
    );
  });

  it(`accepts a note of ${MAX_NOTE_CHARS} characters once line breaks are spaces`, () => {
    const note = `${'n'.repeat(MAX_NOTE_CHARS - 2)}\r\nx`;

    const request = parseSnoozeRequest({ account: 'main', for: '24h', note }, ACCOUNTS, T0);

    expect(request.note).toBe(`${'n'.repeat(MAX_NOTE_CHARS - 2)} x`);
  });

  const refused: Array<{ name: string; payload: unknown; field: string; message: string }> = [
    {
      name: 'a payload that is not an object',
      payload: 'main',
      field: 'snooze',
      message: '"snooze": "main" is not an object. Expected {"snooze": {"account": "main"',
    },
    { name: 'null', payload: null, field: 'snooze', message: '"snooze": null is not an object' },
    { name: 'a list', payload: [], field: 'snooze', message: '"snooze": [] is not an object' },
    {
      name: 'a misspelt field',
      payload: { account: 'main', untill: '2026-12-04T09:00:00Z' },
      field: 'snooze.untill',
      message:
        '"snooze.untill" is not a known field. Expected only account, until, for, note, e.g. {"snooze": {"account": "main", "for": "24h", "note": "top-up approved"}}.',
    },
    {
      name: 'an unknown account',
      payload: { account: 'prod', until: '2026-12-04T09:00:00Z' },
      field: 'snooze.account',
      message:
        '"snooze.account": "prod" is not an account of this deployment. Expected one of "main", "backup", or "*" for every account.',
    },
    {
      name: 'a missing account',
      payload: { until: '2026-12-04T09:00:00Z' },
      field: 'snooze.account',
      message: '"snooze.account": missing is not an account',
    },
    {
      name: 'a missing end time',
      payload: { account: 'main' },
      field: 'snooze.until',
      message:
        '"snooze.until": missing is not a date and time. Expected ISO 8601 with a zone, e.g. "2026-12-02T09:00:00Z", or null to end the snooze; or "for" with a duration instead, e.g. "for": "24h".',
    },
    {
      name: 'a time without a zone',
      payload: { account: 'main', until: '2026-12-04T09:00:00' },
      field: 'snooze.until',
      message: '"snooze.until": "2026-12-04T09:00:00" is not a date and time',
    },
    {
      name: 'a date without a time',
      payload: { account: 'main', until: '2026-12-04' },
      field: 'snooze.until',
      message: 'is not a date and time',
    },
    {
      name: 'words',
      payload: { account: 'main', until: 'next monday' },
      field: 'snooze.until',
      message: '"snooze.until": "next monday" is not a date and time',
    },
    {
      name: 'a number',
      payload: { account: 'main', until: 1_796_000_000_000 },
      field: 'snooze.until',
      message: '"snooze.until": 1796000000000 is not a date and time',
    },
    {
      name: 'a day that does not exist',
      payload: { account: 'main', until: '2026-12-32T09:00:00Z' },
      field: 'snooze.until',
      message: 'is not a date and time',
    },
    {
      name: 'February 30',
      payload: { account: 'main', until: '2027-02-30T09:00:00Z' },
      field: 'snooze.until',
      message: 'is not a date and time',
    },
    {
      name: 'month 13',
      payload: { account: 'main', until: '2026-13-01T09:00:00Z' },
      field: 'snooze.until',
      message: 'is not a date and time',
    },
    {
      name: 'hour 25',
      payload: { account: 'main', until: '2026-12-02T25:00:00Z' },
      field: 'snooze.until',
      message: 'is not a date and time',
    },
    {
      name: 'minute 60',
      payload: { account: 'main', until: '2026-12-02T09:60:00Z' },
      field: 'snooze.until',
      message: 'is not a date and time',
    },
    {
      name: 'a time in the past',
      payload: { account: 'main', until: '2026-11-30T09:00:00Z' },
      field: 'snooze.until',
      message:
        '"snooze.until": "2026-11-30T09:00:00Z" is not in the future (it is now 2026-12-01T10:00:00.000Z). Expected a later time, or null to end the snooze.',
    },
    {
      name: 'the time of the invocation itself',
      payload: { account: 'main', until: '2026-12-01T10:00:00Z' },
      field: 'snooze.until',
      message: 'is not in the future',
    },
    {
      name: 'a snooze longer than fourteen days',
      payload: { account: 'main', until: '2026-12-15T10:00:01Z' },
      field: 'snooze.until',
      message:
        '"snooze.until": "2026-12-15T10:00:01Z" is more than 14 days ahead. Expected 2026-12-15T10:00:00.000Z at the latest; snooze again when it ends if you still need to.',
    },
    {
      name: 'a note that is not text',
      payload: { account: 'main', until: '2026-12-04T09:00:00Z', note: 42 },
      field: 'snooze.note',
      message: '"snooze.note": 42 is not text. Expected a short string',
    },
    {
      name: 'a huge value, shown cut short',
      payload: { account: 'x'.repeat(500), until: '2026-12-04T09:00:00Z' },
      field: 'snooze.account',
      message: `"snooze.account": "${'x'.repeat(56)}... is not an account`,
    },
    ...['+24:00', '-24:00', '+05:60', '+99:99'].map((zone) => ({
      name: `the zone offset ${zone}`,
      payload: { account: 'main', until: `2026-12-03T09:00:00${zone}` },
      field: 'snooze.until',
      message: `"snooze.until": "2026-12-03T09:00:00${zone}" is not a date and time`,
    })),
    {
      name: 'both "for" and "until"',
      payload: { account: 'main', for: '24h', until: '2026-12-04T09:00:00Z' },
      field: 'snooze.for',
      message: '"snooze.for" and "snooze.until" are both given. Expected one of them',
    },
    ...['24', '1w', '0h', '1.5h', ' 24h', '24H', '-1d'].map((duration) => ({
      name: `the duration ${JSON.stringify(duration)}`,
      payload: { account: 'main', for: duration },
      field: 'snooze.for',
      message: `"snooze.for": ${JSON.stringify(duration)} is not a duration. Expected a whole number of minutes, hours or days, at most 14 days: "90m", "24h", "3d".`,
    })),
    {
      name: 'a duration that is not text',
      payload: { account: 'main', for: 24 },
      field: 'snooze.for',
      message: '"snooze.for": 24 is not a duration',
    },
    {
      name: 'a duration of "for": null',
      payload: { account: 'main', for: null },
      field: 'snooze.for',
      message: '"snooze.for": null is not a duration',
    },
    {
      name: 'a duration over fourteen days',
      payload: { account: 'main', for: '15d' },
      field: 'snooze.for',
      message:
        '"snooze.for": "15d" is more than 14 days. Expected at most "14d"; snooze again when it ends if you still need to.',
    },
    {
      name: 'fourteen days and a minute',
      payload: { account: 'main', for: '20161m' },
      field: 'snooze.for',
      message: 'is more than 14 days',
    },
  ];

  propertyTest.prop([
    fc.constantFrom('+', '-'),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
  ])('gives a valid time or a refusal for any zone offset, never an invalid date', (sign, h, m) => {
    const zone = `${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
    try {
      const { until } = parseSnoozeRequest(
        { account: 'main', until: `2026-12-03T09:00:00${zone}` },
        ACCOUNTS,
        T0,
      );
      expect(h <= 23 && m <= 59).toBe(true);
      expect(Number.isNaN(until?.getTime())).toBe(false);
    } catch (error) {
      expect(error).toBeInstanceOf(SnoozeRequestError);
    }
  });

  it.each(refused)('refuses $name, naming the field', ({ payload, field, message }) => {
    // Act
    let error: unknown;
    try {
      parseSnoozeRequest(payload, ACCOUNTS, T0);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(SnoozeRequestError);
    expect((error as SnoozeRequestError).name).toBe('SnoozeRequestError');
    expect((error as SnoozeRequestError).field).toBe(field);
    expect((error as Error).message).toContain(message);
  });
});

describe('isSnoozeEvent', () => {
  it('recognises a snooze payload and nothing else', () => {
    expect(isSnoozeEvent({ snooze: {} })).toBe(true);
    expect(isSnoozeEvent({ snooze: null })).toBe(true);
    expect(isSnoozeEvent({ test: true })).toBe(false);
    expect(isSnoozeEvent({ id: 'event', 'detail-type': 'Scheduled Event' })).toBe(false);
    expect(isSnoozeEvent(null)).toBe(false);
    expect(isSnoozeEvent('snooze')).toBe(false);
  });
});

describe('sanitiseNote', () => {
  it('keeps a plain note as it is', () => {
    expect(sanitiseNote('top-up approved')).toBe('top-up approved');
  });

  it('turns line breaks, tabs and control characters into single spaces', () => {
    expect(sanitiseNote('  top-up\r\napproved\t\u0007by  finance  ')).toBe(
      'top-up approved by finance',
    );
  });

  it('removes bidirectional overrides and zero-width characters', () => {
    expect(sanitiseNote('pay\u202edi\u200bd')).toBe('pay di d');
  });

  it('gives nothing for a note with nothing visible', () => {
    expect(sanitiseNote(' \n\u200b ')).toBeUndefined();
  });

  it(`keeps a note of ${MAX_NOTE_CHARS} characters whole`, () => {
    const note = 'a'.repeat(MAX_NOTE_CHARS);

    expect(sanitiseNote(note)).toBe(note);
  });

  it(`cuts a longer note to ${MAX_NOTE_CHARS} characters, ending in an ellipsis`, () => {
    const cut = sanitiseNote('b'.repeat(MAX_NOTE_CHARS + 1));

    expect(cut).toBe(`${'b'.repeat(MAX_NOTE_CHARS - 1)}…`);
  });

  it('never cuts a character in half', () => {
    const cut = sanitiseNote(`${'c'.repeat(MAX_NOTE_CHARS - 2)}😀😀`) as string;

    expect(cut).toBe(`${'c'.repeat(MAX_NOTE_CHARS - 2)}…`);
  });
});

describe('applySnoozeCommand', () => {
  it('snoozes an account, remembering its level, and confirms with the note and the end', () => {
    // Prepare
    const previous = state({ level: 'low' });

    // Act
    const result = applySnoozeCommand(
      previous,
      { until: at(48), note: 'top-up approved' },
      'main',
      T0,
    );

    // Assess
    expect(result.state).toEqual({
      ...previous,
      snooze: { until: at(48).toISOString(), note: 'top-up approved', level: 'low' },
    });
    expect(result.confirmation).toEqual({
      kind: 'snooze-set',
      account: 'main',
      until: at(48).toISOString(),
      note: 'top-up approved',
      level: 'low',
      at: T0.toISOString(),
    });
  });

  it('snoozes an account that has never been checked as healthy', () => {
    const result = applySnoozeCommand(undefined, { until: at(5) }, 'backup', T0);

    expect(result.state).toEqual({
      level: 'ok',
      reason: 'balance',
      since: T0.toISOString(),
      failures: 0,
      snooze: { until: at(5).toISOString(), note: undefined, level: 'ok' },
    });
    expect(result.confirmation?.kind).toBe('snooze-set');
  });

  it('changes and confirms nothing when the same snooze is set again', () => {
    const first = applySnoozeCommand(state(), { until: at(5), note: 'n' }, 'main', T0);

    const again = applySnoozeCommand(first.state, { until: at(5), note: 'n' }, 'main', at(1));

    expect(again.state).toBe(first.state);
    expect(again.confirmation).toBeUndefined();
  });

  it('confirms a new note or a new end time', () => {
    const first = applySnoozeCommand(state(), { until: at(5), note: 'n' }, 'main', T0);

    const newNote = applySnoozeCommand(first.state, { until: at(5), note: 'm' }, 'main', at(1));
    const newEnd = applySnoozeCommand(first.state, { until: at(6), note: 'n' }, 'main', at(1));

    expect(newNote.confirmation?.note).toBe('m');
    expect(newEnd.confirmation?.until).toBe(at(6).toISOString());
  });

  it('keeps what people were already told when a snooze is replaced', () => {
    // Prepare: snoozed at low, a rise to critical was let through, then the balance improved.
    const previous = state({
      level: 'low',
      snooze: snoozed({ level: 'critical', heldFailure: true }),
    });

    // Act
    const result = applySnoozeCommand(previous, { until: at(72) }, 'main', at(2));

    // Assess
    expect(result.state.snooze).toEqual({
      until: at(72).toISOString(),
      note: undefined,
      level: 'critical',
      heldFailure: true,
    });
  });

  it('takes the current level when it is higher than the replaced snooze knew', () => {
    const previous = state({ level: 'empty', snooze: snoozed({ level: 'low' }) });

    const result = applySnoozeCommand(previous, { until: at(72) }, 'main', at(2));

    expect(result.state.snooze?.level).toBe('empty');
  });

  it('does not carry over an expired snooze', () => {
    const previous = state({
      level: 'low',
      snooze: snoozed({ until: at(1).toISOString(), level: 'empty', heldFailure: true }),
    });

    const result = applySnoozeCommand(previous, { until: at(24) }, 'main', at(2));

    expect(result.state.snooze).toEqual({
      until: at(24).toISOString(),
      note: undefined,
      level: 'low',
      heldFailure: undefined,
    });
  });

  it('ends a snooze at once, keeping it for the next run, and confirms with the note', () => {
    const previous = state({ level: 'low', snooze: snoozed({ note: 'top-up approved' }) });

    const result = applySnoozeCommand(previous, { until: undefined }, 'main', at(3));

    expect(result.state.snooze).toEqual(
      snoozed({ note: 'top-up approved', until: at(3).toISOString() }),
    );
    expect(activeSnooze(result.state.snooze, at(3))).toBeUndefined();
    expect(result.confirmation).toEqual({
      kind: 'snooze-ended',
      account: 'main',
      until: at(3).toISOString(),
      note: 'top-up approved',
      level: 'low',
      at: at(3).toISOString(),
    });
  });

  it('changes and confirms nothing when ending a snooze that is not there', () => {
    const previous = state({ level: 'low' });

    const result = applySnoozeCommand(previous, { until: undefined }, 'main', at(3));

    expect(result.state).toBe(previous);
    expect(result.confirmation).toBeUndefined();
  });

  it('changes nothing when ending a snooze that has already run out', () => {
    const previous = state({ snooze: snoozed({ until: at(2).toISOString() }) });

    const result = applySnoozeCommand(previous, { until: undefined }, 'main', at(2));

    expect(result.state).toBe(previous);
    expect(result.confirmation).toBeUndefined();
  });
});

describe('applySnooze: while snoozed', () => {
  const rules: Array<{
    name: string;
    sent: Notification;
    snooze?: Partial<SnoozeState>;
    passes: boolean;
  }> = [
    { name: 'holds a reminder', sent: notification('balance-reminder'), passes: false },
    {
      name: 'holds an alert at the snoozed level',
      sent: notification('balance-alert', { level: 'low', previousLevel: 'ok' }),
      passes: false,
    },
    {
      name: 'holds an alert below the snoozed level',
      sent: notification('balance-alert', { level: 'low', previousLevel: 'ok' }),
      snooze: { level: 'critical' },
      passes: false,
    },
    {
      name: 'sends a rise to critical',
      sent: notification('balance-alert', { level: 'critical', previousLevel: 'low' }),
      passes: true,
    },
    {
      name: 'sends a rise to empty',
      sent: notification('balance-alert', { level: 'empty', previousLevel: 'critical' }),
      snooze: { level: 'critical' },
      passes: true,
    },
    { name: 'sends an improvement', sent: notification('balance-improved'), passes: true },
    {
      name: 'sends a recovery',
      sent: notification('balance-recovered', { level: 'ok' }),
      passes: true,
    },
    {
      name: 'sends a rejected API key',
      sent: notification('monitor-failing', { failure: { kind: 'auth', message: 'no' } }),
      passes: true,
    },
    {
      name: 'sends a missing API key',
      sent: notification('monitor-failing', { failure: { kind: 'missing-key', message: 'no' } }),
      passes: true,
    },
    {
      name: 'holds an ordinary outage',
      sent: notification('monitor-failing', { failure: { kind: 'transient', message: 'no' } }),
      passes: false,
    },
    { name: 'holds an outage reminder', sent: notification('monitor-reminder'), passes: false },
    {
      name: 'sends the recovery of an outage it sent',
      sent: notification('monitor-recovered'),
      passes: true,
    },
    {
      name: 'holds the recovery of an outage it held',
      sent: notification('monitor-recovered'),
      snooze: { heldFailure: true },
      passes: false,
    },
    { name: 'sends a configuration problem', sent: notification('config-problem'), passes: true },
    { name: 'sends a test', sent: notification('test'), passes: true },
  ];

  it.each(rules)('$name', ({ sent, snooze, passes }) => {
    // Prepare
    const input = policyInput(balance(800), undefined, at(1));
    const decision = {
      state: state({ level: 'low', snooze: snoozed(snooze) }),
      notifications: [sent],
      status: 'alerting' as const,
    };

    // Act
    const result = applySnooze(input, decision);

    // Assess
    expect(result.notifications).toEqual(passes ? [sent] : []);
    expect(result.held).toEqual(passes ? [] : [sent]);
    expect(result.state.snooze?.until).toBe(at(48).toISOString());
  });

  it('raises the snoozed level when a rise goes out, so the same rise is not sent twice', () => {
    const input = policyInput(balance(200), undefined, at(1));
    const rise = notification('balance-alert', { level: 'critical', previousLevel: 'low' });
    const decision = {
      state: state({ level: 'critical', snooze: snoozed() }),
      notifications: [rise],
      status: 'alerting' as const,
    };

    const result = applySnooze(input, decision);

    expect(result.state.snooze?.level).toBe('critical');
  });

  it('remembers a held outage, and forgets it once its recovery is judged', () => {
    const input = policyInput(balance(800), undefined, at(1));
    const outage = notification('monitor-failing', {
      failure: { kind: 'transient', message: 'timeout' },
    });
    const held = applySnooze(input, {
      state: state({ snooze: snoozed() }),
      notifications: [outage],
      status: 'check-failed',
    });

    const recovered = applySnooze(input, {
      state: held.state,
      notifications: [notification('monitor-recovered')],
      status: 'alerting',
    });

    expect(held.state.snooze?.heldFailure).toBe(true);
    expect(recovered.notifications).toEqual([]);
    expect(recovered.state.snooze).toEqual(snoozed());
  });

  it('forgets a held outage when a rejected key is sent', () => {
    const input = policyInput(failure('auth'), undefined, at(1));
    const rejected = notification('monitor-failing', { failure: { kind: 'auth', message: '401' } });

    const result = applySnooze(input, {
      state: state({ snooze: snoozed({ heldFailure: true }) }),
      notifications: [rejected],
      status: 'check-failed',
    });

    expect(result.notifications).toEqual([rejected]);
    expect(result.state.snooze).toEqual(snoozed());
  });

  it('passes every notification of an account that is not snoozed', () => {
    const input = policyInput(balance(800), undefined, at(1));
    const reminder = notification('balance-reminder');
    const decision = {
      state: state({ level: 'low' }),
      notifications: [reminder],
      status: 'alerting' as const,
    };

    const result = applySnooze(input, decision);

    expect(result).toEqual({ state: decision.state, notifications: [reminder], held: [] });
  });

  it('leaves a redelivered event alone', () => {
    const input = policyInput(balance(800), undefined, at(100));
    const previous = state({ level: 'low', snooze: snoozed() });

    const result = applySnooze(input, { state: previous, notifications: [], status: 'duplicate' });

    expect(result.state).toBe(previous);
    expect(result.notifications).toEqual([]);
  });
});

describe('applySnooze: when the snooze ends', () => {
  it('sends one balance reminder at once when the balance is still low', () => {
    // Prepare: last reminder an hour ago, so the policy has nothing due.
    const previous = state({
      level: 'low',
      since: at(-30).toISOString(),
      lastNotifiedAt: at(47).toISOString(),
      snooze: snoozed(),
    });

    // Act
    const result = run(balance(700), previous, at(48));

    // Assess
    expect(result.notifications).toEqual([
      {
        kind: 'balance-reminder',
        account: 'main',
        level: 'low',
        reason: 'balance',
        previousLevel: 'low',
        balanceCents: 700,
        forecast: undefined,
        forecastNote: undefined,
        since: at(-30).toISOString(),
        thresholds,
        thresholdParameterName: '/ngrok-balance-alert/main/threshold-cents',
        tokenParameterName: '/ngrok/main-key',
        configProblems: [],
        at: at(48).toISOString(),
      },
    ]);
    expect(result.state.snooze).toBeUndefined();
    expect(result.state.lastNotifiedAt).toBe(at(48).toISOString());
    expect(result.state.lastBalanceCents).toBe(700);
  });

  it('sends nothing more when the run already alerts about the problem', () => {
    const previous = state({
      level: 'low',
      lastNotifiedAt: at(47).toISOString(),
      snooze: snoozed(),
    });

    const result = run(balance(200), previous, at(48));

    expect(result.notifications.map((n) => [n.kind, n.level])).toEqual([
      ['balance-alert', 'critical'],
    ]);
    expect(result.state.snooze).toBeUndefined();
  });

  it('sends nothing more when a reminder is due anyway', () => {
    const previous = state({
      level: 'low',
      lastNotifiedAt: at(24).toISOString(),
      snooze: snoozed(),
    });

    const result = run(balance(700), previous, at(48));

    expect(result.notifications.map((n) => n.kind)).toEqual(['balance-reminder']);
  });

  it('sends nothing more after an improvement that is still above ok', () => {
    const previous = state({
      level: 'critical',
      lastNotifiedAt: at(47).toISOString(),
      snooze: snoozed(),
    });

    const result = run(balance(700), previous, at(48));

    expect(result.notifications.map((n) => n.kind)).toEqual(['balance-improved']);
  });

  it('sends nothing when the balance is back to ok', () => {
    const previous = state({ level: 'ok', snooze: snoozed() });

    const result = run(balance(5000), previous, at(48));

    expect(result.notifications).toEqual([]);
    expect(result.state.snooze).toBeUndefined();
  });

  it('sends one outage reminder when the monitor still cannot read the balance', () => {
    // Prepare: the outage alert was held during the snooze.
    const previous = state({
      level: 'low',
      lastBalanceCents: 650,
      failures: 5,
      failureSince: at(40).toISOString(),
      failureNotifiedAt: at(46).toISOString(),
      failureKind: 'transient',
      snooze: snoozed({ heldFailure: true }),
    });

    // Act
    const result = run(failure('transient'), previous, at(48));

    // Assess
    expect(result.notifications).toEqual([
      expect.objectContaining({
        kind: 'monitor-reminder',
        level: 'low',
        balanceCents: 650,
        failure: { kind: 'transient', message: 'transient failure' },
        consecutiveFailures: 6,
        since: at(40).toISOString(),
        at: at(48).toISOString(),
      }),
    ]);
    expect(result.state.failureNotifiedAt).toBe(at(48).toISOString());
    expect(result.state.snooze).toBeUndefined();
  });

  it('sends one outage reminder, not two, when one is due anyway as the snooze ends', () => {
    const previous = state({
      failures: 90,
      failureSince: at(20).toISOString(),
      failureNotifiedAt: at(24).toISOString(),
      failureKind: 'transient',
      snooze: snoozed({ heldFailure: true }),
    });

    const result = run(failure('transient'), previous, at(48));

    expect(result.notifications.map((n) => n.kind)).toEqual(['monitor-reminder']);
    expect(result.held).toEqual([]);
  });

  it('sends the outage alert itself when it falls due as the snooze ends', () => {
    const previous = state({
      failures: 2,
      failureSince: at(47.5).toISOString(),
      snooze: snoozed(),
    });

    const result = run(failure('transient'), previous, at(48));

    expect(result.notifications.map((n) => n.kind)).toEqual(['monitor-failing']);
  });

  it('sends the balance reminder with the last balance when a check fails before an outage is reported', () => {
    const previous = state({ level: 'low', lastBalanceCents: 640, snooze: snoozed() });

    const result = run(failure('transient'), previous, at(48));

    expect(result.notifications).toEqual([
      expect.objectContaining({ kind: 'balance-reminder', level: 'low', balanceCents: 640 }),
    ]);
    expect(result.state.lastBalanceCents).toBe(640);
  });

  it('sends nothing for a failed check of a healthy account', () => {
    const previous = state({ snooze: snoozed() });

    const result = run(failure('transient'), previous, at(48));

    expect(result.notifications).toEqual([]);
    expect(result.state.snooze).toBeUndefined();
  });
});

describe('a low-balance account snoozed for two days (15-minute runs)', () => {
  it('sends no reminders for two days, alerts when the balance hits zero, and reminds once at the end', () => {
    // Prepare: the account has been low for a day and was alerted about.
    let current: SnoozableState | undefined;
    const sent: Array<[hours: number, kind: NotificationKind, level: Level]> = [];
    const balanceAt = (hours: number) => (hours < 30 ? 800 : 0);
    current = run(balance(800), undefined, at(-24)).state;
    current = applySnoozeCommand(
      current,
      { until: at(48), note: 'top-up Monday' },
      'main',
      T0,
    ).state;

    // Act: three days of runs every 15 minutes.
    for (let quarter = 1; quarter <= 3 * 24 * 4; quarter++) {
      const hours = quarter / 4;
      const result = run(balance(balanceAt(hours)), current, at(hours));
      for (const n of result.notifications) sent.push([hours, n.kind, n.level]);
      current = result.state;
    }

    // Assess: the daily reminders due at hours 0 and 24 were held; after the one at the end,
    // reminders follow the usual schedule.
    expect(sent).toEqual([
      [30, 'balance-alert', 'empty'],
      [48, 'balance-reminder', 'empty'],
      [72, 'balance-reminder', 'empty'],
    ]);
  });

  propertyTest.prop([
    fc.array(
      fc.oneof(
        fc.integer({ min: -100, max: 3000 }),
        fc.constantFrom<CheckFailureKind>('transient', 'auth'),
      ),
      {
        minLength: 1,
        maxLength: 300,
      },
    ),
  ])('never sends a reminder or a repeat while snoozed, whatever happens', (events) => {
    // Prepare
    let current = applySnoozeCommand(undefined, { until: at(200) }, 'main', T0).state;
    let heard: Level = 'ok';

    // Act / Assess
    events.forEach((event, index) => {
      const now = at((index + 1) / 4);
      const result = run(typeof event === 'number' ? balance(event) : failure(event), current, now);
      for (const n of result.notifications) {
        expect(n.kind).not.toMatch(/reminder/);
        if (n.kind === 'balance-alert') {
          expect(LEVEL_RANK[n.level]).toBeGreaterThan(LEVEL_RANK[heard]);
          heard = n.level;
        }
        if (n.kind === 'monitor-failing') expect(n.failure?.kind).toBe('auth');
      }
      current = result.state;
    });
  });
});

const LEVEL_RANK: Record<Level, number> = { ok: 0, low: 1, critical: 2, empty: 3 };

describe('snoozeCommand', () => {
  const address = { region: 'eu-west-1', functionName: 'ngrok-balance-alert-Monitor' };

  it('prints the exact command that snoozes an account until a time', () => {
    const command = snoozeCommand(
      address,
      'main',
      new Date('2026-12-04T09:00:00.000Z'),
      'top-up approved',
    );

    expect(command).toBe(
      'aws lambda invoke --region eu-west-1 --function-name ngrok-balance-alert-Monitor ' +
        '--cli-binary-format raw-in-base64-out ' +
        `--payload '{"snooze":{"account":"main","until":"2026-12-04T09:00:00Z","note":"top-up approved"}}' /dev/stdout`,
    );
  });

  it('ends a snooze with null, and cuts the end time to whole seconds', () => {
    expect(snoozeCommand(address, '*', null)).toContain(
      `--payload '{"snooze":{"account":"*","until":null}}'`,
    );
    expect(snoozeCommand(address, 'main', new Date('2026-12-04T09:00:00.500Z'))).toContain(
      '"until":"2026-12-04T09:00:00Z"',
    );
  });

  it('keeps a note with quotes and line breaks inside the single-quoted payload', () => {
    const command = snoozeCommand(address, 'main', at(5), "it's\napproved");

    expect(command).toContain(`"note":"it’s approved"}}'`);
    expect(command.match(/'/g)).toHaveLength(2);
  });

  it('leaves out a note with nothing visible', () => {
    expect(snoozeCommand(address, 'main', at(5), ' \n ')).not.toContain('note');
  });

  it('prints a snooze for a duration, which works whenever it is pasted', () => {
    expect(snoozeCommand(address, 'main', { for: '3d' }, 'top-up approved')).toContain(
      `--payload '{"snooze":{"account":"main","for":"3d","note":"top-up approved"}}' /dev/stdout`,
    );
  });

  it('ends every balance alert with a snooze for a day from when the command runs', () => {
    const alert = notification('balance-alert', { at: '2026-12-01T10:07:31.123Z' });

    const command = snoozeForADayCommand(address, alert);

    expect(command).toContain(`'{"snooze":{"account":"main","for":"24h"}}'`);
  });

  it('gives a command that the payload validation accepts days after the alert', () => {
    // Prepare: the alert went out at T0; the command is pasted three days later.
    const command = snoozeForADayCommand(
      address,
      notification('balance-alert', { at: T0.toISOString() }),
    );
    const payload = JSON.parse(/--payload '(.*)' /.exec(command)?.[1] ?? '');

    // Act
    const request = parseSnoozeRequest(payload.snooze, ACCOUNTS, at(72));

    // Assess
    expect(request.until).toEqual(at(96));
  });
});

describe('the snooze in saved state', () => {
  it('stays small with the longest, most awkward note (the state parameter holds 4 KB)', () => {
    // Prepare: every character of the note needs escaping or three bytes of UTF-8.
    const quotes = applySnoozeCommand(
      state(),
      { until: at(48), note: sanitiseNote('"'.repeat(500)) },
      'main',
      T0,
    );
    const wide = applySnoozeCommand(
      state(),
      { until: at(48), note: sanitiseNote('語'.repeat(500)) },
      'main',
      T0,
    );
    const size = (s: SnoozableState) =>
      Buffer.byteLength(JSON.stringify({ snooze: { ...s.snooze, heldFailure: true } }));

    // Act / Assess
    expect(size(quotes.state)).toBeLessThanOrEqual(420);
    expect(size(wide.state)).toBeLessThanOrEqual(520);
  });
});

describe('withLatestSnooze', () => {
  const started: SnoozeState = { until: at(24).toISOString(), level: 'low' };
  const next: SnoozableState = { ...state(), snooze: { ...started, level: 'critical' } };

  it("keeps the run's own snooze when nobody changed it during the run", () => {
    expect(withLatestSnooze(next, started, { ...started })).toBe(next);
  });

  it("takes a snooze a command set, replaced or ended during the run, and the run's alert state", () => {
    const replaced: SnoozeState = { until: at(48).toISOString(), note: 'later', level: 'low' };

    expect(withLatestSnooze(next, started, replaced)).toEqual({ ...next, snooze: replaced });
    expect(withLatestSnooze({ ...state() }, undefined, replaced)).toEqual({
      ...state(),
      snooze: replaced,
    });
    expect(withLatestSnooze(next, started, undefined)).toEqual(state());
  });

  it.each([
    ['note', { note: 'n' }],
    ['level', { level: 'empty' as const }],
    ['held failure', { heldFailure: true as const }],
  ])('sees a change of the %s alone', (_what, change) => {
    expect(withLatestSnooze(next, started, { ...started, ...change }).snooze).toEqual({
      ...started,
      ...change,
    });
  });
});
