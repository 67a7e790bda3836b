/**
 * Reads every account's runtime settings (API key, thresholds) from SSM
 * Parameter Store in as few calls as GetParameters allows, and turns raw parameter values
 * into thresholds a run can trust.
 */
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { mapWithConcurrency } from '../common/concurrency.ts';
import type { AccountConfig, ConfigProblem, MonitorConfig, Thresholds } from '../common/types.ts';

/** GetParameters accepts at most 10 names per call. */
export const GET_PARAMETERS_BATCH = 10;
/** One GetParameters call, SDK retries included, gives up after this long. */
const READ_TIMEOUT_MS = 10_000;

export class SettingsReadError extends Error {
  override readonly name = 'SettingsReadError';
}

/** Raw values by name; names SSM does not know are in `missing`; unread ones in `failed`. */
export interface ParameterValues {
  readonly values: ReadonlyMap<string, string>;
  readonly missing: ReadonlySet<string>;
  /** Names whose batch failed, with the error: the accounts that need them cannot run. */
  readonly failed: ReadonlyMap<string, SettingsReadError>;
  readonly calls: number;
}

/** Every parameter name a run needs for these accounts: the key and the thresholds (state is in the store). */
export function parameterNamesFor(accounts: readonly AccountConfig[]): string[] {
  const names = accounts.flatMap((a) => [
    a.tokenParameterName,
    a.thresholdParameterName,
    ...(a.criticalThresholdParameterName ? [a.criticalThresholdParameterName] : []),
  ]);
  return [...new Set(names)];
}

/**
 * Reads the given parameters with decryption, 10 names a call, a few calls at a time, all
 * within `budgetMs`.
 * GetParameters reports unknown names in `InvalidParameters` instead of throwing, so they
 * are returned as `missing` for the caller to explain.
 */
export async function readParameters(
  ssm: Pick<SSMClient, 'send'>,
  names: readonly string[],
  { concurrency = 8, budgetMs = 30_000 }: { concurrency?: number; budgetMs?: number } = {},
): Promise<ParameterValues> {
  const deadline = Date.now() + budgetMs;
  const batches: string[][] = [];
  for (let i = 0; i < names.length; i += GET_PARAMETERS_BATCH) {
    batches.push(names.slice(i, i + GET_PARAMETERS_BATCH));
  }
  const values = new Map<string, string>();
  const missing = new Set<string>();
  const failed = new Map<string, SettingsReadError>();
  let calls = 0;
  const read = async (names: string[]) => {
    calls++;
    const left = Math.floor(Math.min(READ_TIMEOUT_MS, deadline - Date.now()));
    if (left <= 0) throw new SettingsReadError('no time was left in the run to read it');
    const out = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }), {
      abortSignal: AbortSignal.timeout(left),
    });
    for (const p of out.Parameters ?? []) {
      if (p.Name !== undefined && p.Value !== undefined) values.set(p.Name, p.Value);
    }
    for (const name of out.InvalidParameters ?? []) missing.add(name);
    for (const name of names) {
      if (!values.has(name)) missing.add(name);
    }
  };
  await mapWithConcurrency(batches, concurrency, async (batch) => {
    try {
      await read(batch);
    } catch (batchError) {
      const fail = (name: string, cause: unknown) =>
        failed.set(
          name,
          new SettingsReadError(`could not read SSM parameter ${name}: ${describe(cause)}`, {
            cause,
          }),
        );
      if (batch.length === 1 || !isPerParameterError(batchError)) {
        for (const name of batch) fail(name, batchError);
        return;
      }
      // A batch fails whole when any one SecureString in it cannot be decrypted (a KMS key
      // the role may not use): read its names one by one so only that account is affected.
      await Promise.all(
        batch.map((name) => read([name]).catch((cause: unknown) => fail(name, cause))),
      );
    }
  });
  return { values, missing, failed, calls };
}

/**
 * Errors about one parameter (access to it or its KMS key) rather than about the call:
 * throttling, timeouts and server faults would only get worse if retried name by name.
 */
function isPerParameterError(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown } | null;
  if (!e || e.$fault === 'server' || e.$retryable) return false;
  return !/Throttl|Timeout|Abort|TooManyRequests|RequestLimitExceeded/i.test(e.name ?? '');
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : 'unknown error';
}

/** A threshold parameter holds cents as plain digits: no sign, no decimal point, no unit. */
export function parseCents(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The thresholds in force for one account. A value that is not an amount never silences
 * the monitor: the deployed default is used and the problem is returned for the alert.
 */
export function resolveThresholds(
  account: AccountConfig,
  config: Pick<MonitorConfig, 'recoveryMarginCents'>,
  values: ReadonlyMap<string, string>,
): { thresholds: Thresholds; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const read = (name: string, fallback: number, what: string): number => {
    const raw = values.get(name);
    const cents = parseCents(raw);
    if (cents !== undefined) return cents;
    const shown = raw === undefined ? 'is missing' : `holds "${raw.slice(0, 40)}"`;
    problems.push({
      parameterName: name,
      message:
        `The ${what} parameter ${name} ${shown}, which is not a whole number of cents; ` +
        `the deployed default ${fallback} is in use. Fix: store a whole number of cents in it, ` +
        'digits only (the notification shows the command).',
    });
    return fallback;
  };

  const thresholdCents = read(account.thresholdParameterName, account.thresholdCents, 'threshold');
  let criticalThresholdCents: number | undefined;
  if (account.criticalThresholdParameterName && account.criticalThresholdCents !== undefined) {
    const name = account.criticalThresholdParameterName;
    const critical = read(name, account.criticalThresholdCents, 'critical threshold');
    if (critical < thresholdCents) {
      criticalThresholdCents = critical;
    } else {
      const fallback = account.criticalThresholdCents;
      criticalThresholdCents = fallback < thresholdCents ? fallback : undefined;
      problems.push({
        parameterName: name,
        message:
          `The critical threshold ${critical} (${name}) is not below the warning threshold ` +
          `${thresholdCents} (${account.thresholdParameterName}); ` +
          (criticalThresholdCents === undefined
            ? 'no critical level is in use. '
            : `the deployed default ${fallback} is in use. `) +
          `Fix: set ${name} to fewer cents than the warning threshold.`,
      });
    }
  }
  const recoveryMarginCents = config.recoveryMarginCents ?? defaultRecoveryMargin(thresholdCents);
  return {
    thresholds: { thresholdCents, criticalThresholdCents, recoveryMarginCents },
    problems,
  };
}

/** Without a deployed margin, the balance must clear the threshold by 10% to recover. */
export function defaultRecoveryMargin(thresholdCents: number): number {
  return Math.round(thresholdCents * 0.1);
}

/**
 * What is wrong when the key parameter does not exist. The command that creates it is a step
 * of the notification (notify/content.ts), which knows the region.
 */
export function missingKeyMessage(parameterName: string): string {
  return (
    `The API key parameter ${parameterName} does not exist. Create it as a SecureString ` +
    'holding the ngrok.ai API key.'
  );
}
