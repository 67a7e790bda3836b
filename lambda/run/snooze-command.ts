/**
 * The snooze command: `aws lambda invoke --payload '{"snooze": {...}}'`. Validates the
 * payload, applies it to each target account's saved state with a conditional write (with its
 * confirmation in the outbox), then publishes the confirmation. A refused payload is returned, not thrown: it is the
 * caller's mistake, not a failure of the function (no error alarm), and nothing changed.
 */
import { randomUUID } from 'node:crypto';
import type { AccountConfig, MonitorConfig, Notification } from '../common/types.ts';
import { readParameters, resolveThresholds } from '../config/settings.ts';
import { accountKey, readAccountRecord } from '../store/account-record.ts';
import { enqueue } from '../store/outbox.ts';
import type { AlertState } from '../store/state.ts';
import { update } from '../store/store.ts';
import {
  ALL_ACCOUNTS,
  applySnoozeCommand,
  parseSnoozeRequest,
  type SnoozeConfirmation,
  SnoozeRequestError,
} from '../watches/snooze.ts';
import type { MonitorDeps } from './monitor.ts';
import { flushOutbox, snsPublisher } from './publish.ts';

/** What the snooze command uses: the run's clients, store and clock. */
export type SnoozeCommandDeps = Pick<
  MonitorDeps,
  'ssm' | 'sns' | 'topicArn' | 'store' | 'log' | 'now' | 'region' | 'functionName' | 'runId'
>;

/** What the invocation returns: per account, what the command did; or why it was refused. */
export type SnoozeCommandResult =
  | {
      readonly snooze: 'done';
      readonly accounts: readonly {
        readonly account: string;
        /** `unchanged`: the same snooze was already set, or there was none to end. */
        readonly result: 'snoozed' | 'ended' | 'unchanged';
        readonly until?: string;
      }[];
    }
  | { readonly snooze: 'refused'; readonly field: string; readonly error: string };

/** Runs one snooze command. Throws only when AWS fails (the caller may retry the command). */
export async function runSnoozeCommand(
  payload: unknown,
  config: MonitorConfig,
  deps: SnoozeCommandDeps,
): Promise<SnoozeCommandResult> {
  const now = deps.now();
  let request: ReturnType<typeof parseSnoozeRequest>;
  try {
    request = parseSnoozeRequest(
      payload,
      config.accounts.map((a) => a.name),
      now,
    );
  } catch (error) {
    if (!(error instanceof SnoozeRequestError)) throw error;
    deps.log.log('WARN', 'snooze command refused', { field: error.field, problem: error.message });
    return { snooze: 'refused', field: error.field, error: error.message };
  }
  const targets = config.accounts.filter(
    (a) => request.account === ALL_ACCOUNTS || a.name === request.account,
  );
  const parameters = await readParameters(deps.ssm, targets.flatMap(namesOf));
  const failed = [...parameters.failed.values()][0];
  if (failed) throw failed;
  const runId = deps.runId ?? randomUUID();
  const publish = snsPublisher(deps);

  const accounts = [];
  for (const account of targets) {
    const { thresholds } = resolveThresholds(account, config, parameters.values);
    const key = accountKey(account.name);
    let confirmation: SnoozeConfirmation | undefined;
    // The same path as a run: a conditional write, re-applied to whatever a racing run left.
    const committed = await update(deps.store, key, (current) => {
      const record = readAccountRecord(current.value, now).record;
      const applied = applySnoozeCommand(
        record.alert as AlertState | undefined,
        request,
        account.name,
        now,
      );
      confirmation = applied.confirmation;
      if (!confirmation) return undefined;
      return {
        ...record,
        alert: applied.state,
        outbox: enqueue(record.outbox, [confirmationNotice(account, thresholds, confirmation)], {
          by: runId,
          now,
        }),
      };
    });
    if (!confirmation) {
      accounts.push({ account: account.name, result: 'unchanged' as const });
      continue;
    }
    const flushed = await flushOutbox(
      deps.store,
      key,
      committed,
      runId,
      publish,
      (value) => readAccountRecord(value).record,
    );
    // The snooze is saved; its confirmation goes out with the next scheduled run.
    if (flushed.error !== undefined) throw flushed.error;
    deps.log.log('INFO', 'snooze command applied', {
      account: account.name,
      kind: confirmation.kind,
      until: confirmation.until,
    });
    accounts.push({
      account: account.name,
      result: confirmation.kind === 'snooze-set' ? ('snoozed' as const) : ('ended' as const),
      until: confirmation.until,
    });
  }
  return { snooze: 'done', accounts };
}

/** The thresholds only: a snooze command never reads the API key. */
function namesOf(account: AccountConfig): string[] {
  return [
    account.thresholdParameterName,
    ...(account.criticalThresholdParameterName ? [account.criticalThresholdParameterName] : []),
  ];
}

function confirmationNotice(
  account: AccountConfig,
  thresholds: Notification['thresholds'],
  confirmation: SnoozeConfirmation,
): Notification {
  return {
    kind: confirmation.kind,
    account: confirmation.account,
    level: confirmation.level,
    reason: 'balance',
    thresholds,
    thresholdParameterName: account.thresholdParameterName,
    configProblems: [],
    snooze: {
      until: confirmation.until,
      ...(confirmation.note !== undefined && { note: confirmation.note }),
    },
    at: confirmation.at,
  };
}
