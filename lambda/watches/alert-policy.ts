/**
 * The alert policy: a pure function of (observation, settings, previous state, now) that
 * returns the new state and the notifications to send. No I/O and no clock of its own, so
 * every transition can be tested by table and every week simulated in milliseconds.
 */

import {
  type ConfigProblem,
  LEVELS,
  type Level,
  type LevelReason,
  type Notification,
  type NotificationKind,
  type Observation,
  type Thresholds,
} from '../common/types.ts';
import type { AlertState } from '../store/state.ts';

export interface PolicySettings {
  /** While a problem lasts, remind this often. */
  readonly renotifyMs: number;
  /** Consecutive failed checks (other than a rejected or missing key) before alerting. */
  readonly failureAlertAfter: number;
  /** A forecast runway below this many days raises the level to at least `low`. */
  readonly runwayAlertDays: number;
}

export interface PolicyInput {
  readonly account: string;
  readonly thresholdParameterName: string;
  readonly tokenParameterName?: string;
  readonly observation: Observation;
  readonly thresholds: Thresholds;
  readonly configProblems: readonly ConfigProblem[];
  readonly previous: AlertState | undefined;
  readonly now: Date;
  /** The scheduled event's id: a redelivery of an event that already changed state is a no-op. */
  readonly eventId?: string;
  readonly settings: PolicySettings;
}

/** What the run means for a person: `check-failed` is never `ok`. */
export type CheckStatus = 'ok' | 'alerting' | 'check-failed' | 'duplicate';

export interface Decision {
  readonly state: AlertState;
  readonly notifications: readonly Notification[];
  readonly status: CheckStatus;
}

/** Leaving a runway alert needs this much more runway than entering it, so it does not flap. */
export const RUNWAY_RECOVERY_FACTOR = 1.1;

const rank = (level: Level) => LEVELS.indexOf(level);

export function decide(input: PolicyInput): Decision {
  const { previous, now, eventId } = input;
  if (previous && eventId !== undefined && previous.lastEventId === eventId) {
    return { state: previous, notifications: [], status: 'duplicate' };
  }
  const prior: AlertState = previous ?? {
    level: 'ok',
    reason: 'balance',
    since: now.toISOString(),
    failures: 0,
  };
  const outcome = input.observation.ok
    ? decideOnBalance(input, prior, input.observation)
    : decideOnFailure(input, prior, input.observation.failure);
  return withConfigProblems(input, prior, outcome);
}

type Outcome = { state: AlertState; notifications: Notification[]; status: CheckStatus };

function decideOnBalance(
  input: PolicyInput,
  prior: AlertState,
  observation: Extract<Observation, { ok: true }>,
): Outcome {
  const { now, settings } = input;
  const at = now.toISOString();
  const notifications: Notification[] = [];
  const base = notificationBase(input, at);
  const { balanceCents, forecast, forecastNote, runway } = observation;
  const about = { balanceCents, forecast, forecastNote, ...(runway && { runway }) };

  const { level, reason } = levelFor(balanceCents, observation, input, prior);
  if (prior.failureNotifiedAt) {
    notifications.push({
      ...base,
      ...about,
      kind: 'monitor-recovered',
      level,
      reason,
      consecutiveFailures: prior.failures,
      since: prior.failureSince,
    });
  }

  let state: AlertState = {
    ...prior,
    failures: 0,
    failureSince: undefined,
    failureNotifiedAt: undefined,
    failureKind: undefined,
  };

  const notify = (kind: NotificationKind, since: string) =>
    notifications.push({
      ...base,
      ...about,
      kind,
      level,
      reason,
      previousLevel: prior.level,
      since,
    });

  if (rank(level) > rank(prior.level)) {
    state = {
      ...state,
      level,
      reason,
      since: at,
      lastNotifiedAt: at,
      lastBalanceCents: balanceCents,
    };
    notify('balance-alert', at);
  } else if (rank(level) < rank(prior.level)) {
    const recovered = level === 'ok';
    state = {
      ...state,
      level,
      reason,
      since: at,
      lastNotifiedAt: recovered ? undefined : at,
      lastBalanceCents: balanceCents,
    };
    notify(recovered ? 'balance-recovered' : 'balance-improved', at);
  } else if (level !== 'ok') {
    // Same level: keep `since`, pick up a change of reason silently, and remind on schedule.
    state = { ...state, reason };
    const last = Date.parse(prior.lastNotifiedAt ?? prior.since);
    if (now.getTime() - last >= settings.renotifyMs) {
      state = { ...state, lastNotifiedAt: at, lastBalanceCents: balanceCents };
      notify('balance-reminder', prior.since);
    }
  }
  return { state, notifications, status: level === 'ok' ? 'ok' : 'alerting' };
}

/**
 * The level for a balance, with hysteresis: a level rises as soon as its boundary is
 * crossed, but an improvement must clear the boundary it crosses by the recovery margin
 * (and a runway alert needs 10% more runway than it took to raise it). A balance wobbling
 * around any threshold therefore does not alternate alerts and improvements.
 */
