/**
 * One scheduled run over every account: read settings, check balances, decide, publish,
 * then save. Clients, fetch and the clock come in as arguments; the handler wires the real
 * ones.
 */

import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { errorFields, type Logger } from '../common/log.ts';
import {
  type AccountConfig,
  type Forecast,
  LEVELS,
  type MonitorConfig,
  type Notification,
  type Observation,
  type SpikeReport,
  type Thresholds,
} from '../common/types.ts';
import {
  missingKeyMessage,
  type ParameterValues,
  parameterNamesFor,
  readParameters,
  resolveThresholds,
} from '../config/settings.ts';
import { fetchAccessKeyNames } from '../ngrok/access-keys.ts';
import {
  fetchCreditBalance,
  fetchUsageOverview,
  NgrokApiError,
  type NgrokClientOptions,
} from '../ngrok/ngrok-client.ts';
import { fetchCreditGrants } from '../ngrok/ngrok-credits.ts';
import { renderNotification } from '../notify/render.ts';
import { toSnsPublish } from '../notify/sns.ts';
import {
  type BalanceSample,
  makeForecast,
  recordBalanceSample,
  summariseUsage,
  type UsageOverview,
  type UsageSummary,
  usageWindowStart,
} from '../observe/forecast.ts';
import {
  type RecentRate,
  type RecentSample,
  recentRate,
  recordRecentSample,
} from '../observe/recent-rate.ts';
import { shorterRunway } from '../observe/runway.ts';
import { type AccountRecord, accountKey } from '../store/account-record.ts';
import { claimedBy } from '../store/outbox.ts';
import { type AlertState, parseState, serializeState, stateChanged } from '../store/state.ts';
import { MemoryStore } from '../store/store.ts';
import {
  type KeyNameCache,
  keyName,
  shouldFetchKeyNames,
  updateKeyNameCache,
} from '../watches/access-key-names.ts';
import { type CheckStatus, decide, type PolicyInput } from '../watches/alert-policy.ts';
import { advanceWeek, buildDigest, type DigestAccountInput, digestDue } from '../watches/digest.ts';
import {
  type ExpiryState,
  expiryWarnings,
  recordRead,
  transactionsReadDue,
} from '../watches/expiry.ts';
import { activeSnooze, applySnooze, withLatestSnooze } from '../watches/snooze.ts';
import { spikeDrivers } from '../watches/spike-drivers.ts';
import { decideSpike, readSpikeState, type SpikeEvent } from '../watches/spike-policy.ts';
import type { TopUpNotification, TopUpState } from '../watches/top-up/decide.ts';
import { runTopUp, type TopUpRunInput } from '../watches/top-up/run.ts';
import { topUpSettingsFor } from '../watches/top-up/settings.ts';
import { createLimiter, mapWithConcurrency } from './concurrency.ts';
import { ACCOUNT_CHECKED_MESSAGE, accountValues, emfDocument } from './metrics.ts';

export interface MonitorDeps {
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
  readonly topicArn: string;
  readonly log: Logger;
  /** The clock; every decision in a run uses the time the run started. */
  readonly now: () => Date;
  /** Milliseconds left before the invocation times out. */
  readonly remainingTimeMs: () => number;
  /** Passed to the ngrok client: base URL, fetch, and in tests sleep and jitter. */
  readonly ngrok?: NgrokClientOptions;
  /** The region the stack runs in (AWS_REGION); every command in a message names it. */
  readonly region?: string;
  /** The function's name (AWS_LAMBDA_FUNCTION_NAME), for the snooze command in alerts. */
  readonly functionName?: string;
}

export interface RunRequest {
  /** The scheduled event's id, for deduplicating redeliveries. */
  readonly eventId?: string;
  /** Send a marked test notification per account and touch no state. */
  readonly test?: boolean;
}

export interface AccountResult {
  readonly account: string;
  readonly status: CheckStatus | 'test' | 'error';
  readonly balanceCents?: number;
  readonly notifications: readonly string[];
  readonly error?: string;
}

export interface RunSummary {
  readonly accounts: readonly AccountResult[];
  readonly ssmReadCalls: number;
  /** Whether this run published the weekly digest. */
  readonly digest?: boolean;
}

