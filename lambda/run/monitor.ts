/**
 * One scheduled run over every account. The loop only loads, runs the watches, commits and
 * publishes (see watches/watch.ts for what a watch is, watches/index.ts for the list):
 *
 *   settings (one SSM call) → per account, all at once:
 *     read the record → observe → effects → decisions → commit → publish → mark sent
 *   → the weekly digest, a record of its own
 *
 * Clients, fetch and the clock come in as arguments; the handler wires the real ones.
 */
import { randomUUID } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { createLimiter, mapWithConcurrency } from '../common/concurrency.ts';
import { errorFields, type Logger } from '../common/log.ts';
import type { AccountConfig, MonitorConfig, Notification, Observation } from '../common/types.ts';
import {
  missingKeyMessage,
  type ParameterValues,
  parameterNamesFor,
  readParameters,
  resolveThresholds,
} from '../config/settings.ts';
import type { NgrokClientOptions } from '../ngrok/ngrok-client.ts';
import { type ObserveResult, observeAccount } from '../observe/observe.ts';
import {
  type AccountRecord,
  accountKey,
  accountStore,
  readAccountRecord,
} from '../store/account-record.ts';
import { claimUnsent, enqueue } from '../store/outbox.ts';
import { type AlertState, stateChanged } from '../store/state.ts';
import { type RecordStore, update, type Versioned } from '../store/store.ts';
import type { CheckStatus } from '../watches/alert-policy.ts';
import { WATCHES } from '../watches/index.ts';
import { type TopUpEffect, topUpWatch } from '../watches/top-up/watch.ts';
import {
  type AnyWatch,
  type EffectContext,
  firstStep,
  type Step,
  type WatchInput,
} from '../watches/watch.ts';
import { runDigest } from './digest.ts';
import { ACCOUNT_CHECKED_MESSAGE, accountValues, emfDocument } from './metrics.ts';
import { flushOutbox, type Publish, snsPublisher } from './publish.ts';

export interface MonitorDeps {
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
  readonly topicArn: string;
  /** The state store (DynamoDB in production); records are validated when read. */
  readonly store: RecordStore<unknown>;
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
  /** This run's id, which claims the notifications it publishes (default: a random UUID). */
  readonly runId?: string;
  /** The list of watches (default: watches/index.ts); tests add one to prove the seam. */
  readonly watches?: readonly AnyWatch[];
}

export interface RunRequest {
  /** The scheduled event's id, for deduplicating redeliveries. */
  readonly eventId?: string;
  /** Send a marked test notification per account and touch no state. */
  readonly test?: boolean;
  /**
   * Check this account only (the "check" command): a normal run of its watches; the other
   * accounts and the weekly digest wait for the schedule.
   */
  readonly only?: string;
  /** With `only`: a person asked for one purchase now (the "Buy now" command). */
  readonly buyNow?: boolean;
}

export interface AccountResult {
  readonly account: string;
  readonly status: CheckStatus | 'test' | 'error';
  readonly balanceCents?: number;
  /** The kinds this run published for the account, in order. */
  readonly notifications: readonly string[];
  /** What auto top-up did or why it did not buy, when it is configured and ran. */
  readonly autoTopUp?: string;
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
/** Publishes in flight at once. */
export const PUBLISH_CONCURRENCY = 10;
/** Any single SNS call, retries included, gives up after this long. */
export const AWS_CALL_TIMEOUT_MS = 10_000;
/** No write starts with less time than this left in the invocation. */
const WRITE_MIN_TIME_MS = 2_000;
/** Time kept back at the end of the invocation to commit and publish. */
export const FINISH_RESERVE_MS = 8_000;

interface RunContext extends RunRequest {
  readonly now: Date;
  readonly runId: string;
  readonly runDeadline: number;
  readonly publish: Publish;
  readonly watches: readonly AnyWatch[];
}

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
  const now = deps.now();
  // Deadlines are on the HTTP client's clock; `now` is the decision clock (tests move it).
  const runDeadline = clock(deps)() + deps.remainingTimeMs() - FINISH_RESERVE_MS;
  const accounts =
    request.only === undefined
      ? config.accounts
      : config.accounts.filter((a) => a.name === request.only);
  const parameters = await readParameters(deps.ssm, parameterNamesFor(accounts), {
    // Settings reads may use a third of the invocation; the checks need the rest.
    budgetMs: Math.min(30_000, deps.remainingTimeMs() / 3),
  });
  const limit = createLimiter(PUBLISH_CONCURRENCY);
  const toSns = snsPublisher({ ...deps, signal: () => writeSignal(deps) });
  const run: RunContext = {
    ...request,
    now,
    runId: deps.runId ?? randomUUID(),
    runDeadline,
    publish: (notification) => limit(() => toSns(notification)),
    watches: deps.watches ?? WATCHES,
  };

