/**
 * Observe: one account's balance reading, and beside it (when due) the usage overview that
 * feeds the forecast, the recent readings and the runway. Only the balance decides whether
 * the check succeeded. Shared by the scheduled run and the local `check` command.
 */

import type { Observation } from '../common/types.ts';
import {
  fetchCreditBalance,
  fetchUsageOverview,
  NgrokApiError,
  type NgrokClientOptions,
} from '../ngrok/ngrok-client.ts';
import {
  type BalanceSample,
  makeForecast,
  summariseUsage,
  type UsageOverview,
  type UsageSummary,
  usageWindowStart,
} from './forecast.ts';
import {
  type RecentRate,
  type RecentSample,
  recentRate,
  recordRecentSample,
} from './recent-rate.ts';
import { shorterRunway } from './runway.ts';

/** Longest a balance check may take, retries included. */
export const BALANCE_BUDGET_MS = 20_000;
/**
 * The usage overview only feeds the forecast, so it gets a short budget of its own and
 * runs beside the balance call: a slow overview delays an alert by this much at most.
 */
export const OVERVIEW_BUDGET_MS = 4_000;
/** A cached usage summary older than this is not used for a forecast. */
const USAGE_MAX_AGE_MS = 24 * 3_600_000;

export interface ObserveOptions {
  readonly now: Date;
  /** Epoch ms on the HTTP client's clock (`ngrok.now`, else Date.now) when calls give up. */
  readonly deadline: number;
  readonly forecastDays: number;
  readonly usageRefreshHours: number;
  /** Cached forecast inputs and recent readings from the saved state, if any. */
  readonly previous?: {
    readonly usage?: UsageSummary;
    readonly history?: readonly BalanceSample[];
    readonly recent?: readonly RecentSample[];
  };
  readonly ngrok?: NgrokClientOptions;
}

export interface ObserveResult {
  readonly observation: Observation;
  /** The usage summary to keep: freshly fetched, or the cached one. */
  readonly usage: UsageSummary | undefined;
  /** Why the usage overview could not be used this time, if it could not. */
  readonly usageProblem?: string;
  /** The recent balance readings to keep, this run's included when the balance was read. */
  readonly recent: readonly RecentSample[] | undefined;
  /** The recent spend rate measured from them, when the balance was read. */
  readonly recentRate?: RecentRate;
  /** The usage overview, when this run read it (spike drivers are measured from it). */
  readonly overview?: UsageOverview;
}

/**
 * Reads the balance and, when the cached summary is due for a refresh, the usage overview
 * beside it. Only the balance decides whether the check succeeded. Shared by the scheduled
 * run and the local `check` command.
 */
export async function observeAccount(
  apiKey: string,
  options: ObserveOptions,
): Promise<ObserveResult> {
  const { now, previous, forecastDays } = options;
  const started = now.getTime();
  const clockNow = (options.ngrok?.now ?? Date.now)();
  const balanceDeadline = Math.min(clockNow + BALANCE_BUDGET_MS, options.deadline);
  const cached = previous?.usage;
  const usageDue =
    !cached || started - Date.parse(cached.fetchedAt) >= options.usageRefreshHours * 3_600_000;

  const balancePromise = fetchCreditBalance(apiKey, { deadline: balanceDeadline }, options.ngrok);
  const usagePromise = usageDue
    ? fetchUsage(apiKey, options, Math.min(clockNow + OVERVIEW_BUDGET_MS, balanceDeadline))
    : Promise.resolve({ summary: cached, problem: undefined, overview: undefined });

  let balanceCents: number;
  try {
    balanceCents = await balancePromise;
  } catch (error) {
    void usagePromise.catch(() => undefined);
    const kind = error instanceof NgrokApiError && error.kind === 'auth' ? 'auth' : 'transient';
    const message = error instanceof Error ? error.message : String(error);
    return {
      observation: { ok: false, failure: { kind, message } },
      usage: cached,
      recent: previous?.recent,
    };
  }

  const fetched = await usagePromise;
  const usage = fetched.summary ?? cached;
  const freshUsage =
    usage && started - Date.parse(usage.fetchedAt) < USAGE_MAX_AGE_MS ? usage : undefined;
  const { forecast, note } = makeForecast({
    balanceCents,
    usage: freshUsage,
    history: previous?.history,
    now,
    forecastDays,
  });
  const forecastNote = fetched.problem && !forecast ? fetched.problem : note;
  const recent = recordRecentSample(previous?.recent, balanceCents, now);
  const rate = recentRate(recent, now);
  const runway = shorterRunway({
    balanceCents,
    recent: rate,
    ...(forecast && {
      average: { dailySpendCents: forecast.dailySpendCents, windowDays: forecast.windowDays },
    }),
  });
  return {
    observation: { ok: true, balanceCents, forecast, forecastNote, ...(runway && { runway }) },
    usage,
    usageProblem: fetched.problem,
    recent,
    recentRate: rate,
    ...(fetched.overview && { overview: fetched.overview }),
  };
}

export async function fetchUsage(
  apiKey: string,
  options: Pick<ObserveOptions, 'now' | 'forecastDays' | 'ngrok'>,
  deadline: number,
): Promise<{
  summary: UsageSummary | undefined;
  problem: string | undefined;
  overview?: UsageOverview;
}> {
  const { now, forecastDays } = options;
  try {
    const overview = await fetchUsageOverview(
      apiKey,
      { startTime: usageWindowStart(now, forecastDays), endTime: now, groupBy: 'accessKey' },
      { deadline },
      // One retry at most: the overview only feeds the forecast.
      { ...options.ngrok, maxAttempts: 2 },
    );
    const summary = summariseUsage(overview, now, forecastDays);
    if ('error' in summary)
      return { summary: undefined, problem: `forecast unavailable: ${summary.error}`, overview };
    return { summary, problem: undefined, overview };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { summary: undefined, problem: `forecast unavailable: ${reason}` };
  }
}
