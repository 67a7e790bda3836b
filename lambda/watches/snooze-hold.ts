/**
 * The snooze as a step of the run: after every other watch has spoken, it holds what only
 * repeats known news and owes one reminder when it ends (snooze.ts, SNOOZE_RULES).
 */
import { policyInput } from './balance.ts';
import { applySnooze } from './snooze.ts';
import { watch } from './watch.ts';

export const snoozeWatch = watch<undefined>({
  name: 'snooze',
  decide(input, step) {
    const snoozed = applySnooze(policyInput(input, step), step);
    return {
      ...step,
      state: snoozed.state,
      notifications: snoozed.notifications,
      held: [...step.held, ...snoozed.held],
    };
  },
});
