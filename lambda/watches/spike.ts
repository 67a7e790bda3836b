/**
 * The spend-spike watch: decides whether a spike starts, goes on or ends (spike-policy.ts);
 * its effect, for a spike alert or reminder, finds the access keys driving it, reading the
 * usage overview again unless this run already did.
 */
import type { Notification, Observation, SpikeReport } from '../common/types.ts';
import type { UsageSummary } from '../observe/forecast.ts';
import { fetchUsage, OVERVIEW_BUDGET_MS } from '../observe/observe.ts';
import type { AlertState } from '../store/state.ts';
import { spikeDrivers } from './spike-drivers.ts';
import {
  decideSpike,
  readSpikeState,
  type SpikeDecision,
  type SpikeEvent,
} from './spike-policy.ts';
import { type Step, type WatchInput, watch } from './watch.ts';

export interface SpikeEffect {
  readonly drivers: Pick<SpikeReport, 'drivers' | 'driversNote'>;
  /** A usage summary refreshed for the drivers, to save in place of the older one. */
  readonly usage?: UsageSummary;
}

function spikeDecision(
  input: WatchInput,
  observation: Extract<Observation, { ok: true }>,
  spike: AlertState['spike'],
): SpikeDecision {
  const { config } = input;
  return decideSpike({
    previous: readSpikeState(spike),
    recent: input.observed.recentRate ?? { known: false, reason: 'no reading' },
    averageDailyCents: observation.forecast?.dailySpendCents,
    settings: {
      spikeFactor: config.spikeFactor,
      spikeMinCentsPerHour: config.spikeMinCentsPerHour,
      renotifyMs: config.renotifyHours * 3_600_000,
    },
    now: input.now,
  });
}

export const spikeWatch = watch<SpikeEffect | undefined>({
  name: 'spike',
  async effect(input, previous, context) {
    const { observation } = input.observed;
    if (!observation.ok || input.apiKey === undefined) return undefined;
    const event = spikeDecision(input, observation, previous?.spike).event;
    if (!event || event.kind === 'spike-ended') return undefined;
    const { config, now } = input;
    const fetched = input.observed.overview
      ? { overview: input.observed.overview, summary: undefined, problem: undefined }
      : await fetchUsage(
          input.apiKey,
          { now, forecastDays: config.forecastDays, ngrok: context.ngrok },
          Math.min(context.clock() + OVERVIEW_BUDGET_MS, context.runDeadline),
        );
    const found = fetched.overview
      ? spikeDrivers(fetched.overview, now, config.forecastDays)
      : { error: fetched.problem?.replace(/^forecast unavailable: /, '') ?? 'no usage overview' };
    return {
      drivers:
        'error' in found
          ? { drivers: [], driversNote: found.error }
          : { drivers: found.map(({ excessCentsPerHour: _e, ...d }) => d) },
      ...(fetched.summary && { usage: fetched.summary }),
    };
  },
  decide(input, step, effect) {
    const { observation } = input.observed;
    if (!observation.ok) return step;
    const decision = spikeDecision(input, observation, step.state.spike);
    const state = {
      ...step.state,
      spike: decision.state,
      ...(effect?.usage && { usage: effect.usage }),
    };
    const event = decision.event;
    if (!event) return { ...step, state };
    const drivers: SpikeEffect['drivers'] =
      event.kind === 'spike-ended'
        ? { drivers: [] }
        : (effect?.drivers ?? { drivers: [], driversNote: 'not read this run' });
    return {
      ...step,
      state,
      notifications: [
        ...step.notifications,
        spikeNotification(event, drivers, observation, input, step),
      ],
    };
  },
});

function spikeNotification(
  event: SpikeEvent,
  drivers: SpikeEffect['drivers'],
  observation: Extract<Observation, { ok: true }>,
  input: WatchInput,
  step: Step,
): Notification {
  const { balanceCents, forecast, forecastNote, runway } = observation;
  return {
    kind: event.kind,
    account: input.account.name,
    level: step.state.level,
    reason: step.state.reason,
    balanceCents,
    thresholds: input.thresholds,
    thresholdParameterName: input.account.thresholdParameterName,
    tokenParameterName: input.account.tokenParameterName,
    ...(forecast && { forecast }),
    ...(forecastNote !== undefined && { forecastNote }),
    ...(runway && { runway }),
    since: event.since,
    spike: {
      levelCentsPerHour: event.levelCentsPerHour,
      ...(event.recent && {
        recentCentsPerHour: event.recent.centsPerHour,
        windowMinutes: event.recent.windowMinutes,
      }),
      ...(event.averageDailyCents !== undefined && {
        averageDailyCents: event.averageDailyCents,
      }),
      ...drivers,
    },
    configProblems: [],
    at: input.now.toISOString(),
  };
}