export class MonitorRunError extends Error {
  override readonly name = 'MonitorRunError';
  constructor(
    readonly failures: readonly AccountResult[],
    options?: ErrorOptions,
  ) {
    super(
      `${failures.length} account(s) could not complete the run: ${failures
        .map((f) => `${f.account}: ${f.error}`)
        .join('; ')}`.slice(0, 2000),
      options,
    );
  }
}

/**
 * Accounts checked at once. All of them (up to the 100 a deployment allows), so an account
 * whose API hangs holds only its own check and never delays another account's alert.
 */
export const ACCOUNT_CONCURRENCY = 100;
/** Publishes in flight at once; kept apart from saves so alerts never queue behind them. */
export const PUBLISH_CONCURRENCY = 10;
/**
 * State saves in flight at once. PutParameter shares a low account-wide rate limit:
 * pacing the saves keeps 100 accounts' first run from being throttled.
 */
export const SAVE_CONCURRENCY = 3;
/** Any single SSM or SNS call, retries included, gives up after this long. */
export const AWS_CALL_TIMEOUT_MS = 10_000;
/** No write starts with less time than this left in the invocation. */
const WRITE_MIN_TIME_MS = 2_000;
/** Longest a balance check may take, retries included. */
export const BALANCE_BUDGET_MS = 20_000;
/**
 * The usage overview only feeds the forecast, so it gets a short budget of its own and
 * runs beside the balance call: a slow overview delays an alert by this much at most.
 */
export const OVERVIEW_BUDGET_MS = 4_000;
/**
 * Reading the access key names gets this long of its own, once a day at most: the names
 * are a nicety, and a slow read must not hold up an alert for longer than this.
 */
export const KEY_NAMES_BUDGET_MS = 2_000;
/** Time kept back at the end of the invocation to publish and save. */
export const FINISH_RESERVE_MS = 8_000;
/**
 * The credit grants only feed the expiry warnings: a short budget, after the balance
 * notifications are out, so a slow transactions call never delays an alert.
 */
export const TRANSACTIONS_BUDGET_MS = 4_000;
/** Longest auto top-up may take (ledger, purchase and following it), retries included. */
export const TOP_UP_BUDGET_MS = 20_000;
/** A cached usage summary older than this is not used for a forecast. */
const USAGE_MAX_AGE_MS = 24 * 3_600_000;

/**
 * Runs one check of every account. Each account is independent: one account's failure is
 * recorded and the others carry on; the run then throws so the invocation fails and is
 * retried or alarmed on.
 */
