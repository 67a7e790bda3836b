/**
 * Deploy-time configuration: CDK context in, validated and typed settings out. Every bad
 * value fails synth with a message that names the key, the value and the expected form.
 * Constructs never read context themselves.
 */

import { METRICS_MODES, type MetricsMode } from '../lambda/metrics.ts';
import { ACCOUNT_NAME } from '../lambda/parameter-names.ts';

/** Reads one context value; `app.node.tryGetContext` in the app, a plain object in tests. */
export type ContextReader = (key: string) => unknown;

export interface AccountSettings {
  /** Label in messages; part of parameter paths and the metric dimension. */
  readonly name: string;
  readonly tokenParameterName: string;
  readonly thresholdCents: number;
  readonly criticalThresholdCents?: number;
  /** Addresses that hear only about this account (on top of the topic-wide `emails`). */
  readonly emails: readonly string[];
}

export interface AppConfig {
  /** CloudFormation stack name; a second deployment in one region needs another. */
  readonly stackName: string;
  readonly accounts: readonly AccountSettings[];
  /** Addresses that hear about every account and about the monitor's own alarms. */
  readonly emails: readonly string[];
  /** An EventBridge `rate(...)` expression. */
  readonly schedule: string;
  readonly schedulePeriodMinutes: number;
  readonly renotifyHours: number;
  readonly recoveryMarginCents?: number;
  readonly failureAlertAfter: number;
  readonly forecastDays: number;
  readonly runwayAlertDays: number;
  readonly usageRefreshHours: number;
  /** Opt-in: new accounts with a concurrency quota of 10 cannot reserve any. */
  readonly reservedConcurrency?: number;
  readonly slack?: { readonly workspaceId: string; readonly channelId: string };
  readonly slackWebhookParameterName?: string;
  /** Per-account CloudWatch metrics: $0.30 a month each, so opt-in. */
  readonly metrics: MetricsMode;
  /** A CloudWatch dashboard: $3 a month beyond an AWS account's first three, so opt-in. */
  readonly dashboard: boolean;
}

export const DEFAULTS = {
  stackName: 'NgrokBalanceAlert',
  accountName: 'main',
  tokenParameterName: '/ngrok-balance-alert/api-key',
  thresholdCents: 1000,
  schedule: 'rate(15 minutes)',
  renotifyHours: 24,
  failureAlertAfter: 3,
  forecastDays: 7,
  runwayAlertDays: 3,
  usageRefreshHours: 6,
  metrics: 'none',
  dashboard: false,
} as const;

/** Every context key the app reads, for the README and for catching typos. */
export const CONTEXT_KEYS = [
  'stackName',
  'accounts',
  'accountName',
  'tokenParameterName',
  'thresholdCents',
  'criticalThresholdCents',
  'emails',
  'schedule',
  'renotifyHours',
  'recoveryMarginCents',
  'failureAlertAfter',
  'forecastDays',
  'runwayAlertDays',
  'usageRefreshHours',
  'reservedConcurrency',
  'slackWorkspaceId',
  'slackChannelId',
  'slackWebhookParameterName',
  'metrics',
  'dashboard',
] as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Every account adds exact ARNs to the function's IAM policy; beyond 100 the policies
 * outgrow a role's default quota of 10 managed policies. Deploy a second stack instead.
 */
export const MAX_ACCOUNTS = 100;

const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>".]{2,}$/;
const PARAMETER_NAME = /^\/?[A-Za-z0-9_.\-/]{1,1000}$/;

/**
 * SSM's own naming rules: letters, digits and _ . - /; a hierarchical name starts with "/";
 * no name starts with "aws" or "ssm" (any case).
 */
export function isParameterName(name: string): boolean {
  return (
    PARAMETER_NAME.test(name) &&
    (!name.includes('/') || name.startsWith('/')) &&
    !/^\/?(aws|ssm)/i.test(name) &&
    !name.includes('//')
  );
}
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/**
 * Reads and validates the whole configuration; all problems are reported at once.
 * `allKeys` (every context key given) lets a misspelt key fail instead of being ignored.
 */
