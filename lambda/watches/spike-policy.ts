/**
 * The spend-spike policy: a pure function of (recent rate, long-term rate, settings,
 * previous spike state, now) that returns the new spike state and the event to send, if
 * any. It runs next to the balance policy (alert-policy.ts) and follows the same lifecycle:
 * one alert when a spike starts, a reminder every `renotifyMs` while it lasts, and one
 * "back to normal" when it ends.
 *
 * Hysteresis: a spike starts when the recent rate reaches the spike level and ends only
 * once the rate has stayed below half that level for SPIKE_END_MS, so a rate wobbling
 * around the level does not alternate alerts and all-clears.
 */
import type { KnownRecentRate, RecentRate } from '../observe/recent-rate.ts';

export const SPIKE_EVENT_KINDS = ['spike-started', 'spike-reminder', 'spike-ended'] as const;
export type SpikeEventKind = (typeof SPIKE_EVENT_KINDS)[number];

/** A spike ends once the rate has stayed below half its level for this long. */
export const SPIKE_END_MS = 3_600_000;

/** The spike ends below this fraction of the level it started at. */
export const SPIKE_END_FRACTION = 0.5;

/** Saved between runs while a spike lasts; absent otherwise. At most about 160 bytes as JSON. */
export interface SpikeState {
  /** When the spike was first seen (ISO 8601). */
  readonly since: string;
  /**
   * The spike level when it started, in cents per hour. The end is measured against it,
   * not against the long-term average, which the spike itself raises day by day.
   */
  readonly levelCentsPerHour: number;
  /** The last spike alert or reminder (ISO 8601). */
  readonly lastNotifiedAt: string;
  /** Since when the rate has been below half the level, when it is (ISO 8601). */
  readonly belowSince?: string;
}

export interface SpikeSettings {
  /** The recent rate must be at least this many times the long-term rate; 0 turns spikes off. */
  readonly spikeFactor: number;
  /** ...and at least this many cents per hour, so small accounts are not paged for cents. */
  readonly spikeMinCentsPerHour: number;
  /** While a spike lasts, remind this often. */
  readonly renotifyMs: number;
}

export interface SpikeInput {
  readonly previous: SpikeState | undefined;
  readonly recent: RecentRate;
  /** The long-term rate in cents per day (forecast.ts); absent when there is none yet. */
  readonly averageDailyCents: number | undefined;
  readonly settings: SpikeSettings;
  readonly now: Date;
}

export interface SpikeEvent {
  readonly kind: SpikeEventKind;
  /** When the spike started. */
  readonly since: string;
  /** The level the spike was measured against, in cents per hour. */
  readonly levelCentsPerHour: number;
  /** The recent rate behind the event; for `spike-ended`, the rate that counted as normal. */
  readonly recent?: KnownRecentRate;
  readonly averageDailyCents?: number;
}

export interface SpikeDecision {
  readonly state: SpikeState | undefined;
  readonly event?: SpikeEvent;
}

/**
 * The rate at which spend counts as a spike, in cents per hour: `spikeFactor` times the
 * long-term hourly rate, and never below `spikeMinCentsPerHour`.
 */
export function spikeLevel(averageDailyCents: number, settings: SpikeSettings): number {
  return Math.max((settings.spikeFactor * averageDailyCents) / 24, settings.spikeMinCentsPerHour);
}

/**
 * Decides whether a spend spike starts, goes on (with a reminder when one is due) or ends.
 *
 * Without a recent rate (too few readings, a top-up) nothing starts or ends: the state is
 * kept as it is. Without a long-term rate (a new account) a spike cannot be told from
 * normal spend, so none starts. With `spikeFactor` 0 spikes are off: any saved spike is
 * dropped without a message.
 */
export function decideSpike(input: SpikeInput): SpikeDecision {
  const { previous, recent, averageDailyCents, settings, now } = input;
  if (settings.spikeFactor === 0) return { state: undefined };
  const at = now.toISOString();
  const average = averageDailyCents === undefined ? {} : { averageDailyCents };

  if (previous === undefined) {
    if (!recent.known || averageDailyCents === undefined) return { state: undefined };
    const level = spikeLevel(averageDailyCents, settings);
    if (recent.centsPerHour < level) return { state: undefined };
    return {
      state: { since: at, levelCentsPerHour: level, lastNotifiedAt: at },
      event: { kind: 'spike-started', since: at, levelCentsPerHour: level, recent, ...average },
    };
  }

  const base = { since: previous.since, levelCentsPerHour: previous.levelCentsPerHour };
  let state: SpikeState = previous;
  if (recent.known) {
    if (recent.centsPerHour < previous.levelCentsPerHour * SPIKE_END_FRACTION) {
      const belowSince = previous.belowSince ?? at;
      if (now.getTime() - Date.parse(belowSince) >= SPIKE_END_MS) {
        return { state: undefined, event: { kind: 'spike-ended', ...base, recent, ...average } };
      }
      state = { ...previous, belowSince };
    } else if (previous.belowSince !== undefined) {
      const { belowSince: _back, ...rest } = previous;
      state = rest;
    }
  }
  if (now.getTime() - Date.parse(previous.lastNotifiedAt) >= settings.renotifyMs) {
    return {
      state: { ...state, lastNotifiedAt: at },
      event: {
        kind: 'spike-reminder',
        ...base,
        ...(recent.known ? { recent } : {}),
        ...average,
      },
    };
  }
  return { state };
}

/**
 * The saved spike state, if `value` (from parsed JSON) is one; anything else is no spike.
 * A corrupt state can at worst repeat one spike alert, never silence one.
 */
export function readSpikeState(value: unknown): SpikeState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Record<string, unknown>;
  const isTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  if (
    !isTime(s.since) ||
    !isTime(s.lastNotifiedAt) ||
    !(typeof s.levelCentsPerHour === 'number' && s.levelCentsPerHour > 0) ||
    !(s.belowSince === undefined || isTime(s.belowSince))
  ) {
    return undefined;
  }
  return value as SpikeState;
}
