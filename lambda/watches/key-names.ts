/**
 * The key-names watch: every access key a message names is shown by its name. Its effect
 * reads the names when the cache (access-key-names.ts) says they are due; best effort: a
 * failed read is logged, and the keys are shown by id.
 */
import { errorFields } from '../common/log.ts';
import type { Forecast, Notification } from '../common/types.ts';
import { fetchAccessKeyNames } from '../ngrok/access-keys.ts';
import {
  type KeyNameCache,
  keyName,
  shouldFetchKeyNames,
  updateKeyNameCache,
} from './access-key-names.ts';
import { spikeWatch } from './spike.ts';
import { watch } from './watch.ts';

/**
 * Reading the names gets this long of its own, once a day at most: the names are a nicety,
 * and a slow read must not hold up an alert for longer than this.
 */
export const KEY_NAMES_BUDGET_MS = 2_000;

/** The names read this run, the ids wanted, or `failed`. */
export interface KeyNamesEffect {
  readonly wanted: readonly string[];
  readonly fetched: ReadonlyMap<string, string> | undefined;
}

export const keyNamesWatch = watch<KeyNamesEffect | undefined>({
  name: 'key-names',
  async effect(input, previous, context) {
    const { observation } = input.observed;
    if (!observation.ok || input.apiKey === undefined) return undefined;
    const wanted = [
      ...new Set([
        ...(observation.forecast?.topSpenders ?? []).map((s) => s.accessKey),
        ...(context.earlier(spikeWatch)?.drivers.drivers ?? []).map((d) => d.accessKey),
      ]),
    ];
    if (!shouldFetchKeyNames(previous?.keyNames, wanted, input.now)) return undefined;
    const fetched = await fetchAccessKeyNames(
      input.apiKey,
      { deadline: Math.min(context.clock() + KEY_NAMES_BUDGET_MS, context.runDeadline) },
      { ...context.ngrok, maxAttempts: 1 },
    ).catch((error: unknown) => {
      context.log.log('WARN', 'access key names unavailable; keys are shown by id', {
        account: input.account.name,
        ...errorFields(error),
      });
      return undefined;
    });
    return { wanted, fetched };
  },
  decide(input, step, effect) {
    const keyNames = effect
      ? updateKeyNameCache(step.state.keyNames, effect.fetched, effect.wanted, input.now)
      : step.state.keyNames;
    return {
      ...step,
      state: { ...step.state, keyNames },
      notifications: step.notifications.map((n) => withKeyNames(n, keyNames)),
    };
  },
});

/** The notification with every access key it names given its cached display name. */
function withKeyNames(n: Notification, cache: KeyNameCache | undefined): Notification {
  if (cache === undefined) return n;
  return {
    ...n,
    ...(n.forecast && { forecast: withSpenderNames(n.forecast, cache) }),
    ...(n.spike && { spike: { ...n.spike, drivers: n.spike.drivers.map(named(cache)) } }),
  };
}

/** The forecast with its top spenders given their cached display names. */
export function withSpenderNames(forecast: Forecast, cache: KeyNameCache): Forecast {
  return { ...forecast, topSpenders: forecast.topSpenders.map(named(cache)) };
}

function named(cache: KeyNameCache) {
  return <T extends { accessKey: string }>(item: T): T => {
    const name = keyName(cache, item.accessKey);
    return name === item.accessKey ? item : { ...item, name };
  };
}