export async function runMonitor(
  config: MonitorConfig,
  deps: MonitorDeps,
  request: RunRequest = {},
): Promise<RunSummary> {
  const startedAt = deps.now();
  // Deadlines are on the HTTP client's clock; `now` is the decision clock (tests move it).
  const runDeadline = (deps.ngrok?.now ?? Date.now)() + deps.remainingTimeMs() - FINISH_RESERVE_MS;
  const parameters = await readParameters(deps.ssm, parameterNamesFor(config.accounts), {
    // Settings reads may use a third of the invocation; the checks need the rest.
    budgetMs: Math.min(30_000, deps.remainingTimeMs() / 3),
  });
  const limitPublishes = createLimiter(PUBLISH_CONCURRENCY);
  const limitSaves = createLimiter(SAVE_CONCURRENCY);
  // Due when every account's saved week is older than this week: decided from the states as
  // they were before this run, so a retried or redelivered run finds the new week saved.
  const weekRecords = config.accounts.map(
    (account) => parseState(parameters.values.get(account.stateParameterName)).state?.week,
  );
  const digestIsDue = !request.test && digestDue(config, weekRecords, startedAt);
  // The digest goes out before any account saves its new week: if its publish fails, nothing
  // is saved and the retry sends it (and repeats this run's alerts: at least once).
  const digestParts: DigestAccountInput[] = [];
  const pendingSaves: (() => Promise<void>)[] = [];

  const results = await mapWithConcurrency(config.accounts, ACCOUNT_CONCURRENCY, (account) =>
    checkAccount(account, config, deps, parameters, {
      ...request,
      now: startedAt,
      runDeadline,
      limitPublishes,
      limitSaves,
      ...(digestIsDue && {
        digest: { parts: digestParts, saves: pendingSaves },
      }),
    }).catch((error: unknown): AccountResult => {
      deps.log.log('ERROR', 'account run failed', { account: account.name, ...errorFields(error) });
      return {
        account: account.name,
        status: 'error',
        notifications: [],
        error: error instanceof Error ? error.message : String(error),
      };
    }),
  );
  if (digestIsDue) {
    const ordered = config.accounts.flatMap((account) =>
      digestParts.filter((part) => part.account === account.name),
    );
    await publishDigest(config, deps, startedAt, ordered, limitPublishes, parameters.values);
    // Every save is tried; the first that failed fails the run (its alerts repeat next run).
    const saved = await Promise.allSettled(pendingSaves.map((save) => save()));
    const failed = saved.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
  const failures = results.filter((r) => r.status === 'error');
  if (failures.length > 0) throw new MonitorRunError(failures);
  return { accounts: results, ssmReadCalls: parameters.calls, digest: digestIsDue };
}

async function publishDigest(
  config: MonitorConfig,
  deps: MonitorDeps,
  now: Date,
  accounts: readonly DigestAccountInput[],
  limitPublishes: Limiter,
  values: ReadonlyMap<string, string>,
): Promise<void> {
  const digest = buildDigest(config, accounts, now);
  const first = config.accounts[0] as AccountConfig;
  const single = config.accounts.length === 1;
  const worst = accounts.reduce<Notification['level']>(
    (level, a) => (LEVELS.indexOf(a.level) > LEVELS.indexOf(level) ? a.level : level),
    'ok',
  );
  await publish(
    deps,
    { limitPublishes },
    {
      kind: 'weekly-digest',
      // One message for the deployment: named after its only account, or after the stack.
      account: single ? first.name : config.deployment,
      level: worst,
      reason: 'balance',
      // The structured copy's threshold fields are the first account's.
      thresholds: resolveThresholds(first, config, values).thresholds,
      thresholdParameterName: first.thresholdParameterName,
      configProblems: [],
      digest,
      at: now.toISOString(),
    },
  );
}

type Limiter = <R>(task: () => Promise<R>) => Promise<R>;

interface RunContext extends RunRequest {
  readonly now: Date;
  readonly runDeadline: number;
  readonly limitPublishes: Limiter;
  readonly limitSaves: Limiter;
  /** Set when this run publishes the digest: each account adds its part and defers its save. */
  readonly digest?: {
    readonly parts: DigestAccountInput[];
    readonly saves: (() => Promise<void>)[];
  };
}

async function checkAccount(
  account: AccountConfig,
  config: MonitorConfig,
  deps: MonitorDeps,
  parameters: ParameterValues,
  run: RunContext,
): Promise<AccountResult> {
  const { log } = deps;
  // Without its state an account cannot count failures or avoid repeats: fail the run.
  const stateError = parameters.failed.get(account.stateParameterName);
  if (stateError) throw stateError;
  const resolved = resolveThresholds(account, config, parameters.values);
  const { thresholds } = resolved;
  // A parameter SSM failed to read is not a bad value: that is reported as a failed check.
  const problems = resolved.problems.filter((p) => !parameters.failed.has(p.parameterName));
  for (const problem of problems) {
    log.log('WARN', 'runtime setting ignored', {
      account: account.name,
      parameterName: problem.parameterName,
      problem: problem.message,
    });
  }

  if (run.test) {
    await publish(deps, run, {
      kind: 'test',
      account: account.name,
      level: 'ok',
      reason: 'balance',
      thresholds,
      thresholdParameterName: account.thresholdParameterName,
      tokenParameterName: account.tokenParameterName,
      configProblems: problems,
      at: run.now.toISOString(),
    });
    return { account: account.name, status: 'test', notifications: ['test'] };
  }

  const parsed = parseState(parameters.values.get(account.stateParameterName));
  if (parsed.state === undefined && 'problem' in parsed && parsed.problem) {
    log.log('WARN', 'saved state unreadable, treating this run as the first', {
      account: account.name,
      problem: parsed.problem,
    });
  }
  const previous = parsed.state;
  const apiKey = parameters.values.get(account.tokenParameterName);
  // A key or threshold SSM could not read is a failed check, never a fallback to defaults:
  // a throttled threshold read must not turn an alert into a false recovery.
  const readError = [
    account.tokenParameterName,
    account.thresholdParameterName,
    account.criticalThresholdParameterName,
  ]
    .map((name) => (name === undefined ? undefined : parameters.failed.get(name)))
    .find((error) => error !== undefined);
  const observed = readError
    ? {
        // Counted like any failed check: alerts after failureAlertAfter runs, names the cause.
        observation: {
          ok: false as const,
          failure: { kind: 'transient' as const, message: readError.message },
        },
        usage: previous?.usage,
        usageProblem: undefined,
        recent: previous?.recent,
      }
    : apiKey
      ? await observeAccount(apiKey, {
          now: run.now,
          deadline: run.runDeadline,
          forecastDays: config.forecastDays,
          usageRefreshHours: config.usageRefreshHours,
          previous,
          ngrok: deps.ngrok,
        })
      : {
          observation: {
            ok: false as const,
            failure: {
              kind: 'missing-key' as const,
              message: missingKeyMessage(account.tokenParameterName),
            },
          },
          usage: previous?.usage,
          usageProblem: undefined,
          recent: previous?.recent,
        };
  const { observation, usageProblem } = observed;
  if (usageProblem) {
    log.log('WARN', 'usage overview unavailable', { account: account.name, problem: usageProblem });
  }

  // Auto top-up acts only on a successful read in a scheduled run, and never on a
  // redelivered event (the alert policy ignores it too).
  const topUpSettings = topUpSettingsFor(account, thresholds.thresholdCents);
  const redelivered =
    previous !== undefined && run.eventId !== undefined && previous.lastEventId === run.eventId;
  const topUp: SavedStateTopUp | undefined =
    topUpSettings && observation.ok && apiKey && !redelivered
      ? await topUpOnSavedState(previous?.topUp, {
          account: account.name,
          settings: topUpSettings,
          balanceCents: observation.balanceCents,
          apiKey,
          now: run.now,
          deadline: Math.min((deps.ngrok?.now ?? Date.now)() + TOP_UP_BUDGET_MS, run.runDeadline),
          ngrok: deps.ngrok,
          runId: `${run.eventId ?? 'run'}-${run.now.getTime()}`,
        })
      : undefined;
  const topUpStatus = topUpSettings
    ? (topUp?.status ?? 'auto top-up: not buying, the balance could not be read')
    : undefined;

  const policyInput: PolicyInput = {
    account: account.name,
    thresholdParameterName: account.thresholdParameterName,
    tokenParameterName: account.tokenParameterName,
    observation,
    thresholds,
    configProblems: problems,
    previous,
    now: run.now,
    eventId: run.eventId,
    settings: {
      renotifyMs: config.renotifyHours * 3_600_000,
      failureAlertAfter: config.failureAlertAfter,
      runwayAlertDays: config.runwayAlertDays,
    },
  };
  const decision = decide(policyInput);
  const topUpState = topUpSettings ? (topUp?.state ?? previous?.topUp) : undefined;

  // A redelivered run has nothing to add; a failed check has no new reading to judge.
  const spend =
    decision.status !== 'duplicate' && observation.ok && apiKey
      ? await watchSpend(observation, observed, {
          account,
          config,
          deps,
          run,
          apiKey,
          previous,
          level: decision.state,
          thresholds,
        })
      : undefined;
  const keyNames = spend?.keyNames ?? previous?.keyNames;
  const withTopUp = {
    ...decision,
    notifications: [
      ...decision.notifications.map((n) =>
        topUpStatus !== undefined && n.kind.startsWith('balance-') ? { ...n, topUpStatus } : n,
      ),
      ...(topUp?.notifications ?? []).map((t) =>
        topUpNotification(t, {
          level: decision.state.level,
          reason: decision.state.reason,
          thresholds,
          thresholdParameterName: account.thresholdParameterName,
          balanceCents: observation.ok ? observation.balanceCents : undefined,
        }),
      ),
      ...(spend?.notifications ?? []),
    ].map((n) => withKeyNames(n, keyNames)),
  };
  // The snooze holds what only repeats known news, and owes one reminder when it ends.
  const snoozed = applySnooze(policyInput, withTopUp);

  // Publish before saving: if a publish fails, the state stays as it was and the next
  // run sends the notification again. At least once, never silently dropped.
  try {
    for (const notification of snoozed.notifications) await publish(deps, run, notification);
  } catch (error) {
    // Except the purchase state: a run that forgot a purchase it made could buy again.
    // Its notifications are then not resent; the purchase shows in the next alerts' status.
    const kept = { ...(previous ?? decision.state), topUp: topUpState };
    if (topUp && stateChanged(previous, kept)) {
      await saveState(deps, run, account, kept, previous?.snooze);
    }
    throw error;
  }
  if (snoozed.held.length > 0) {
    log.log('INFO', 'notifications held by a snooze', {
      account: account.name,
      held: snoozed.held.map((n) => n.kind),
    });
  }

  const balanceCents = observation.ok ? observation.balanceCents : undefined;
  if (decision.status !== 'duplicate') {
    const week = advanceWeek(
      previous?.week,
      {
        balanceCents,
        sent: snoozed.notifications.map((n) => n.kind),
        topUps: snoozed.notifications.filter((n) => n.kind === 'top-up-succeeded').length,
      },
      config,
      run.now,
    );
    const expiry = await checkExpiry(account, config, deps, run, {
      apiKey,
      balanceCents,
      thresholds,
      previous: previous?.expiry,
    });
    const next: AlertState = {
      ...withForecastData(
        snoozed.state,
        observation,
        spend?.usage ?? observed.usage,
        run.now,
        config,
      ),
      week: week.record,
      expiry,
      topUp: topUpState,
      recent: observed.recent,
      ...(spend && { spike: spend.spike, keyNames: spend.keyNames }),
    };
    run.digest?.parts.push({
      account: account.name,
      level: next.level,
      balanceCents,
      closed: week.closed,
      forecast: observation.ok ? observation.forecast : undefined,
      snooze: activeSnooze(next.snooze, run.now),
    });
    if (stateChanged(previous, next)) {
      const save = () => saveState(deps, run, account, next, previous?.snooze);
      if (run.digest) run.digest.saves.push(save);
      else await save();
    }
  }

  const measured = {
    account: account.name,
    checkSucceeded: observation.ok ? 1 : 0,
    balanceCents,
    forecast: observation.ok ? observation.forecast : undefined,
  } as const;
  if (config.metrics === 'per-account') {
    log.raw(emfDocument(measured, config.deployment, run.now.getTime()));
  }
  const values = accountValues(measured);
  log.log('INFO', ACCOUNT_CHECKED_MESSAGE, {
    account: account.name,
    status: decision.status,
    alertLevel: decision.state.level,
    balanceCents,
    balanceDollars: values.BalanceDollars,
    dailySpendDollars: values.DailySpendDollars,
    thresholdCents: thresholds.thresholdCents,
    runwayDays: values.RunwayDays,
    runwayHours: observation.ok ? observation.runway?.hours : undefined,
    recentCentsPerHour: observed.recentRate?.known ? observed.recentRate.centsPerHour : undefined,
    spikeSince: spend?.spike?.since,
    forecastNote: observation.ok ? observation.forecastNote : undefined,
    failure: observation.ok ? undefined : observation.failure,
    notifications: snoozed.notifications.map((n) => n.kind),
    ...(topUpStatus !== undefined && { autoTopUp: topUpStatus }),
  });
  return {
    account: account.name,
    status: decision.status,
    balanceCents,
    notifications: snoozed.notifications.map((n) => n.kind),
  };
}

/**
 * Once a UTC day, after the balance notifications are out: reads the credit grants with a
 * short budget and publishes the expiry warnings due. A failed read is logged and waits for
 * the next day; it never fails the account's run.
 */
async function checkExpiry(
  account: AccountConfig,
  config: MonitorConfig,
  deps: MonitorDeps,
  run: RunContext,
  input: {
    apiKey: string | undefined;
    balanceCents: number | undefined;
    thresholds: Notification['thresholds'];
    previous: ExpiryState | undefined;
  },
): Promise<ExpiryState | undefined> {
  const { apiKey, balanceCents, previous } = input;
  if (
    apiKey === undefined ||
    balanceCents === undefined ||
    !transactionsReadDue(previous, config.expiryWarningDays, run.now)
  ) {
    return previous;
  }
  const clockNow = (deps.ngrok?.now ?? Date.now)();
  let grants: Awaited<ReturnType<typeof fetchCreditGrants>>;
  try {
    grants = await fetchCreditGrants(
      apiKey,
      { deadline: Math.min(clockNow + TRANSACTIONS_BUDGET_MS, run.runDeadline) },
      { ...deps.ngrok, maxAttempts: 2 },
    );
  } catch (error) {
    deps.log.log('WARN', 'credit grants unavailable, expiry warnings wait for tomorrow', {
      account: account.name,
      ...errorFields(error),
    });
    return recordRead(previous, run.now);
  }
  const { warnings, state } = expiryWarnings({
    account: account.name,
    balanceCents,
    grants,
    warningDays: config.expiryWarningDays,
    state: previous,
    now: run.now,
  });
  for (const { kind, account: name, at, ...expiry } of warnings) {
    await publish(deps, run, {
      kind,
      account: name,
      level: 'ok',
      reason: 'balance',
      balanceCents,
      thresholds: input.thresholds,
      thresholdParameterName: account.thresholdParameterName,
      configProblems: [],
      expiry,
      at,
    });
  }
  return recordRead(state, run.now);
}

export interface ObserveOptions {
  readonly now: Date;
  /** Epoch ms on the HTTP client's clock (`ngrok.now`, else Date.now) when calls give up. */
  readonly deadline: number;
  readonly forecastDays: number;
  readonly usageRefreshHours: number;
  /** Cached forecast inputs and recent readings from the saved state, if any. */
  readonly previous?: Pick<AlertState, 'usage' | 'history' | 'recent'>;
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

async function fetchUsage(
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

interface SpendContext {
  readonly account: AccountConfig;
  readonly config: MonitorConfig;
  readonly deps: MonitorDeps;
  readonly run: RunContext;
  readonly apiKey: string;
  readonly previous: AlertState | undefined;
  /** The balance level after this run's decision: spike messages show it. */
  readonly level: Pick<AlertState, 'level' | 'reason'>;
  readonly thresholds: Thresholds;
}

interface SpendWatch {
  readonly notifications: readonly Notification[];
  readonly spike: AlertState['spike'];
  readonly keyNames: KeyNameCache | undefined;
  /** A usage summary refreshed for a spike, to save in place of the older one. */
  readonly usage?: UsageSummary;
}

/**
 * The spend-spike check after a successful read: decides whether a spike starts, goes on
 * or ends; for a spike alert or reminder, finds the access keys driving it (reading the
 * usage overview again unless this run already did); and reads the key names when they
 * are due. Names are best effort: a failed read is logged and the ids are shown.
 */
async function watchSpend(
  observation: Extract<Observation, { ok: true }>,
  observed: ObserveResult,
  c: SpendContext,
): Promise<SpendWatch> {
  const { config, deps, run } = c;
  const now = run.now;
  const decision = decideSpike({
    previous: readSpikeState(c.previous?.spike),
    recent: observed.recentRate ?? { known: false, reason: 'no reading' },
    averageDailyCents: observation.forecast?.dailySpendCents,
    settings: {
      spikeFactor: config.spikeFactor,
      spikeMinCentsPerHour: config.spikeMinCentsPerHour,
      renotifyMs: config.renotifyHours * 3_600_000,
    },
    now,
  });
  const clockNow = () => (deps.ngrok?.now ?? Date.now)();
  const event = decision.event;
  let drivers: Pick<SpikeReport, 'drivers' | 'driversNote'> = { drivers: [] };
  let usage: UsageSummary | undefined;
  if (event && event.kind !== 'spike-ended') {
    const fetched = observed.overview
      ? { overview: observed.overview, summary: undefined, problem: undefined }
      : await fetchUsage(
          c.apiKey,
          { now, forecastDays: config.forecastDays, ngrok: deps.ngrok },
          Math.min(clockNow() + OVERVIEW_BUDGET_MS, run.runDeadline),
        );
    usage = fetched.summary;
    const found = fetched.overview
      ? spikeDrivers(fetched.overview, now, config.forecastDays)
      : { error: fetched.problem?.replace(/^forecast unavailable: /, '') ?? 'no usage overview' };
    drivers =
      'error' in found
        ? { drivers: [], driversNote: found.error }
        : { drivers: found.map(({ excessCentsPerHour: _e, ...d }) => d) };
  }

  const wanted = [
    ...new Set([
      ...(observation.forecast?.topSpenders ?? []).map((s) => s.accessKey),
      ...drivers.drivers.map((d) => d.accessKey),
    ]),
  ];
  let keyNames = c.previous?.keyNames;
  if (shouldFetchKeyNames(keyNames, wanted, now)) {
    const fetched = await fetchAccessKeyNames(
      c.apiKey,
      { deadline: Math.min(clockNow() + KEY_NAMES_BUDGET_MS, run.runDeadline) },
      { ...deps.ngrok, maxAttempts: 1 },
    ).catch((error: unknown) => {
      deps.log.log('WARN', 'access key names unavailable; keys are shown by id', {
        account: c.account.name,
        ...errorFields(error),
      });
      return undefined;
    });
    keyNames = updateKeyNameCache(keyNames, fetched, wanted, now);
  }

  const notifications = event ? [spikeNotification(event, drivers, observation, c)] : [];
  return { notifications, spike: decision.state, keyNames, ...(usage && { usage }) };
}

function spikeNotification(
  event: SpikeEvent,
  drivers: Pick<SpikeReport, 'drivers' | 'driversNote'>,
  observation: Extract<Observation, { ok: true }>,
  c: SpendContext,
): Notification {
  const { balanceCents, forecast, forecastNote, runway } = observation;
  return {
    kind: event.kind,
    account: c.account.name,
    level: c.level.level,
    reason: c.level.reason,
    balanceCents,
    thresholds: c.thresholds,
    thresholdParameterName: c.account.thresholdParameterName,
    tokenParameterName: c.account.tokenParameterName,
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
    at: c.run.now.toISOString(),
  };
}

/** The notification with every access key it names given its cached display name. */
function withKeyNames(n: Notification, cache: KeyNameCache | undefined): Notification {
  if (cache === undefined) return n;
  return {
    ...n,
    ...(n.forecast && { forecast: withSpenderNames(n.forecast, cache) }),
    ...(n.spike && { spike: { ...n.spike, drivers: n.spike.drivers.map(named(cache)) } }),
  };
}

/** The forecast with its top spenders given their cached display names. */
export function withSpenderNames(forecast: Forecast, cache: KeyNameCache): Forecast {
  return { ...forecast, topSpenders: forecast.topSpenders.map(named(cache)) };
}

function named(cache: KeyNameCache) {
  return <T extends { accessKey: string }>(item: T): T => {
    const name = keyName(cache, item.accessKey);
    return name === item.accessKey ? item : { ...item, name };
  };
}

/** Adds the forecast's inputs (balance samples, usage summary) to the state to save. */
function withForecastData(
  state: AlertState,
  observation: Observation,
  usage: UsageSummary | undefined,
  now: Date,
  config: MonitorConfig,
): AlertState {
  const history: readonly BalanceSample[] | undefined = observation.ok
    ? recordBalanceSample(state.history, observation.balanceCents, now, config.forecastDays)
    : state.history;
  return { ...state, history, usage };
}

async function publish(
  deps: MonitorDeps,
  run: Pick<RunContext, 'limitPublishes'>,
  notification: Notification,
) {
  const rendered = renderNotification(notification, {
    ...(deps.region !== undefined && { region: deps.region }),
    ...(deps.functionName !== undefined && { functionName: deps.functionName }),
  });
  const input = toSnsPublish(rendered, notification.account);
  await run.limitPublishes(() =>
    deps.sns.send(new PublishCommand({ TopicArn: deps.topicArn, ...input }), {
      abortSignal: writeSignal(deps),
    }),
  );
  deps.log.log('INFO', 'notification published', {
    account: notification.account,
    kind: notification.kind,
    subject: rendered.subject,
  });
}

async function saveState(
  deps: MonitorDeps,
  run: RunContext,
  account: AccountConfig,
  state: AlertState,
  startedWith: AlertState['snooze'],
) {
  await run.limitSaves(async () => {
    const latest = await latestSnooze(deps, account);
    const merged = latest === false ? state : withLatestSnooze(state, startedWith, latest);
    await deps.ssm.send(
      new PutParameterCommand({
        Name: account.stateParameterName,
        Value: serializeState(merged),
        Type: 'String',
        Overwrite: true,
      }),
      { abortSignal: writeSignal(deps) },
    );
  });
}

/**
 * The snooze in the account's saved state right now, so a snooze command that ran during
 * this run is not overwritten; `false` when it could not be read (the run then writes its
 * own state: a lost snooze is better than a lost alert state).
 */
async function latestSnooze(
  deps: MonitorDeps,
  account: AccountConfig,
): Promise<AlertState['snooze'] | false> {
  try {
    const out = await deps.ssm.send(
      new GetParametersCommand({ Names: [account.stateParameterName] }),
      { abortSignal: writeSignal(deps) },
    );
    const value = out?.Parameters?.find((p) => p.Name === account.stateParameterName)?.Value;
    return parseState(value).state?.snooze;
  } catch (error) {
    deps.log.log('WARN', 'state not re-read before saving', {
      account: account.name,
      ...errorFields(error),
    });
    return false;
  }
}

/**
 * A timeout for one write, taken when it leaves the queue. A write that cannot finish
 * before the invocation times out is not started: the account fails cleanly, its state
 * stays unsaved, and Lambda's retry or the next run sends what is missing.
 */
function writeSignal(deps: MonitorDeps): AbortSignal {
  const left = deps.remainingTimeMs() - WRITE_MIN_TIME_MS;
  if (left < WRITE_MIN_TIME_MS) {
    throw new Error('the invocation is about to time out: left for the next attempt');
  }
  return AbortSignal.timeout(Math.floor(Math.min(AWS_CALL_TIMEOUT_MS, left)));
}

interface SavedStateTopUp {
  readonly state: TopUpState | undefined;
  readonly notifications: readonly TopUpNotification[];
  readonly status: string;
}

/**
 * Auto top-up on the top-up part saved with the alert state, until the account record store
 * is wired in: the record lives in memory for the run, and what it ends with is saved (and
 * its outbox published) the way the rest of the state is.
 */
async function topUpOnSavedState(
  saved: TopUpState | undefined,
  input: Omit<TopUpRunInput, 'toNotification'>,
): Promise<SavedStateTopUp> {
  const store = new MemoryStore<AccountRecord>();
  const key = accountKey(input.account);
  store.put(key, { outbox: [], ...(saved !== undefined && { topUp: saved }) });
  const toNotification = (t: TopUpNotification): Notification =>
    topUpNotification(t, {
      level: 'ok',
      reason: 'balance',
      thresholds: { thresholdCents: 0, recoveryMarginCents: 0 },
      thresholdParameterName: '',
    });
  const { record, status } = await runTopUp(
    { ...input, toNotification },
    { store, key, start: await store.read(key) },
  );
  const notifications = claimedBy(record.value?.outbox ?? [], input.runId).map(
    ({ notification: n }) =>
      ({ ...n.topUp, kind: n.kind, account: n.account, at: n.at }) as TopUpNotification,
  );
  return { state: record.value?.topUp, notifications, status };
}

/** A top-up event as a notification of the account, at the level this run decided. */
function topUpNotification(
  t: TopUpNotification,
  context: Pick<
    Notification,
    'level' | 'reason' | 'thresholds' | 'thresholdParameterName' | 'balanceCents'
  >,
): Notification {
  const { kind, account, at, ...topUp } = t;
  return {
    ...context,
    kind,
    account,
    at,
    balanceCents: t.balanceCents ?? context.balanceCents,
    configProblems: [],
    topUp,
  };
}
