/**
 * The alert state saved per account between runs, and how a saved copy is read back. It is
 * the `alert` part of the account's record in the state store (account-record.ts).
 */

import type { CheckFailureKind, Level, LevelReason } from '../common/types.ts';
import type { BalanceSample, UsageSummary } from '../observe/forecast.ts';
import type { RecentSample } from '../observe/recent-rate.ts';
import type { KeyNameCache } from '../watches/access-key-names.ts';
import type { WeekRecord } from '../watches/digest.ts';
import type { ExpiryState } from '../watches/expiry.ts';
import type { CheckoutState } from '../watches/pay-link-policy.ts';
import type { SpikeState } from '../watches/spike-policy.ts';
import { readTopUpState, type TopUpState } from '../watches/top-up/decide.ts';
import { checkPart, STATE_PARTS } from './state-schema.ts';

/** An active snooze (watches/snooze.ts), saved in the account's state. */
export interface SnoozeState {
  /** When the snooze ends (ISO 8601, UTC). Set to the end time when ended early. */
  readonly until: string;
  /** Sanitised, at most MAX_NOTE_CHARS characters. */
  readonly note?: string;
  /**
   * The highest level people have heard about while snoozed: the level when the snooze
   * was set, raised by each rise that was let through. Alerts at or below it are held.
   */
  readonly level: Level;
  /** Set while a "monitor failing" alert was held, so its recovery is held too. */
  readonly heldFailure?: true;
}

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
  /** The week this account last closed, for the digest of the week after it. */
  readonly closedWeek?: WeekRecord;
  /** When the credit grants were last read, and the expiry warnings already sent. */
  readonly expiry?: ExpiryState;
  /** The last few balance readings, for the recent spend rate (about 110 bytes). */
  readonly recent?: readonly RecentSample[];
  /** The spend spike in progress, if any (about 160 bytes); read with readSpikeState. */
  readonly spike?: SpikeState;
  /** Access key names, cached for a day (at most about 550 bytes). */
  readonly keyNames?: KeyNameCache;
  /** The checkout link of the alert episode in progress, if any (pay-link.ts; under 1 KB). */
  readonly checkout?: CheckoutState;
}

/** CloudFormation cannot create an empty parameter, so the stack seeds it with this. */
export const INITIAL_STATE_VALUE = '{}';

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
  const { problems: _problems, ...parsed } = readState(value);
  return parsed;
}

/** Reads a saved state object, checked part by part (see parseState). */
export function readState(value: unknown, now?: Date): ParsedState & { problems?: string[] } {
  const core = checkPart('core', value, now);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !core.ok) {
    return { state: undefined, problem: 'saved state does not have the expected fields' };
  }
  // Each part with the wrong shape or out of bounds is dropped on its own (state-schema.ts):
  // the rest still counts. An unreadable top-up state is read as lost, the careful path.
  const raw = value as Record<string, unknown>;
  const problems: string[] = [];
  const parts: Record<string, unknown> = {};
  for (const part of Object.keys(STATE_PARTS) as (keyof typeof STATE_PARTS)[]) {
    if (part === 'core' || raw[part] === undefined) continue;
    const checked = checkPart(part, raw[part], now);
    if (checked.ok) parts[part] = checked.value;
    else problems.push(checked.problem);
  }
  if (raw.topUp !== undefined) {
    if (isTopUpState(raw.topUp)) parts.topUp = raw.topUp;
    else problems.push('saved auto top-up state: not the expected fields');
  }
  const state = { ...(core.value as object), ...parts } as unknown as AlertState;
  return problems.length > 0 ? { state, problems } : { state };
}

/** A saved top-up part the decisions accept (anything else is read as lost: they hold). */
export function isTopUpState(value: unknown): value is TopUpState {
  return readTopUpState(value) !== undefined;
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
