/**
 * The deployment's monitor configuration as the function receives it: a JSON file that the
 * construct writes next to the bundled code (Lambda caps environment variables at 4 KB in
 * total, and 100 accounts do not fit there). Checked against the contract's ranges here
 * too, because a function deployed from a hand-edited asset should fail with a message
 * rather than alert on the wrong numbers.
 */

import type { MonitorConfig } from '../common/types.ts';
import { ACCOUNT_SETTINGS, FUNCTION_SETTING_KEYS, SETTINGS, TEXT_FORMS } from './contract.ts';
import { conforms, wholeNumber } from './validate.ts';

/** The auto top-up settings, optional in every account; checked like the others. */
const TOP_UP_FIELDS = [
  'autoTopUpCents',
  'autoTopUpMonthlyCapCents',
  'autoTopUpBelowCents',
  'autoTopUpDryRun',
  // Not auto top-up's, but optional and checked the same way.
  'checkoutAmountCents',
] as const;

/** The file's name, next to the function's index.mjs. */
export const MONITOR_CONFIG_FILE = 'monitor-config.json';

export class MonitorConfigError extends Error {
  override readonly name = 'MonitorConfigError';
}

/** Parses and checks the file's text; `undefined` when the file is missing. */
export function parseMonitorConfig(json: string | undefined): MonitorConfig {
  if (json === undefined) {
    throw new MonitorConfigError(
      `${MONITOR_CONFIG_FILE} is missing next to the function's code: deploy the function ` +
        'with the NgrokBalanceAlert construct (npx cdk deploy).',
    );
  }
  let config: MonitorConfig;
  try {
    config = JSON.parse(json) as MonitorConfig;
  } catch (cause) {
    throw new MonitorConfigError(`${MONITOR_CONFIG_FILE} is not JSON: redeploy the stack.`, {
      cause,
    });
  }
  const problems: string[] = [];
  if (!Array.isArray(config?.accounts) || config.accounts.length === 0) problems.push('accounts');
  // The same ranges as at synth: a renotifyHours of 0, say, would remind on every run.
  for (const key of FUNCTION_SETTING_KEYS) {
    const value = config?.[key];
    const optional = !('default' in SETTINGS[key]);
    if (!(optional && value === undefined) && !conforms(SETTINGS[key], value)) {
      problems.push(key);
    }
  }
  for (const account of Array.isArray(config?.accounts) ? config.accounts : []) {
    const cents = (value: unknown, optional: boolean) =>
      (optional && value === undefined) ||
      wholeNumber(value, ACCOUNT_SETTINGS.thresholdCents, false) !== undefined;
    if (
      typeof account?.name !== 'string' ||
      !TEXT_FORMS.accountName.test(account.name) ||
      typeof account.tokenParameterName !== 'string' ||
      typeof account.thresholdParameterName !== 'string' ||
      !cents(account.thresholdCents, false) ||
      !cents(account.criticalThresholdCents, true) ||
      !TOP_UP_FIELDS.every(
        (field) =>
          account[field] === undefined || conforms(ACCOUNT_SETTINGS[field], account[field]),
      )
    ) {
      problems.push(`accounts[${JSON.stringify(account?.name)}]`);
    }
  }
  if (problems.length > 0) {
    throw new MonitorConfigError(
      `${MONITOR_CONFIG_FILE} has invalid ${problems.join(', ')}: redeploy the stack with valid settings.`,
    );
  }
  return config;
}