  const outcomes = await mapWithConcurrency(accounts, ACCOUNT_CONCURRENCY, (account) =>
    runAccount(account, config, deps, parameters, run).catch((error: unknown): AccountOutcome => {
      deps.log.log('ERROR', 'account run failed', {
        account: account.name,
        ...errorFields(error),
      });
      return {
        result: {
          account: account.name,
          status: 'error',
          notifications: [],
          error: error instanceof Error ? error.message : String(error),
        },
      };
    }),
  );
  const digest =
    request.test || request.only !== undefined
      ? false
      : await runDigest(config, deps, {
          now,
          runId: run.runId,
          publish: run.publish,
          parameters: parameters.values,
          accounts: outcomes.flatMap((o, i) =>
            o.state
              ? [
                  {
                    account: accounts[i] as AccountConfig,
                    state: o.state,
                    ...(o.observation?.ok && { observation: o.observation }),
                  },
                ]
              : [],
          ),
        });
  const results = outcomes.map((o) => o.result);
  const failures = results.filter((r) => r.status === 'error');
  if (failures.length > 0) throw new MonitorRunError(failures);
  return { accounts: results, ssmReadCalls: parameters.calls, digest };
}

interface AccountOutcome {
  readonly result: AccountResult;
  /** The account's state as committed by this run, and its reading (the digest shows both). */
  readonly state?: AlertState;
  readonly observation?: Observation;
}

