/**
 * The state-repair watch: when parts of the saved record failed their checks (someone wrote
 * the table by hand, or a bug did), they were dropped and treated as lost; this says so once,
 * as a configuration problem. The run checks and alerts as usual.
 */
import { watch } from './watch.ts';

export const stateRepairWatch = watch<undefined>({
  name: 'state-repair',
  decide(input, step) {
    if (input.stateProblems.length === 0) return step;
    return {
      ...step,
      notifications: [
        ...step.notifications,
        {
          kind: 'config-problem',
          account: input.account.name,
          level: step.state.level,
          reason: step.state.reason,
          thresholds: input.thresholds,
          thresholdParameterName: input.account.thresholdParameterName,
          configProblems: [
            {
              parameterName: 'the saved state (DynamoDB table)',
              message:
                `The saved state of this account was repaired: ${input.stateProblems.join('; ')}. ` +
                'Those parts were treated as lost (the careful path); nothing needs doing unless ' +
                'someone edited the table by hand.',
            },
          ],
          at: input.now.toISOString(),
        },
      ],
    };
  },
});
