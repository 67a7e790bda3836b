/**
 * The alert state saved per account between runs, and its (de)serialisation. It lives in
 * an SSM String parameter, so it is small JSON with short keys: standard parameters hold
 * at most 4 KB.
 */
import type { BalanceSample, UsageSummary } from './forecast.ts';
import type { TopUpState } from './top-up/decide.ts';
import { type CheckFailureKind, LEVELS, type Level, type LevelReason } from './types.ts';

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
  if (s.topUp !== undefined && !isTopUpState(s.topUp)) {
    // Read as lost: the purchase decisions then hold one purchase back under the cap.
    const { topUp: _unreadable, ...rest } = s as AlertState;
    return { state: rest };
  }
  return { state: s as AlertState };
}

/** The parts of a saved top-up state the decisions rely on, checked by form. */
function isTopUpState(value: unknown): value is TopUpState {
  const t = value as Partial<TopUpState> | null;
  const isText = (v: unknown) => v === undefined || typeof v === 'string';
  return (
    typeof t === 'object' &&
    t !== null &&
    Number.isInteger(t.failures) &&
    (t.inFlight === undefined ||
      (typeof t.inFlight.key === 'string' &&
        Number.isInteger(t.inFlight.amountCents) &&
        Number.isInteger(t.inFlight.n) &&
        typeof t.inFlight.month === 'string' &&
        typeof t.inFlight.startedAt === 'string' &&
        isText(t.inFlight.id))) &&
    (t.lastSuccess === undefined || typeof t.lastSuccess.at === 'string') &&
    (t.stopped === undefined || typeof t.stopped.at === 'string') &&
    isText(t.stateLostAt)
  );
}

/**
 * Serialises state for PutParameter. If it ever grows past the parameter limit, the
 * oldest forecast history goes first: losing samples only delays the history forecast.
 */
export function serializeState(state: AlertState): string {
  let current = state;
  let text = JSON.stringify(current);
  while (Buffer.byteLength(text) > MAX_STATE_BYTES && (current.history?.length ?? 0) > 0) {
    current = { ...current, history: current.history?.slice(1) };
    text = JSON.stringify(current);
  }
  if (Buffer.byteLength(text) > MAX_STATE_BYTES) {
    const { usage: _dropped, ...rest } = current;
    text = JSON.stringify(rest);
  }
  return text;
}

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