export function levelFor(
  balanceCents: number,
  observation: Extract<Observation, { ok: true }>,
  input: Pick<PolicyInput, 'thresholds' | 'settings'>,
  prior: Pick<AlertState, 'level' | 'reason'>,
): { level: Level; reason: LevelReason } {
  const { thresholds } = input;
  const runway = runwayDaysOf(observation);
  const alertDays = input.settings.runwayAlertDays;
  const raw = rawLevel(balanceCents, thresholds, runway, alertDays);
  if (rank(raw.level) >= rank(prior.level)) return raw;

  const runwayStillShort =
    runway === undefined || (runway !== null && runway < alertDays * RUNWAY_RECOVERY_FACTOR);
  let level = prior.level;
  while (rank(level) > rank(raw.level) && canLeave(level)) {
    level = LEVELS[rank(level) - 1] as Level;
  }
  if (level === raw.level) return raw;
  // Held at low: by the runway while it is still short (or unknown), else by the balance.
  const heldByRunway = level === 'low' && prior.reason === 'runway' && runwayStillShort;
  return { level, reason: heldByRunway ? 'runway' : 'balance' };

  function canLeave(from: Level): boolean {
    const { criticalThresholdCents, thresholdCents, recoveryMarginCents } = thresholds;
    switch (from) {
      case 'empty':
        // Any credit at all means requests are served again: no margin here.
        return balanceCents > 0;
      case 'critical':
        // The margin never asks for more than the warning threshold itself.
        return (
          balanceCents >=
          Math.min((criticalThresholdCents ?? 0) + recoveryMarginCents, thresholdCents)
        );
      case 'low':
        if (balanceCents < thresholdCents + recoveryMarginCents) return false;
        // Without a forecast, a runway alert cannot be confirmed over: keep it.
        return prior.reason !== 'runway' || !runwayStillShort;
      default:
        return false;
    }
  }
}

/**
 * The runway the alert uses, in days: the shorter runway of the recent and the long-term
 * rate when the monitor measured one (so a spike alerts within the hour), else the
 * forecast's. Undefined when unknown, null when nothing is being spent.
 */
function runwayDaysOf(observation: Extract<Observation, { ok: true }>): number | null | undefined {
  const shorter = observation.runway;
  if (shorter !== undefined) return shorter.hours === null ? null : shorter.hours / 24;
  return observation.forecast?.runwayDays;
}

/** The level the balance and runway point at, before hysteresis. */
function rawLevel(
  balanceCents: number,
  { thresholdCents, criticalThresholdCents }: Thresholds,
  runway: number | null | undefined,
  alertDays: number,
): { level: Level; reason: LevelReason } {
  if (balanceCents <= 0) return { level: 'empty', reason: 'balance' };
  if (criticalThresholdCents !== undefined && balanceCents < criticalThresholdCents) {
    return { level: 'critical', reason: 'balance' };
  }
  if (balanceCents < thresholdCents) return { level: 'low', reason: 'balance' };
  if (runway != null && runway < alertDays) return { level: 'low', reason: 'runway' };
  return { level: 'ok', reason: 'balance' };
}

function decideOnFailure(
  input: PolicyInput,
  prior: AlertState,
  failure: Extract<Observation, { ok: false }>['failure'],
): Outcome {
  const { now, settings } = input;
  const at = now.toISOString();
  const failures = prior.failures + 1;
  const failureSince = prior.failures > 0 && prior.failureSince ? prior.failureSince : at;
  const immediate = failure.kind !== 'transient';
  const due = immediate || failures >= settings.failureAlertAfter;
  // A rejected or missing key after an outage already reported is news: say it.
  const escalated =
    prior.failureNotifiedAt !== undefined && immediate && prior.failureKind !== failure.kind;

  let state: AlertState = { ...prior, failures, failureSince };
  let kind: NotificationKind | undefined;
  if (due && (prior.failureNotifiedAt === undefined || escalated)) {
    kind = 'monitor-failing';
  } else if (
    prior.failureNotifiedAt !== undefined &&
    now.getTime() - Date.parse(prior.failureNotifiedAt) >= settings.renotifyMs
  ) {
    kind = 'monitor-reminder';
  }
  if (kind) state = { ...state, failureNotifiedAt: at, failureKind: failure.kind };

  const notifications: Notification[] = kind
    ? [
        {
          ...notificationBase(input, at),
          kind,
          level: prior.level,
          reason: prior.reason,
          balanceCents: lastKnownBalance(prior),
          failure,
          consecutiveFailures: failures,
          since: failureSince,
        },
      ]
    : [];
  return { state, notifications, status: 'check-failed' };
}

/**
 * A runtime parameter that cannot be used is reported once per distinct problem: inside
 * whatever this run sends anyway, or on its own when the run sends nothing else.
 */
function withConfigProblems(input: PolicyInput, prior: AlertState, outcome: Outcome): Decision {
  const fingerprint = input.configProblems.map((p) => p.message).join('\n') || undefined;
  let { state } = outcome;
  const notifications = [...outcome.notifications];
  if (fingerprint !== prior.reportedConfigProblems) {
    if (fingerprint && notifications.length === 0) {
      notifications.push({
        ...notificationBase(input, input.now.toISOString()),
        kind: 'config-problem',
        level: state.level,
        reason: state.reason,
        balanceCents: input.observation.ok ? input.observation.balanceCents : undefined,
      });
    }
    state = { ...state, reportedConfigProblems: fingerprint };
  }
  if (input.eventId !== undefined) state = { ...state, lastEventId: input.eventId };
  return { state, notifications, status: outcome.status };
}

/**
 * The newest balance the state knows: the latest forecast sample (taken every few hours)
 * or the balance saved with the last level change or reminder, whichever is more recent.
 */
function lastKnownBalance(state: AlertState): number | undefined {
  const sample = state.history?.at(-1);
  const savedAt = Date.parse(state.lastNotifiedAt ?? state.since);
  if (sample && (state.lastBalanceCents === undefined || sample[0] * 1000 >= savedAt)) {
    return sample[1];
  }
  return state.lastBalanceCents;
}

/** The fields every notification of one account's run shares. */
export function notificationBase(input: PolicyInput, at: string) {
  return {
    account: input.account,
    thresholds: input.thresholds,
    thresholdParameterName: input.thresholdParameterName,
    tokenParameterName: input.tokenParameterName,
    configProblems: input.configProblems,
    at,
  };
}
