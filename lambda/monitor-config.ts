/**
 * The deployment's monitor configuration as the function receives it: JSON written by the
 * stack at bundle time. Checked here too, because a function deployed from a hand-edited
 * template should fail with a message rather than alert on the wrong numbers.
 */
import type { MonitorConfig } from './types.ts';

export class MonitorConfigError extends Error {
  override readonly name = 'MonitorConfigError';
}

export function parseMonitorConfig(json: string | undefined): MonitorConfig {
  if (!json) {
    throw new MonitorConfigError(
      'MONITOR_CONFIG is missing: the function must be built by the stack (npx cdk deploy).',
    );
  }
  let config: MonitorConfig;
  try {
    config = JSON.parse(json) as MonitorConfig;
  } catch (cause) {
    throw new MonitorConfigError('MONITOR_CONFIG is not JSON: redeploy the stack.', { cause });
  }
  const atLeast = (n: unknown, min: number) =>
    typeof n === 'number' && Number.isFinite(n) && n >= min;
  const positive = (n: unknown) => atLeast(n, 0);
  const problems: string[] = [];
  if (!Array.isArray(config.accounts) || config.accounts.length === 0) problems.push('accounts');
  // The same minimums as at synth: a renotifyHours of 0, say, would remind on every run.
  const minimums = {
    renotifyHours: 1,
    failureAlertAfter: 1,
    forecastDays: 1,
    runwayAlertDays: 0,
    usageRefreshHours: 1,
  } as const;
  for (const [key, min] of Object.entries(minimums) as [keyof typeof minimums, number][]) {
    if (!atLeast(config[key], min)) problems.push(key);
  }
  for (const account of config.accounts ?? []) {
    if (
      typeof account.name !== 'string' ||
      typeof account.tokenParameterName !== 'string' ||
      typeof account.thresholdParameterName !== 'string' ||
      typeof account.stateParameterName !== 'string' ||
      !positive(account.defaultThresholdCents)
    ) {
      problems.push(`accounts[${JSON.stringify(account?.name)}]`);
    }
  }
  if (problems.length > 0) {
    throw new MonitorConfigError(
      `MONITOR_CONFIG has invalid ${problems.join(', ')}: redeploy the stack with valid context.`,
    );
  }
  return config;
}
