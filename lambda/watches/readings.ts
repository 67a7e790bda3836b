/**
 * The readings watch: keeps what the forecast and the recent rate are computed from (the
 * sampled balance history, the usage summary, the last few readings). No notifications.
 */
import { recordBalanceSample } from '../observe/forecast.ts';
import { watch } from './watch.ts';

export const readingsWatch = watch<undefined>({
  name: 'readings',
  decide(input, step) {
    const { observation, usage, recent } = input.observed;
    const history = observation.ok
      ? recordBalanceSample(
          step.state.history,
          observation.balanceCents,
          input.now,
          input.config.forecastDays,
        )
      : step.state.history;
    return { ...step, state: { ...step.state, history, usage, recent } };
  },
});
