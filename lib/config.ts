/**
 * The standalone app's configuration: CDK context in, the construct's props out. The keys
 * are the contract's settings (lambda/config/contract.ts) plus `stackName`; every bad value
 * fails synth with a message that names the key, the value and the expected form, and so
 * does a misspelt key.
 */
import { SHORTHAND } from '../lambda/config/contract.ts';
import { resolveSettings, SETTING_KEYS, unknownKeyProblems } from '../lambda/config/validate.ts';
import type { NgrokBalanceAlertProps } from './ngrok-balance-alert.ts';

export { ConfigError } from '../lambda/config/validate.ts';

/** Reads one context value; `app.node.tryGetContext` in the app, a plain object in tests. */
export type ContextReader = (key: string) => unknown;

const DEFAULT_STACK_NAME = 'NgrokBalanceAlert';

export interface AppConfig {
  /** CloudFormation stack name; a second deployment in one region needs another. */
  readonly stackName: string;
  /** The construct's props, checked and typed (context gives strings). */
  readonly props: NgrokBalanceAlertProps;
}

/** Every context key the app reads, for the README and for catching typos. */
export const CONTEXT_KEYS: readonly string[] = ['stackName', ...SETTING_KEYS];

/**
 * Reads and validates the whole configuration; all problems are reported at once.
 * `allKeys` (every context key given) lets a misspelt key fail instead of being ignored.
 */
export function loadConfig(read: ContextReader, allKeys: readonly string[] = []): AppConfig {
  // The same words as for the construct's props (validate.ts), "did you mean" included.
  const errors = unknownKeyProblems(
    allKeys.filter((key) => !isCdkKey(key)),
    CONTEXT_KEYS,
  );
  const raw = read('stackName');
  const stackName = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : DEFAULT_STACK_NAME;
  if (
    !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName) ||
    (raw !== undefined && typeof raw !== 'string')
  ) {
    errors.push(
      `"stackName": ${JSON.stringify(raw)} is not a valid stack name. Expected a letter, then up ` +
        'to 127 letters, digits or hyphens, e.g. NgrokBalanceAlertClients.',
    );
  }
  const given = Object.fromEntries(SETTING_KEYS.map((key) => [key, read(key)]));
  // Throws with every problem, the app's own included; the typed values are the props.
  const resolved = resolveSettings(given, 'context', { extraErrors: errors });
  const props: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    if (given[key] === undefined || given[key] === '') continue;
    const field = (SHORTHAND as Record<string, { field: string }>)[key]?.field;
    const from = field === undefined ? resolved : (resolved.accounts[0] ?? {});
    props[key] = (from as Record<string, unknown>)[field ?? key];
  }
  return { stackName, props: props as NgrokBalanceAlertProps };
}

/**
 * Context keys the CDK itself carries, which are not ours to reject: feature flags and
 * core settings (`@aws-cdk/core:...`), the CLI's settings (`aws:cdk:version-reporting`,
 * `aws:cdk:bundling-stacks`, ...), lookups cached in cdk.context.json
 * (`availability-zones:account=...:region=...`), `acknowledged-issue-numbers` from
 * `cdk acknowledge`, `$dontSaveContext` from lookups, and other `cdk...` keys. None of our
 * keys has a ":" or starts with "@", "$", "aws" or "cdk".
 */
export function isCdkKey(key: string): boolean {
  return key.includes(':') || /^(@|\$|aws|cdk)/i.test(key) || key === 'acknowledged-issue-numbers';
}