async function runAccount(
  account: AccountConfig,
  config: MonitorConfig,
  deps: MonitorDeps,
  parameters: ParameterValues,
  run: RunContext,
): Promise<AccountOutcome> {
  const { log } = deps;
  const resolved = resolveThresholds(account, config, parameters.values);
  const { thresholds } = resolved;
  // A parameter SSM failed to read is not a bad value: that is reported as a failed check.
  const configProblems = resolved.problems.filter((p) => !parameters.failed.has(p.parameterName));
  for (const problem of configProblems) {
    log.log('WARN', 'runtime setting ignored', {
      account: account.name,
      parameterName: problem.parameterName,
      problem: problem.message,
    });
  }
  if (run.test) {
    await run.publish({
      kind: 'test',
      account: account.name,
      level: 'ok',
      reason: 'balance',
      thresholds,
      thresholdParameterName: account.thresholdParameterName,
      tokenParameterName: account.tokenParameterName,
      configProblems,
      at: run.now.toISOString(),
    });
    return { result: { account: account.name, status: 'test', notifications: ['test'] } };
  }

  // Load.
  const key = accountKey(account.name);
  const loaded = await deps.store.read(key);
  const { record, problems } = readAccountRecord(loaded.value, run.now);
  if (problems.length > 0) {
    log.log('WARN', 'saved state partly unreadable; those parts are treated as lost', {
      account: account.name,
      problems,
    });
  }
  const previous = record.alert as AlertState | undefined;
  const redelivered = (state: AlertState | undefined) =>
    run.eventId !== undefined && state?.lastEventId === run.eventId;

  // Observe.
  const apiKey = parameters.values.get(account.tokenParameterName);
  const input: WatchInput = {
    account,
    config,
    now: run.now,
    eventId: run.eventId,
    thresholds,
    configProblems,
    observed: await observe(account, config, deps, parameters, run, previous, apiKey),
    ...(apiKey !== undefined && { apiKey }),
    stateProblems: problems,
    ...(run.buyNow && { buyNow: true }),
  };
  const { observation } = input.observed;
  if (input.observed.usageProblem) {
    log.log('WARN', 'usage overview unavailable', {
      account: account.name,
      problem: input.observed.usageProblem,
    });
  }

  // Effects, in the list's order; a redelivered event does nothing new.
  let latest: Versioned<unknown> = loaded;
  const effects = new Map<AnyWatch, unknown>();
  let effectError: unknown;
  if (!redelivered(previous)) {
    const context: EffectContext = {
      ...(deps.ngrok && { ngrok: deps.ngrok }),
      runDeadline: run.runDeadline,
      clock: clock(deps),
      log,
      runId: run.runId,
      store: accountStore(deps.store, run.now),
      key,
      latest: () => ({ version: latest.version, value: readAccountRecord(latest.value).record }),
      wrote: (written) => {
        latest = written;
      },
      earlier: (w) => effects.get(w as AnyWatch) as never,
    };
    for (const w of run.watches) {
      if (!w.effect) continue;
      try {
        effects.set(w, await w.effect(input, previous, context));
      } catch (error) {
        // One capability's failure never holds back another's alert: its decision runs
        // without the effect's result, and the run fails once everything is published.
        effectError ??= error;
        log.log('ERROR', 'watch effect failed', {
          account: account.name,
          watch: w.name,
          ...errorFields(error),
        });
      }
    }
  }

  // Decide and commit: on a lost race, every decision runs again on what the other writer left.
  let step: Step | undefined;
  const claim = { by: run.runId, now: run.now };
  const committed = await update(
    deps.store,
    key,
    (current) => {
      const fresh = current === loaded ? record : readAccountRecord(current.value, run.now).record;
      const state = fresh.alert as AlertState | undefined;
      step = redelivered(state) ? undefined : decideAll(run.watches, input, fresh, effects);
      const outbox = claimUnsent(enqueue(fresh.outbox, step?.notifications ?? [], claim), claim);
      const next: AccountRecord = step
        ? {
            ...fresh,
            alert: step.state,
            ...(step.record.topUp && { topUp: step.record.topUp }),
            outbox,
          }
        : { ...fresh, outbox };
      return sameRecord(fresh, next) ? undefined : next;
    },
    latest,
  );

  // Publish what this run holds, then mark it sent.
  const flushed = await flushOutbox(
    deps.store,
    key,
    committed,
    run.runId,
    run.publish,
    (value) => readAccountRecord(value).record,
  );
  const sent = flushed.sent.filter((n) => n.account === account.name).map((n) => n.kind);
  if (step && step.held.length > 0) {
    log.log('INFO', 'notifications held by a snooze', {
      account: account.name,
      held: step.held.map((n) => n.kind),
    });
  }
  const autoTopUp = (effects.get(topUpWatch) as TopUpEffect | undefined)?.status;
  logChecked(account, config, deps, run, {
    status: step?.status ?? 'duplicate',
    state: step?.state,
    observed: input.observed,
    thresholds,
    sent,
    autoTopUp,
  });
  if (flushed.error !== undefined) throw flushed.error;
  if (effectError !== undefined) throw effectError;
  const committedState = readAccountRecord(committed.value, run.now).record.alert as
    | AlertState
    | undefined;
  return {
    result: {
      account: account.name,
      status: step?.status ?? 'duplicate',
      balanceCents: observation.ok ? observation.balanceCents : undefined,
      notifications: sent,
      ...(autoTopUp !== undefined && { autoTopUp }),
    },
    ...(committedState && { state: committedState }),
    observation,
  };
}

/** Every watch's decision in order, from the record's state and this run's effect results. */
function decideAll(
  watches: readonly AnyWatch[],
  input: WatchInput,
  record: AccountRecord,
  effects: ReadonlyMap<AnyWatch, unknown>,
): Step {
  let step = firstStep(input.now, record);
  for (const w of watches) step = w.decide(input, step, effects.get(w));
  return step;
}

