/**
 * The balance watch: the alert policy (alert-policy.ts) as a step of the run. No effect of
 * its own: the balance reading is the run's observation.
 */
import type { AlertState } from '../store/state.ts';
import { decide, type PolicyInput } from './alert-policy.ts';
import type { Step, WatchInput } from './watch.ts';
import { watch } from './watch.ts';

/**
 * The alert policy's input for this run: the state so far (with the earlier watches' slices),
 * or none on a first run.
 */
export function policyInput(
  input: WatchInput,
  step: Pick<Step, 'previous' | 'state'>,
): PolicyInput {
  const { account, config } = input;
  return {
    account: account.name,
    thresholdParameterName: account.thresholdParameterName,
    tokenParameterName: account.tokenParameterName,
    observation: input.observed.observation,
    thresholds: input.thresholds,
    configProblems: input.configProblems,
    previous: step.previous === undefined ? undefined : step.state,
    now: input.now,
    eventId: input.eventId,
    settings: {
      renotifyMs: config.renotifyHours * 3_600_000,
      failureAlertAfter: config.failureAlertAfter,
      runwayAlertDays: config.runwayAlertDays,
    },
  };
}

/**
 * The parts of the state the alert policy decides. The policy starts from the state the run
 * started from, so the rest of what it returns is stale: the readings watch's new history,
 * usage and recent readings must not be overwritten with the saved ones.
 */
const POLICY_SLICE = [
  'level',
  'reason',
  'since',
  'lastNotifiedAt',
  'lastBalanceCents',
  'failures',
  'failureSince',
  'failureNotifiedAt',
  'failureKind',
  'reportedConfigProblems',
  'lastEventId',
] as const satisfies readonly (keyof AlertState)[];

export const balanceWatch = watch<undefined>({
  name: 'balance',
  decide(input, step) {
    const decision = decide(policyInput(input, step));
    const slice = Object.fromEntries(POLICY_SLICE.map((k) => [k, decision.state[k]]));
    return {
      ...step,
      state: { ...step.state, ...slice },
      notifications: [...step.notifications, ...decision.notifications],
      status: decision.status,
    };
  },
});
