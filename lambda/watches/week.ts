/**
 * The digest's part of an account's run: adds the run to the week's totals (digest.ts) and
 * keeps the week just closed for the digest. Last in the list: it counts what goes out.
 */
import { advanceWeek } from './digest.ts';
import { watch } from './watch.ts';

export const weekWatch = watch<undefined>({
  name: 'week',
  decide(input, step) {
    const { observation } = input.observed;
    const sent = [...step.notifications.map((n) => n.kind), ...step.announced];
    const week = advanceWeek(
      step.state.week,
      {
        balanceCents: observation.ok ? observation.balanceCents : undefined,
        sent,
        topUps: sent.filter((kind) => kind === 'top-up-succeeded').length,
      },
      input.config,
      input.now,
    );
    return {
      ...step,
      state: {
        ...step.state,
        week: week.record,
        ...(week.closed && { closedWeek: week.closed }),
      },
    };
  },
});