/** Whether a commit would change nothing worth a write (the event id alone is not). */
function sameRecord(before: AccountRecord, after: AccountRecord): boolean {
  if (JSON.stringify(before.outbox) !== JSON.stringify(after.outbox)) return false;
  if (JSON.stringify(before.topUp) !== JSON.stringify(after.topUp)) return false;
  if (after.alert === undefined) return before.alert === undefined;
  return !stateChanged(before.alert as AlertState | undefined, after.alert as AlertState);
}

/** The balance reading, or why there is none: a key or threshold SSM could not read fails the check. */
async function observe(
  account: AccountConfig,
  config: MonitorConfig,
  deps: MonitorDeps,
  parameters: ParameterValues,
  run: RunContext,
  previous: AlertState | undefined,
  apiKey: string | undefined,
): Promise<ObserveResult> {
  // Never a fallback to defaults: a throttled threshold read must not become a false recovery.
  const readError = [
    account.tokenParameterName,
    account.thresholdParameterName,
    account.criticalThresholdParameterName,
  ]
    .map((name) => (name === undefined ? undefined : parameters.failed.get(name)))
    .find((error) => error !== undefined);
  const failed = (kind: 'transient' | 'missing-key', message: string): ObserveResult => ({
    observation: { ok: false, failure: { kind, message } },
    usage: previous?.usage,
    recent: previous?.recent,
  });
  if (readError) return failed('transient', readError.message);
  if (apiKey === undefined) {
    return failed('missing-key', missingKeyMessage(account.tokenParameterName));
  }
  return observeAccount(apiKey, {
    now: run.now,
    deadline: run.runDeadline,
    forecastDays: config.forecastDays,
    usageRefreshHours: config.usageRefreshHours,
    ...(previous && { previous }),
    ...(deps.ngrok && { ngrok: deps.ngrok }),
  });
}

function logChecked(
  account: AccountConfig,
  config: MonitorConfig,
  deps: MonitorDeps,
  run: RunContext,
  c: {
    status: CheckStatus;
    state: AlertState | undefined;
    observed: ObserveResult;
    thresholds: Notification['thresholds'];
    sent: readonly string[];
    autoTopUp: string | undefined;
  },
): void {
  const { observation } = c.observed;
  const balanceCents = observation.ok ? observation.balanceCents : undefined;
  const measured = {
    account: account.name,
    checkSucceeded: observation.ok ? 1 : 0,
    balanceCents,
    forecast: observation.ok ? observation.forecast : undefined,
  } as const;
  if (config.metrics === 'per-account') {
    deps.log.raw(emfDocument(measured, config.deployment, run.now.getTime()));
  }
  const values = accountValues(measured);
  deps.log.log('INFO', ACCOUNT_CHECKED_MESSAGE, {
    account: account.name,
    status: c.status,
    alertLevel: c.state?.level,
    balanceCents,
    balanceDollars: values.BalanceDollars,
    dailySpendDollars: values.DailySpendDollars,
    thresholdCents: c.thresholds.thresholdCents,
    runwayDays: values.RunwayDays,
    runwayHours: observation.ok ? observation.runway?.hours : undefined,
    recentCentsPerHour: c.observed.recentRate?.known
      ? c.observed.recentRate.centsPerHour
      : undefined,
    spikeSince: c.state?.spike?.since,
    forecastNote: observation.ok ? observation.forecastNote : undefined,
    failure: observation.ok ? undefined : observation.failure,
    notifications: c.sent,
    ...(c.autoTopUp !== undefined && { autoTopUp: c.autoTopUp }),
  });
}

function clock(deps: MonitorDeps): () => number {
  return deps.ngrok?.now ?? Date.now;
}

/**
 * A timeout for one publish, taken when it leaves the queue. A publish that cannot finish
 * before the invocation times out is not started: its notification stays in the outbox and
 * the next run sends it.
 */
function writeSignal(deps: MonitorDeps): AbortSignal {
  const left = deps.remainingTimeMs() - WRITE_MIN_TIME_MS;
  if (left < WRITE_MIN_TIME_MS) {
    throw new Error('the invocation is about to time out: left for the next attempt');
  }
  return AbortSignal.timeout(Math.floor(Math.min(AWS_CALL_TIMEOUT_MS, left)));
}
