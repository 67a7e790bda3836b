/**
 * The snooze command: `aws lambda invoke --payload '{"snooze": {...}}'`. Validates the
 * payload, applies it to each target account's saved state, publishes one confirmation per
 * account that changed and saves. A refused payload is returned, not thrown: it is the
 * caller's mistake, not a failure of the function (no error alarm), and nothing changed.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '../common/log.ts';
import type { AccountConfig, MonitorConfig, Notification } from '../common/types.ts';
import { readParameters, resolveThresholds } from '../config/settings.ts';
import { renderNotification } from '../notify/render.ts';
import { toSnsPublish } from '../notify/sns.ts';
import { parseState, serializeState } from '../store/state.ts';
import {
  ALL_ACCOUNTS,
  applySnoozeCommand,
  parseSnoozeRequest,
  type SnoozeConfirmation,
  SnoozeRequestError,
} from '../watches/snooze.ts';

export interface SnoozeCommandDeps {
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
  readonly topicArn: string;
  readonly log: Logger;
  readonly now: () => Date;
  readonly region?: string;
  readonly functionName?: string;
}

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

  const accounts = [];
  for (const account of targets) {
    const previous = parseState(parameters.values.get(account.stateParameterName)).state;
    const { state, confirmation } = applySnoozeCommand(previous, request, account.name, now);
    if (!confirmation) {
      accounts.push({ account: account.name, result: 'unchanged' as const });
      continue;
    }
    const { thresholds } = resolveThresholds(account, config, parameters.values);
    await publishConfirmation(deps, account, thresholds, confirmation);
    await deps.ssm.send(
      new PutParameterCommand({
        Name: account.stateParameterName,
        Value: serializeState(state),
        Type: 'String',
        Overwrite: true,
      }),
    );
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

/** The state and thresholds only: a snooze command never reads the API key. */
function namesOf(account: AccountConfig): string[] {
  return [
    account.stateParameterName,
    account.thresholdParameterName,
    ...(account.criticalThresholdParameterName ? [account.criticalThresholdParameterName] : []),
  ];
}

async function publishConfirmation(
  deps: SnoozeCommandDeps,
  account: AccountConfig,
  thresholds: Notification['thresholds'],
  confirmation: SnoozeConfirmation,
): Promise<void> {
  const notification: Notification = {
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
  const rendered = renderNotification(notification, {
    ...(deps.region !== undefined && { region: deps.region }),
    ...(deps.functionName !== undefined && { functionName: deps.functionName }),
  });
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      ...toSnsPublish(rendered, notification.account),
    }),
  );
}
