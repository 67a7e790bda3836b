/**
 * Auto top-up as a watch. Its one effect is the purchase loop (run.ts), which commits every
 * decision (purchase intents, and the notices that go with them) to the account's record
 * with its own conditional writes before it calls ngrok; the run's commit then starts from
 * the record those writes left. The decision adds what auto top-up is doing to every balance
 * notification of the run.
 */
import type { Notification, NotificationKind } from '../../common/types.ts';
import { claimedBy } from '../../store/outbox.ts';
import { decide } from '../alert-policy.ts';
import { policyInput } from '../balance.ts';
import { freshState, type WatchInput, watch } from '../watch.ts';
import { TOP_UP_NOTIFICATION_KINDS, type TopUpNotification } from './decide.ts';
import { runTopUp } from './run.ts';
import { topUpSettingsFor } from './settings.ts';

/** Longest auto top-up may take (ledger, purchase and following it), retries included. */
export const TOP_UP_BUDGET_MS = 20_000;

export interface TopUpEffect {
  readonly status: string;
  /** The top-up kinds this run committed to the outbox (the week's tally counts them). */
  readonly announced: readonly NotificationKind[];
}

const TOP_UP_KINDS: ReadonlySet<string> = new Set(TOP_UP_NOTIFICATION_KINDS);

export const topUpWatch = watch<TopUpEffect | undefined>({
  name: 'top-up',
  async effect(input, previous, context) {
    const settings = topUpSettingsFor(input.account, input.thresholds.thresholdCents);
    const { observation } = input.observed;
    // Auto top-up acts only on a successful read.
    if (!settings || !observation.ok || input.apiKey === undefined) return undefined;
    // Its notices show the level this run's balance decision will reach (a pure pre-decision).
    const { state } = decide(
      policyInput(input, { previous, state: previous ?? freshState(input.now) }),
    );
    const { record, status } = await runTopUp(
      {
        account: input.account.name,
        settings,
        balanceCents: observation.balanceCents,
        apiKey: input.apiKey,
        now: input.now,
        deadline: Math.min(context.clock() + TOP_UP_BUDGET_MS, context.runDeadline),
        ...(context.ngrok && { ngrok: context.ngrok }),
        runId: context.runId,
        toNotification: (t) => topUpNotification(t, input, state),
        ...(input.buyNow && { requested: true }),
      },
      { store: context.store, key: context.key, start: context.latest() },
    );
    context.wrote(record);
    const announced = claimedBy(record.value?.outbox ?? [], context.runId)
      .map((e) => e.notification.kind)
      .filter((kind) => TOP_UP_KINDS.has(kind));
    return { status, announced };
  },
  decide(input, step, effect) {
    const settings = topUpSettingsFor(input.account, input.thresholds.thresholdCents);
    if (!settings) return step;
    const topUpStatus = effect?.status ?? 'auto top-up: not buying, the balance could not be read';
    return {
      ...step,
      notifications: step.notifications.map((n) =>
        n.kind.startsWith('balance-') ? { ...n, topUpStatus } : n,
      ),
      announced: [...step.announced, ...(effect?.announced ?? [])],
    };
  },
});

/** A top-up event as a notification of the account, at the level this run decides. */
function topUpNotification(
  t: TopUpNotification,
  input: WatchInput,
  level: Pick<Notification, 'level' | 'reason'>,
): Notification {
  const { kind, account, at, ...topUp } = t;
  const { observation } = input.observed;
  return {
    kind,
    account,
    at,
    level: level.level,
    reason: level.reason,
    thresholds: input.thresholds,
    thresholdParameterName: input.account.thresholdParameterName,
    balanceCents: t.balanceCents ?? (observation.ok ? observation.balanceCents : undefined),
    configProblems: [],
    topUp,
  };
}
