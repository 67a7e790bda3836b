/**
 * The alert state saved per account between runs, and its (de)serialisation. It lives in
 * an SSM String parameter, so it is small JSON with short keys: standard parameters hold
 * at most 4 KB.
 */

import { type CheckFailureKind, LEVELS, type Level, type LevelReason } from '../common/types.ts';
import type { BalanceSample, UsageSummary } from '../observe/forecast.ts';
import type { RecentSample } from '../observe/recent-rate.ts';
import type { KeyNameCache } from '../watches/access-key-names.ts';
import type { WeekRecord } from '../watches/digest.ts';
import type { ExpiryState } from '../watches/expiry.ts';
import type { SnoozeState } from '../watches/snooze.ts';
import type { SpikeState } from '../watches/spike-policy.ts';
import { readTopUpState, type TopUpState } from '../watches/top-up/decide.ts';

export interface AlertState {
  /** Balance level after the last successful check. */
  readonly level: Level;
  readonly reason: LevelReason;
  /** When the current level began (ISO 8601). */
  readonly since: string;
  /** Last balance alert, reminder or improvement; absent while ok. */
  readonly lastNotifiedAt?: string;
  /** Balance when the state last changed. */
  readonly lastBalanceCents?: number;
  /** Consecutive checks that could not read the balance. */
  readonly failures: number;
  /** When the current run of failures began. */
  readonly failureSince?: string;
  /** Set once the monitor has told people it is failing, with the kind it reported. */
  readonly failureNotifiedAt?: string;
  readonly failureKind?: CheckFailureKind;
  /** The configuration problems already reported, so each is reported once. */
  readonly reportedConfigProblems?: string;
  /** The scheduled event that last changed this state: a redelivery of it does nothing. */
  readonly lastEventId?: string;
  /** Sampled balances for the burn-rate forecast. */
  readonly history?: readonly BalanceSample[];
  /** The last usage overview summary; the overview changes at most daily. */
  readonly usage?: UsageSummary;
  /** Auto top-up's state (under 1 KB), when auto top-up is on: never dropped for size. */
  readonly topUp?: TopUpState;
  /** An active (or just ended) snooze; set by a snooze command, cleared by the run after it ends. */
  readonly snooze?: SnoozeState;
  /** This week's totals for the weekly digest. */
  readonly week?: WeekRecord;
  /** When the credit grants were last read, and the expiry warnings already sent. */
  readonly expiry?: ExpiryState;
  /** The last few balance readings, for the recent spend rate (about 110 bytes). */
  readonly recent?: readonly RecentSample[];
  /** The spend spike in progress, if any (about 160 bytes); read with readSpikeState. */
  readonly spike?: SpikeState;
  /** Access key names, cached for a day (at most about 550 bytes). */
  readonly keyNames?: KeyNameCache;
}

/** CloudFormation cannot create an empty parameter, so the stack seeds it with this. */
export const INITIAL_STATE_VALUE = '{}';

/** Standard SSM parameters hold at most 4 KB. */
export const MAX_STATE_BYTES = 4096;

export type ParsedState =
  | { readonly state: AlertState }
  | { readonly state: undefined; readonly problem?: string };

/**
 * Reads saved state. Missing, seeded or corrupt state is a first run, never a crash: the
 * monitor would rather repeat one alert than stop alerting.
 */
export function parseState(raw: string | undefined): ParsedState {
  if (raw === undefined || raw.trim() === '' || raw.trim() === INITIAL_STATE_VALUE) {
    return { state: undefined };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { state: undefined, problem: 'saved state is not JSON' };
  }
  const s = value as Partial<AlertState> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    !LEVELS.includes(s.level as Level) ||
    (s.reason !== 'balance' && s.reason !== 'runway') ||
    typeof s.since !== 'string' ||
    !Number.isInteger(s.failures) ||
    (s.failures ?? -1) < 0
  ) {
    return { state: undefined, problem: 'saved state does not have the expected fields' };
  }
  // A part of the state with the wrong shape is dropped on its own: the rest still counts.
  // An unreadable top-up state is read as lost: the purchase decisions then hold one
  // purchase back under the cap.
  const { snooze, week, expiry, topUp, ...rest } = s as AlertState;
  return {
    state: {
      ...rest,
      ...(isSnooze(snooze) && { snooze }),
      ...(isWeek(week) && { week }),
      ...(isExpiry(expiry) && { expiry }),
      ...(topUp !== undefined && isTopUpState(topUp) && { topUp }),
    } as AlertState,
  };
}

function isSnooze(x: SnoozeState | undefined): x is SnoozeState {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.until === 'string' &&
    !Number.isNaN(Date.parse(x.until)) &&
    LEVELS.includes(x.level)
  );
}

function isWeek(x: WeekRecord | undefined): x is WeekRecord {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.week === 'string' &&
    [x.spentCents, x.addedCents, x.alerts, x.topUps].every(Number.isFinite)
  );
}

function isExpiry(x: ExpiryState | undefined): x is ExpiryState {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x.readOn === undefined || typeof x.readOn === 'string') &&
    (x.warned === undefined || Array.isArray(x.warned))
  );
}

/** A saved top-up part the decisions accept (anything else is read as lost: they hold). */
function isTopUpState(value: unknown): value is TopUpState {
  return readTopUpState(value) !== undefined;
}

/**
 * Serialises state for PutParameter. If it ever grows past the parameter limit, what costs
 * least goes first: the key names (keys are then shown by id until the next read), then the
 * oldest forecast history (only delays the history forecast), then the expiry warnings
 * already sent (at worst one warning is repeated), then the cached usage summary (fetched
 * again), then the week's totals (the digest says "no totals yet"). The alert fields, the
 * snooze, the recent readings and the spike are never dropped: they are small, and losing
 * them would repeat, miss or release alerts.
 */
export function serializeState(state: AlertState): string {
  let current = state;
  let text = JSON.stringify(current);
  const tooBig = () => Buffer.byteLength(text) > MAX_STATE_BYTES;
  if (tooBig() && current.keyNames !== undefined) {
    const { keyNames: _names, ...rest } = current;
    current = rest;
    text = JSON.stringify(current);
  }
  while (tooBig() && (current.history?.length ?? 0) > 0) {
    current = { ...current, history: current.history?.slice(1) };
    text = JSON.stringify(current);
  }
  for (const drop of DROPPED_IN_ORDER) {
    if (!tooBig()) break;
    current = drop(current);
    text = JSON.stringify(current);
  }
  return text;
}

const DROPPED_IN_ORDER: readonly ((state: AlertState) => AlertState)[] = [
  (state) => (state.expiry ? { ...state, expiry: { readOn: state.expiry.readOn } } : state),
  ({ usage: _dropped, ...rest }) => rest,
  ({ week: _dropped, ...rest }) => rest,
];

/** Whether two states differ in anything worth a write (the event id alone is not). */
export function stateChanged(before: AlertState | undefined, after: AlertState): boolean {
  if (before === undefined) return true;
  const { lastEventId: _a, ...b } = before;
  const { lastEventId: _b, ...a } = after;
  return canonicalJson(b) !== canonicalJson(a);
}

/** JSON with sorted keys and no undefined members: parsed and rebuilt states compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, inner]) => inner !== undefined)
            .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        )
      : v,
  );
}
