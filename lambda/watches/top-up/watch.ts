/**
 * Auto top-up as a watch. Its effect is the purchase loop (run.ts); the decision adds what
 * auto top-up is doing to every balance notification of the run.
 */
import type { Notification } from '../../common/types.ts';
import { type Step, type WatchInput, watch } from '../watch.ts';
import type { TopUpNotification, TopUpState } from './decide.ts';
import { runTopUp } from './run.ts';
import { topUpSettingsFor } from './settings.ts';

/** Longest auto top-up may take (ledger, purchase and following it), retries included. */
export const TOP_UP_BUDGET_MS = 20_000;

export interface TopUpEffect {
  readonly status: string;
  readonly state: TopUpState;
  readonly notifications: readonly TopUpNotification[];
  /** The top-up state the effect started from. */
  readonly from?: TopUpState;
}

export const topUpWatch = watch<TopUpEffect | undefined>({
  name: 'top-up',
  async effect(input, _previous, context) {
    const settings = topUpSettingsFor(input.account, input.thresholds.thresholdCents);
    const { observation } = input.observed;
    // Auto top-up acts only on a successful read.
    if (!settings || !observation.ok || input.apiKey === undefined) return undefined;
    const from = context.latest().value?.topUp;
    const result = await runTopUp({
      account: input.account.name,
      settings,
      balanceCents: observation.balanceCents,
      apiKey: input.apiKey,
      state: from,
      now: input.now,
      deadline: Math.min(context.clock() + TOP_UP_BUDGET_MS, context.runDeadline),
      ngrok: context.ngrok,
    });
    return result && { ...result, ...(from && { from }) };
  },
  decide(input, step, effect) {
    const settings = topUpSettingsFor(input.account, input.thresholds.thresholdCents);
    if (!settings) return step;
    const topUpStatus = effect?.status ?? 'auto top-up: not buying, the balance could not be read';
    const withStatus = step.notifications.map((n) =>
      n.kind.startsWith('balance-') ? { ...n, topUpStatus } : n,
    );
    // A racing run committed first and changed the top-up state this effect started from: it
    // acted on the same state and ledger (a purchase's key derives from that state, so ngrok
    // replayed any purchase to both runs), and its notices are in the record already.
    if (effect && JSON.stringify(step.record.topUp) !== JSON.stringify(effect.from)) {
      return { ...step, notifications: withStatus };
    }
    return {
      ...step,
      record: effect ? { ...step.record, topUp: effect.state } : step.record,
      notifications: [
        ...withStatus,
        ...(effect?.notifications ?? []).map((t) => topUpNotification(t, input, step)),
      ],
    };
  },
});

/** A top-up event as a notification of the account, at the level this run decided. */
function topUpNotification(t: TopUpNotification, input: WatchInput, step: Step): Notification {
  const { kind, account, at, ...topUp } = t;
  const { observation } = input.observed;
  return {
    kind,
    account,
    at,
    level: step.state.level,
    reason: step.state.reason,
    thresholds: input.thresholds,
    thresholdParameterName: input.account.thresholdParameterName,
    balanceCents: t.balanceCents ?? (observation.ok ? observation.balanceCents : undefined),
    configProblems: [],
    topUp,
  };
}
