/**
 * The pay-link watch: balance, runway and spike alerts and reminders carry "Buy $X now", a
 * checkout page where a person pays, when auto top-up will not buy (pay-link-policy.ts says
 * when, what amount, and for how long a page is reused).
 *
 * Its effect makes the page, and only when an alert that needs one is about to be sent: it
 * runs the earlier watches' decisions (and the snooze) on the loaded state to find out, as
 * the spike watch does for its own. The call has a 2 s budget and its failure is logged, not
 * thrown: the alert then goes out on time without a link, and shows the credits page as before.
 */
import { errorFields } from '../common/log.ts';
import type { Notification } from '../common/types.ts';
import { CHECKOUT_BUDGET_MS, createCheckoutSession } from '../ngrok/checkout.ts';
import type { AlertState } from '../store/state.ts';
import { balanceWatch } from './balance.ts';
import {
  autoTopUpWillNotBuy,
  nextCheckoutState,
  PAY_LINK_KINDS,
  payLinkOf,
  type SavedLink,
  savedLink,
  suggestedCheckoutCents,
  usableLink,
} from './pay-link-policy.ts';
import { snoozeWatch } from './snooze-hold.ts';
import { spikeWatch } from './spike.ts';
import { topUpSettingsFor } from './top-up/settings.ts';
import { topUpWatch } from './top-up/watch.ts';
import {
  type AnyWatch,
  type EffectContext,
  firstStep,
  type Step,
  type WatchInput,
  watch,
} from './watch.ts';

/** What the effect did: made a page, or tried and failed (the alert goes without one). */
export type PayLinkEffect = { readonly made: SavedLink } | { readonly failed: string } | undefined;

/** The watches before this one whose notifications may need a link, in the list's order. */
const BEFORE: readonly AnyWatch[] = [balanceWatch, topUpWatch, spikeWatch];

export const payLinkWatch = watch<PayLinkEffect>({
  name: 'pay-link',
  async effect(input, previous, context) {
    const { observation } = input.observed;
    if (!observation.ok || input.apiKey === undefined) return undefined;
    const step = preDecide(input, previous, context);
    if (!carriesLink(input, step)) return undefined;
    if (usableLink(previous?.checkout, input.now)) return undefined;
    const amountCents = amountFor(input);
    try {
      const session = await createCheckoutSession(
        input.apiKey,
        { amountCents },
        { deadline: Math.min(context.clock() + CHECKOUT_BUDGET_MS, context.runDeadline) },
        context.ngrok,
      );
      return { made: savedLink(session.sessionUrl, amountCents, input.now) };
    } catch (error) {
      context.log.log('WARN', 'checkout link unavailable; the alert links the credits page', {
        account: input.account.name,
        ...errorFields(error),
      });
      return { failed: error instanceof Error ? error.message : String(error) };
    }
  },
  decide(input, step, effect) {
    const { observation } = input.observed;
    // A failed check changes nothing: the episode goes on until a reading says otherwise.
    if (!observation.ok) return step;
    const active = step.state.level !== 'ok' || step.state.spike !== undefined;
    const made = effect && 'made' in effect ? effect.made : undefined;
    const checkout = nextCheckoutState(step.state.checkout, active, made, input.now);
    const { checkout: _previous, ...rest } = step.state;
    const state: AlertState = checkout ? { ...rest, checkout } : rest;
    const link = carriesLink(input, step) ? usableLink(checkout, input.now) : undefined;
    return {
      ...step,
      state,
      notifications: link
        ? step.notifications.map((n) => (needsLink(n) ? { ...n, payLink: payLinkOf(link) } : n))
        : step.notifications,
    };
  },
});

/** Whether this run sends an alert that should carry a link. */
function carriesLink(input: WatchInput, step: Step): boolean {
  const settings = topUpSettingsFor(input.account, input.thresholds.thresholdCents);
  return (
    step.notifications.some(needsLink) &&
    autoTopUpWillNotBuy(settings, step.record.topUp, input.now)
  );
}

function needsLink(n: Notification): boolean {
  return PAY_LINK_KINDS.includes(n.kind);
}

/** The amount a new page asks for (see suggestedCheckoutCents). */
export function amountFor(input: WatchInput): number {
  const { observation, recentRate } = input.observed;
  return suggestedCheckoutCents(
    {
      ...(recentRate?.known && { recentCentsPerHour: recentRate.centsPerHour }),
      ...(observation.ok &&
        observation.forecast && { dailySpendCents: observation.forecast.dailySpendCents }),
      thresholdCents: input.thresholds.thresholdCents,
    },
    input.account.checkoutAmountCents,
  );
}

/**
 * What the run will send, decided ahead from the loaded state and the earlier effects'
 * results: the watches before this one, then the snooze (a held reminder needs no page).
 */
function preDecide(
  input: WatchInput,
  previous: AlertState | undefined,
  context: EffectContext,
): Step {
  let step = firstStep(input.now, {
    ...(context.latest().value ?? { outbox: [] }),
    alert: previous,
  });
  for (const w of BEFORE) step = w.decide(input, step, context.earlier(w));
  return snoozeWatch.decide(input, step, undefined);
}