export function loadConfig(read: ContextReader, allKeys: readonly string[] = []): AppConfig {
  const errors: string[] = [];
  for (const key of misspeltKeys(allKeys)) {
    errors.push(`"${key.given}" is not a known setting. Did you mean "${key.known}"?`);
  }
  const ctx = new Context(read, errors);

  const schedule = ctx.string('schedule') ?? DEFAULTS.schedule;
  const schedulePeriodMinutes = parseRate(schedule, errors);
  const stackName = ctx.string('stackName') ?? DEFAULTS.stackName;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    errors.push(
      `"stackName": ${quote(stackName)} is not a valid stack name. Expected a letter, then up ` +
        'to 127 letters, digits or hyphens, e.g. NgrokBalanceAlertClients.',
    );
  }
  const config: AppConfig = {
    stackName,
    accounts: readAccounts(ctx, errors),
    emails: ctx.emails('emails'),
    schedule,
    schedulePeriodMinutes,
    renotifyHours: ctx.integer('renotifyHours', { min: 1, max: 24 * 30 }) ?? DEFAULTS.renotifyHours,
    recoveryMarginCents: ctx.integer('recoveryMarginCents', { min: 0 }),
    failureAlertAfter:
      ctx.integer('failureAlertAfter', { min: 1, max: 100 }) ?? DEFAULTS.failureAlertAfter,
    forecastDays: ctx.integer('forecastDays', { min: 1, max: 30 }) ?? DEFAULTS.forecastDays,
    runwayAlertDays:
      ctx.integer('runwayAlertDays', { min: 0, max: 365 }) ?? DEFAULTS.runwayAlertDays,
    usageRefreshHours:
      ctx.integer('usageRefreshHours', { min: 1, max: 24 }) ?? DEFAULTS.usageRefreshHours,
    reservedConcurrency: ctx.integer('reservedConcurrency', { min: 1, max: 10 }),
    ...readSlack(ctx, errors),
    metrics: ctx.oneOf('metrics', METRICS_MODES) ?? DEFAULTS.metrics,
    dashboard: ctx.boolean('dashboard') ?? DEFAULTS.dashboard,
  };
  if (errors.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${errors.join('\n  - ')}`);
  }
  return config;
}

/** Given keys that match a known key but for case, dashes or underscores. */
function misspeltKeys(allKeys: readonly string[]): Array<{ given: string; known: string }> {
  const normal = (key: string) => key.toLowerCase().replace(/[-_]/g, '');
  const known = new Map<string, string>(CONTEXT_KEYS.map((key) => [normal(key), key]));
  return allKeys.flatMap((given) => {
    const match = known.get(normal(given));
    return match !== undefined && match !== given ? [{ given, known: match }] : [];
  });
}

function readAccounts(ctx: Context, errors: string[]): AccountSettings[] {
  const raw = ctx.raw('accounts');
  const shorthandKeys = [
    'accountName',
    'tokenParameterName',
    'thresholdCents',
    'criticalThresholdCents',
  ].filter((key) => ctx.raw(key) !== undefined);
  if (raw === undefined) {
    const account = readAccount(
      {
        name: ctx.raw('accountName') ?? DEFAULTS.accountName,
        tokenParameterName: ctx.raw('tokenParameterName') ?? DEFAULTS.tokenParameterName,
        thresholdCents: ctx.raw('thresholdCents') ?? DEFAULTS.thresholdCents,
        criticalThresholdCents: ctx.raw('criticalThresholdCents'),
      },
      (field) =>
        ({
          name: 'accountName',
          tokenParameterName: 'tokenParameterName',
          thresholdCents: 'thresholdCents',
          criticalThresholdCents: 'criticalThresholdCents',
        })[field] ?? field,
      errors,
    );
    return account ? [account] : [];
  }
  if (shorthandKeys.length > 0) {
    errors.push(
      `"accounts" and the single-account keys (${shorthandKeys.join(', ')}) were both given. ` +
        'Expected one or the other: put those settings inside each entry of "accounts".',
    );
  }
  let list: unknown = raw;
  if (typeof raw === 'string') {
    try {
      list = JSON.parse(raw);
    } catch {
      errors.push(
        `"accounts": ${quote(raw)} is not JSON. Expected a JSON array, e.g. ` +
          `-c accounts='[{"name":"prod","tokenParameterName":"/ngrok/prod-key","thresholdCents":1000}]'`,
      );
      return [];
    }
  }
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ACCOUNTS) {
    errors.push(
      `"accounts": ${quote(raw)} is not a list of 1 to ${MAX_ACCOUNTS} accounts. Expected an array of ` +
        '{ name, tokenParameterName, thresholdCents, criticalThresholdCents?, emails? }.',
    );
    return [];
  }
  const accounts: AccountSettings[] = [];
  list.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      errors.push(`"accounts[${index}]": ${quote(entry)} is not an object.`);
      return;
    }
    const known = [
      'name',
      'tokenParameterName',
      'thresholdCents',
      'criticalThresholdCents',
      'emails',
    ];
    for (const key of Object.keys(entry)) {
      if (!known.includes(key)) {
        errors.push(
          `"accounts[${index}].${key}" is not a known field. Expected: ${known.join(', ')}.`,
        );
      }
    }
    const account = readAccount(
      entry as Record<string, unknown>,
      (field) => `accounts[${index}].${field}`,
      errors,
    );
    if (account) accounts.push(account);
  });
  const seen = new Map<string, string>();
  for (const account of accounts) {
    // Construct ids keep only letters and digits, so "prod-eu" and "prod_eu" would collide.
    const key = account.name.toLowerCase().replace(/[^a-z0-9]/g, '');
    const other = seen.get(key);
    if (other !== undefined) {
      errors.push(
        `"accounts": the name "${account.name}" is used twice ("${other}" differs only in ` +
          'case or punctuation). Expected unique names: each account has its own parameters ' +
          'and metrics.',
      );
    }
    seen.set(key, account.name);
  }
  return accounts;
}

function readAccount(
  entry: Record<string, unknown>,
  keyOf: (field: string) => string,
  errors: string[],
): AccountSettings | undefined {
  const before = errors.length;
  const ctx = new Context((field) => entry[field], errors, keyOf);
  const name = ctx.string('name');
  if (name === undefined || !ACCOUNT_NAME.test(name)) {
    errors.push(
      `"${keyOf('name')}": ${quote(entry.name)} is not a valid account name. Expected 1-48 ` +
        'letters, digits, ".", "_" or "-", starting with a letter or digit (it becomes part ' +
        'of parameter paths and a metric dimension).',
    );
  }
  const tokenParameterName = ctx.string('tokenParameterName');
  if (tokenParameterName === undefined || !isParameterName(tokenParameterName)) {
    errors.push(
      `"${keyOf('tokenParameterName')}": ${quote(entry.tokenParameterName)} is not an SSM ` +
        'parameter name. Expected letters, digits and _ . - /, starting with "/" when it has ' +
        'one and not with "aws" or "ssm", e.g. /ngrok-balance-alert/api-key.',
    );
  }
  const thresholdCents = ctx.integer('thresholdCents', { min: 0, required: true });
  const criticalThresholdCents = ctx.integer('criticalThresholdCents', { min: 0 });
  if (
    thresholdCents !== undefined &&
    criticalThresholdCents !== undefined &&
    criticalThresholdCents >= thresholdCents
  ) {
    errors.push(
      `"${keyOf('criticalThresholdCents')}": ${criticalThresholdCents} is not below ` +
        `"${keyOf('thresholdCents')}" ${thresholdCents}. Expected a critical threshold lower ` +
        'than the warning threshold.',
    );
  }
  const emails = ctx.emails('emails');
  if (errors.length > before || !name || !tokenParameterName || thresholdCents === undefined) {
    return undefined;
  }
  return { name, tokenParameterName, thresholdCents, criticalThresholdCents, emails };
}

function readSlack(
  ctx: Context,
  errors: string[],
): Pick<AppConfig, 'slack' | 'slackWebhookParameterName'> {
  const workspaceId = ctx.string('slackWorkspaceId');
  const channelId = ctx.string('slackChannelId');
  const webhook = ctx.string('slackWebhookParameterName');
  const result: { slack?: AppConfig['slack']; slackWebhookParameterName?: string } = {};
  if ((workspaceId === undefined) !== (channelId === undefined)) {
    errors.push(
      '"slackWorkspaceId" and "slackChannelId" must be given together. Expected both: the ' +
        'workspace ID (T...) from the Amazon Q Developer console and the channel ID (C...).',
    );
  } else if (workspaceId !== undefined && channelId !== undefined) {
    if (!/^T[A-Z0-9]{6,}$/.test(workspaceId)) {
      errors.push(
        `"slackWorkspaceId": ${quote(workspaceId)} is not a Slack workspace ID. Expected ` +
          'the ID shown in the Amazon Q Developer console, e.g. T0123456789.',
      );
    }
    if (!/^[CG][A-Z0-9]{6,}$/.test(channelId)) {
      errors.push(
        `"slackChannelId": ${quote(channelId)} is not a Slack channel ID. Expected the ID ` +
          "from the channel's details in Slack, e.g. C0123456789.",
      );
    }
    result.slack = { workspaceId, channelId };
  }
  if (webhook !== undefined) {
    if (!isParameterName(webhook)) {
      errors.push(
        `"slackWebhookParameterName": ${quote(webhook)} is not an SSM parameter name. ` +
          'Expected e.g. /ngrok-balance-alert/slack-webhook-url.',
      );
    }
    result.slackWebhookParameterName = webhook;
  }
  return result;
}

/** Minutes between runs of a `rate(...)` expression; the alarms are sized from it. */
function parseRate(schedule: string, errors: string[]): number {
  const match = RATE.exec(schedule.trim());
  const amount = Number(match?.[1]);
  const unit = match?.[2] ?? '';
  const singular = amount === 1;
  if (!match || amount < 1 || singular !== !unit.endsWith('s')) {
    errors.push(
      `"schedule": ${quote(schedule)} is not a valid rate expression. Expected ` +
        'rate(N minutes|hours|days) with "minute", "hour" or "day" when N is 1, e.g. ' +
        `${DEFAULTS.schedule}. (cron expressions are not supported: the alarms need a fixed period.)`,
    );
    return 15;
  }
  const minutes = amount * (unit.startsWith('minute') ? 1 : unit.startsWith('hour') ? 60 : 1440);
  if (minutes > 1440) {
    errors.push(
      `"schedule": ${quote(schedule)} runs less than once a day. Expected at most rate(1 day): ` +
        'a balance can run out within a day.',
    );
  }
  return minutes;
}

/** Typed readers over context values, which are strings on the command line. */
class Context {
  constructor(
    private readonly read: ContextReader,
    private readonly errors: string[],
    private readonly keyOf: (key: string) => string = (key) => key,
  ) {}

  raw(key: string): unknown {
    const value = this.read(key);
    return value === '' ? undefined : value;
  }

  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.errors.push(`"${this.keyOf(key)}": ${quote(value)} is not a string.`);
      return undefined;
    }
    return value.trim();
  }

  integer(
    key: string,
    {
      min,
      max = Number.MAX_SAFE_INTEGER,
      required = false,
    }: { min: number; max?: number; required?: boolean },
  ): number | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) {
      if (required) this.errors.push(`"${this.keyOf(key)}" is missing. Expected a whole number.`);
      return undefined;
    }
    const text =
      typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
    const number = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(number) || number < min || number > max) {
      const cents = key.endsWith('Cents') ? ' of cents, digits only (1000 is $10.00)' : '';
      this.errors.push(
        `"${this.keyOf(key)}": ${quote(value)} is not valid. Expected a whole number${cents} ` +
          `from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}.`,
      );
      return undefined;
    }
    return number;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const value = this.string(key);
    if (value === undefined || (choices as readonly string[]).includes(value)) {
      return value as T | undefined;
    }
    this.errors.push(
      `"${this.keyOf(key)}": ${quote(value)} is not valid. Expected one of: ${choices.join(', ')}.`,
    );
    return undefined;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.errors.push(`"${this.keyOf(key)}": ${quote(value)} is not valid. Expected true or false.`);
    return undefined;
  }

  emails(key: string): string[] {
    const value = this.raw(key);
    if (value === undefined || value === null) return [];
    const list = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value.split(',')
        : [value];
    const emails: string[] = [];
    for (const item of list) {
      const email = typeof item === 'string' ? item.trim() : '';
      if (email === '' && typeof item === 'string') continue;
      if (!EMAIL.test(email)) {
        this.errors.push(
          `"${this.keyOf(key)}": ${quote(item)} is not an email address. Expected ` +
            'comma-separated addresses, e.g. -c emails=oncall@example.com,finance@example.com.',
        );
        continue;
      }
      if (!emails.includes(email)) emails.push(email);
    }
    return emails;
  }
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
