/**
 * Checks settings against the contract and resolves them: the single-account shorthand
 * becomes a list of one, defaults are applied, the schedule's period is computed. Every
 * problem is reported at once, naming the setting, the value and the expected form.
 *
 * Two sources: `props` (typed values, from the construct) and `context` (CDK context,
 * where -c gives every value as a string, lists comma-separated and `accounts` as JSON).
 */

import {
  ACCOUNT_SETTINGS,
  type AccountProps,
  type AnySetting,
  MONITOR_TIMEOUT_SECONDS,
  SETTINGS,
  type SettingsProps,
  SHORTHAND,
  TEXT_FORMS,
} from './contract.ts';
import { accountParameterNames } from './parameter-names.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Source = 'props' | 'context';

/** One account after checking, with every field the deployment needs. */
export interface ResolvedAccount {
  readonly name: string;
  readonly tokenParameterName: string;
  readonly thresholdCents: number;
  readonly criticalThresholdCents?: number;
  readonly emails: readonly string[];
  readonly autoTopUpCents?: number;
  readonly autoTopUpMonthlyCapCents?: number;
  readonly autoTopUpBelowCents?: number;
  readonly autoTopUpDryRun?: boolean;
  readonly checkoutAmountCents?: number;
}

type Defaulted = {
  [K in keyof typeof SETTINGS]: (typeof SETTINGS)[K] extends { default: unknown } ? K : never;
}[keyof typeof SETTINGS];

/** Checked settings with their defaults applied. */
export type ResolvedConfig = Required<Pick<SettingsProps, Defaulted>> &
  Omit<SettingsProps, Defaulted | keyof typeof SHORTHAND | 'accounts' | 'emails'> & {
    readonly accounts: readonly ResolvedAccount[];
    readonly emails: readonly string[];
    /** Minutes between runs; the alarms are sized from it. */
    readonly schedulePeriodMinutes: number;
  };

/** Every top-level key the contract knows, for typo checks. */
export const SETTING_KEYS: readonly string[] = [
  ...Object.keys(SETTINGS),
  ...Object.keys(SHORTHAND),
];

/** Why a `-c` value can look cut off, and what to do about it. */
const ONE_LINE_RULE =
  'The CDK CLI keeps only the first line of a -c value: give it on one line, or put it in ' +
  'cdk.json under "context".';

/** The settings through which someone hears from the monitor (`recipient: true`). */
export const RECIPIENT_KEYS = keysMarked(SETTINGS);
const ACCOUNT_RECIPIENT_KEYS = keysMarked(ACCOUNT_SETTINGS);

function keysMarked(table: Readonly<Record<string, AnySetting>>): string[] {
  return Object.entries(table).flatMap(([key, setting]) => ('recipient' in setting ? [key] : []));
}

/** Options of {@link resolveSettings}. */
export interface ResolveOptions {
  /** Problems found by the caller (the app's own keys), reported first. */
  readonly extraErrors?: readonly string[];
  /** The construct was given an existing SNS topic: its subscribers are the recipients. */
  readonly topicGiven?: boolean;
}

const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>".]{2,}$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/**
 * Checks `input` (keys of the contract) and returns the resolved configuration, or throws
 * a ConfigError listing every problem.
 */
export function resolveSettings(
  input: Readonly<Record<string, unknown>>,
  source: Source,
  options: ResolveOptions = {},
): ResolvedConfig {
  const errors = [...(options.extraErrors ?? [])];
  /** Recipient settings given with a problem: the problem is reported, not "no recipient". */
  let recipientFailed = false;
  for (const [key, value] of Object.entries(input)) {
    // An empty value is a mistake (a shell variable that was not set), never "the default".
    if (typeof value === 'string' && value.trim() === '') {
      const how = source === 'context' ? `leave out -c ${key}` : 'leave the prop out';
      errors.push(`"${key}" is empty. Expected a value, or ${how} for its default.`);
      if (RECIPIENT_KEYS.includes(key)) recipientFailed = true;
    }
  }
  if (source === 'props') {
    const given = Object.keys(input).filter((key) => input[key] !== undefined);
    errors.push(...unknownKeyProblems(given, SETTING_KEYS));
  }
  const read = new Reader((key) => input[key], errors, source);
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, AnySetting][]) {
    if (setting.kind === 'accounts') continue;
    const before = errors.length;
    values[key] = read.value(key, setting) ?? ('default' in setting ? setting.default : undefined);
    if (RECIPIENT_KEYS.includes(key) && errors.length > before) recipientFailed = true;
  }
  const schedule = values.schedule as string;
  const schedulePeriodMinutes = parseRate(schedule, errors);
  const slackWorkspaceId = values.slackWorkspaceId as string | undefined;
  const slackChannelId = values.slackChannelId as string | undefined;
  if ((slackWorkspaceId === undefined) !== (slackChannelId === undefined)) {
    errors.push(
      '"slackWorkspaceId" and "slackChannelId" must be given together. Expected both: the ' +
        'workspace ID (T...) from the Amazon Q Developer console and the channel ID (C...).',
    );
  }
  if (
    values.webhookSecretParameterName !== undefined &&
    values.webhookUrlParameterName === undefined
  ) {
    errors.push(
      '"webhookSecretParameterName" was given without "webhookUrlParameterName". Expected both: ' +
        'the secret signs what is posted to the webhook URL.',
    );
  }
  const beforeAccounts = errors.length;
  const accounts = readAccounts(input, read, errors);
  // A list that failed may hold per-account emails; the single account has none of its own.
  if (errors.length > beforeAccounts && read.raw('accounts') !== undefined) recipientFailed = true;
  const heard =
    options.topicGiven === true ||
    RECIPIENT_KEYS.some((key) => isGiven(values[key])) ||
    accounts.some((account) =>
      ACCOUNT_RECIPIENT_KEYS.some((key) => isGiven(account[key as keyof ResolvedAccount])),
    );
  if (!heard && !recipientFailed) errors.push(noRecipient(source));
  errors.push(...parameterRoleProblems(values, accounts, read.raw('accounts') !== undefined));
  if (errors.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${errors.join('\n  - ')}`);
  }
  return {
    ...values,
    emails: (values.emails as string[] | undefined) ?? [],
    accounts,
    schedulePeriodMinutes,
  } as unknown as ResolvedConfig;
}

/**
 * Problems for keys that are not settings: each names the key and, when one is near (the
 * same but for case, dashes or underscores; one the start of the other; or a letter or two
 * apart), suggests it, else lists the known keys. The same words for props and context.
 */
export function unknownKeyProblems(given: readonly string[], known: readonly string[]): string[] {
  return given
    .filter((key) => !known.includes(key))
    .map((key) => {
      const near = nearestKey(key, known);
      return near === undefined
        ? `"${key}" is not a known setting, so it would be ignored. Expected one of: ` +
            `${known.join(', ')} (see the configuration table in the README).`
        : `"${key}" is not a known setting, so it would be ignored. Did you mean "${near}"?`;
    });
}

/** The known key a given one was most likely meant to be, if any is close enough. */
function nearestKey(given: string, known: readonly string[]): string | undefined {
  const normal = (key: string) => key.toLowerCase().replace(/[-_]/g, '');
  const exact = known.find((key) => normal(key) === normal(given));
  if (exact !== undefined) return exact;
  const prefix = known.find((key) => key.startsWith(given) || given.startsWith(key));
  if (prefix !== undefined) return prefix;
  // A typo: at most one edit per six letters, and at most two.
  const allowed = Math.min(2, Math.floor(given.length / 6));
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(normal(given), normal(key));
    if (distance <= allowed && (best === undefined || distance < best.distance)) {
      best = { key, distance };
    }
  }
  return best?.key;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The settings that name a SecureString the user creates, and what each one holds. */
const SECRET_PARAMETER_SETTINGS = {
  slackWebhookParameterName: 'the Slack webhook URL',
  pagerDutyRoutingKeyParameterName: 'the PagerDuty routing key',
  teamsWebhookParameterName: 'the Teams workflow URL',
  discordWebhookParameterName: 'the Discord webhook URL',
  webhookUrlParameterName: 'the webhook URL',
  webhookSecretParameterName: 'the webhook signing secret',
} as const;

/**
 * One parameter, one role: the API key, each channel secret, the webhook secret and every
 * parameter the stack creates must all be different parameters. Otherwise a secret is sent
 * where another belongs (the ngrok key posted to PagerDuty as a routing key), or the stack
 * overwrites a secret with a threshold. The API keys of two accounts are checked apart
 * (checkKeyParameters), with their own message.
 */
function parameterRoleProblems(
  values: Readonly<Record<string, unknown>>,
  accounts: readonly ResolvedAccount[],
  listGiven: boolean,
): string[] {
  const roles: { setting: string; holds: string; name: string }[] = [];
  accounts.forEach((account, index) => {
    roles.push({
      setting: listGiven ? `accounts[${index}].tokenParameterName` : 'tokenParameterName',
      holds: `the ngrok API key of account "${account.name}"`,
      name: account.tokenParameterName,
    });
  });
  for (const [setting, holds] of Object.entries(SECRET_PARAMETER_SETTINGS)) {
    const name = values[setting];
    if (typeof name === 'string') roles.push({ setting, holds, name });
  }
  const created = stackParameters(accounts);
  const problems: string[] = [];
  const seen = new Map<string, (typeof roles)[number]>();
  for (const role of roles) {
    const taken = created.get(key(role.name));
    // An account's key on a parameter the stack creates is reported by checkKeyParameters.
    if (taken !== undefined && !role.setting.endsWith('tokenParameterName')) {
      problems.push(
        `"${role.setting}": "${role.name}" is ${taken}, which the stack creates. Expected a ` +
          `SecureString of its own holding ${role.holds}.`,
      );
    }
    const other = seen.get(key(role.name));
    const bothKeys =
      other?.setting.endsWith('tokenParameterName') && role.setting.endsWith('tokenParameterName');
    if (other !== undefined && !bothKeys) {
      problems.push(
        `"${role.setting}": "${role.name}" is also "${other.setting}". Expected a parameter of ` +
          `its own for each role: ${role.holds} and ${other.holds} would be read from one ` +
          `parameter, and one of them sent where the other belongs.`,
      );
    }
    if (other === undefined) seen.set(key(role.name), role);
  }
  return problems;
}

/** SSM treats "/name" and "name" as one ARN (parameter/name): compare names without it. */
function key(parameterName: string): string {
  return parameterName.replace(/^\/+/, '');
}

/**
 * The parameters the stack creates, by name without a leading slash, each with what it is.
 * Every account's critical threshold parameter counts, configured or not: a secret there
 * would be overwritten as soon as one is.
 */
function stackParameters(accounts: readonly ResolvedAccount[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const account of accounts) {
    const names = accountParameterNames(account.name);
    owners.set(key(names.threshold), `the threshold parameter of account "${account.name}"`);
    owners.set(
      key(names.criticalThreshold),
      `the critical threshold parameter of account "${account.name}"`,
    );
  }
  return owners;
}

function isGiven(value: unknown): boolean {
  return value !== undefined && !(Array.isArray(value) && value.length === 0);
}

function noRecipient(source: Source): string {
  const keys = RECIPIENT_KEYS.map((key) => `"${key}"`).join(', ');
  return source === 'context'
    ? `No recipient: the monitor would alert nobody. Expected at least one of ${keys} (or ` +
        '"emails" in an entry of "accounts"), e.g. -c emails=oncall@example.com.'
    : `No recipient: the monitor would alert nobody. Expected at least one of ${keys} (or ` +
        `"emails" in an entry of "accounts"), e.g. emails: ['oncall@example.com'], or an ` +
        'existing SNS topic as "topic" (its subscribers then hear the alerts).';
}

function readAccounts(
  input: Readonly<Record<string, unknown>>,
  read: Reader,
  errors: string[],
): ResolvedAccount[] {
  const raw = read.raw('accounts');
  const given = Object.keys(SHORTHAND).filter((key) => read.raw(key) !== undefined);
  if (raw === undefined) {
    const entry: Record<string, unknown> = {};
    const keyOf: Record<string, string> = {};
    for (const [key, { field, ...rest }] of Object.entries(SHORTHAND)) {
      entry[field] =
        input[key] === '' || input[key] === undefined
          ? (rest as { default?: unknown }).default
          : input[key];
      keyOf[field] = key;
    }
    const account = readAccount(entry, (field) => keyOf[field] ?? field, read.source, errors);
    if (!account) return [];
    checkKeyParameters([account], () => 'tokenParameterName', errors);
    return [account];
  }
  if (given.length > 0) {
    errors.push(
      `"accounts" and the single-account keys (${given.join(', ')}) were both given. ` +
        'Expected one or the other: put those settings inside each entry of "accounts".',
    );
  }
  let list: unknown = raw;
  if (typeof raw === 'string' && read.source === 'context') {
    try {
      list = JSON.parse(raw);
    } catch {
      errors.push(
        `"accounts": ${quote(raw)} is not complete JSON. Expected a JSON array, e.g. ` +
          `-c accounts='[{"name":"prod","tokenParameterName":"/ngrok/prod-key","thresholdCents":1000}]'. ` +
          ONE_LINE_RULE,
      );
      return [];
    }
  }
  const max = SETTINGS.accounts.maxItems;
  if (!Array.isArray(list) || list.length === 0 || list.length > max) {
    errors.push(
      `"accounts": ${quote(raw)} is not a list of 1 to ${max} accounts. Expected an array of ` +
        `{ ${Object.entries(ACCOUNT_SETTINGS)
          .map(([key, s]) => ('required' in s ? key : `${key}?`))
          .join(', ')} }.`,
    );
    return [];
  }
  const accounts: ResolvedAccount[] = [];
  /** Where each valid account stands in the list as given, to name it in messages. */
  const indices: number[] = [];
  const known = Object.keys(ACCOUNT_SETTINGS);
  list.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      errors.push(`"accounts[${index}]": ${quote(entry)} is not an object.`);
      return;
    }
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
      read.source,
      errors,
    );
    if (account) {
      accounts.push(account);
      indices.push(index);
    }
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
  checkKeyParameters(accounts, (i) => `accounts[${indices[i]}].tokenParameterName`, errors);
  return accounts;
}

/**
 * A key parameter must be the account's own: not a parameter the stack writes (the stack
 * would overwrite the key, or the monitor read its state as a key), and not another
 * account's (one ngrok account watched twice sends every alert twice, under two names).
 */
function checkKeyParameters(
  accounts: readonly ResolvedAccount[],
  keyOf: (index: number) => string,
  errors: string[],
): void {
  const own = stackParameters(accounts);
  const users = new Map<string, string>();
  accounts.forEach((account, index) => {
    const name = account.tokenParameterName;
    const taken = own.get(key(name));
    if (taken !== undefined) {
      errors.push(
        `"${keyOf(index)}": "${name}" is ${taken}, which the stack creates. Expected the ` +
          `SecureString that holds the ngrok API key, e.g. ${SHORTHAND.tokenParameterName.default}.`,
      );
    }
    const other = users.get(key(name));
    if (other !== undefined) {
      errors.push(
        `"${keyOf(index)}": "${name}" is also the key of account "${other}": one ngrok ` +
          'account would be watched twice and every alert sent twice. Expected one entry per ' +
          'ngrok account (use criticalThresholdCents for a second, lower threshold).',
      );
    }
    if (other === undefined) users.set(key(name), account.name);
  });
}

/**
 * Checks one account's fields; `keyOf` names a field as the user wrote it (`thresholdCents`
 * for the shorthand, `accounts[2].thresholdCents` in a list).
 */
function readAccount(
  entry: Readonly<Record<string, unknown>>,
  keyOf: (field: string) => string,
  source: Source,
  errors: string[],
): ResolvedAccount | undefined {
  const before = errors.length;
  const read = new Reader((field) => entry[field], errors, source, keyOf);
  const values: Record<string, unknown> = {};
  for (const [field, setting] of Object.entries(ACCOUNT_SETTINGS) as [string, AnySetting][]) {
    // A field with a default in the configuration table is optional in every entry too.
    values[field] =
      read.value(field, setting, 'required' in setting) ??
      ('default' in setting ? setting.default : undefined);
  }
  const { thresholdCents, criticalThresholdCents } = values as Partial<AccountProps>;
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
  checkAutoTopUp(
    values as Partial<AccountProps>,
    (field) => read.raw(field) !== undefined,
    keyOf,
    errors,
  );
  if (errors.length > before) return undefined;
  return {
    ...values,
    emails: (values.emails as string[] | undefined) ?? [],
  } as unknown as ResolvedAccount;
}

/**
 * The auto top-up rules between fields (each field's own range is in the contract): the
 * amount turns it on, a cap is required with it and must allow one purchase.
 */
function checkAutoTopUp(
  values: Partial<AccountProps>,
  given: (field: keyof AccountProps) => boolean,
  keyOf: (field: string) => string,
  errors: string[],
): void {
  const name = (field: keyof AccountProps) => `"${keyOf(field)}"`;
  const { autoTopUpCents: amount, autoTopUpMonthlyCapCents: cap } = values;
  if (!given('autoTopUpCents')) {
    const stray = (
      ['autoTopUpMonthlyCapCents', 'autoTopUpBelowCents', 'autoTopUpDryRun'] as const
    ).filter(given);
    if (stray.length > 0) {
      errors.push(
        `${stray.map(name).join(', ')} set without ${name('autoTopUpCents')}. Expected ` +
          `${name('autoTopUpCents')} (the amount of one purchase, in cents) to turn auto top-up ` +
          'on, or none of these settings.',
      );
    }
    return;
  }
  if (!given('autoTopUpMonthlyCapCents')) {
    errors.push(
      `${name('autoTopUpMonthlyCapCents')} is missing. Expected the most auto top-up may buy ` +
        `per UTC month, in cents, at least ${name('autoTopUpCents')}, e.g. 6000 for three ` +
        'purchases of $20.00.',
    );
  } else if (amount !== undefined && cap !== undefined && cap < amount) {
    errors.push(
      `${name('autoTopUpMonthlyCapCents')}: ${cap} is below ${name('autoTopUpCents')} ${amount}. ` +
        `Expected a monthly cap of at least ${amount}, or no purchase could ever be made.`,
    );
  }
}

/** Minutes between runs of a `rate(...)` expression; the alarms are sized from it. */
function parseRate(schedule: string, errors: string[]): number {
  const match = RATE.exec(schedule.trim());
  const amount = Number(match?.[1]);
  const unit = match?.[2] ?? '';
  const singular = amount === 1;
  if (!match || amount < 1 || singular !== !unit.endsWith('s')) {
    errors.push(
      `"schedule": ${quote(schedule)} ${TEXT_FORMS.rate.problem}. ${TEXT_FORMS.rate.expected} ` +
        'with "minute", "hour" or "day" when N is 1, e.g. ' +
        `${SETTINGS.schedule.default}. (cron expressions are not supported: the alarms need a fixed period.)`,
    );
    return 15;
  }
  const minutes = amount * (unit.startsWith('minute') ? 1 : unit.startsWith('hour') ? 60 : 1440);
  if (minutes * 60 < MONITOR_TIMEOUT_SECONDS) {
    errors.push(
      `"schedule": ${quote(schedule)} starts runs more often than one may last (the function's ` +
        `timeout is ${MONITOR_TIMEOUT_SECONDS} s): runs would overlap and send duplicates. ` +
        `Expected at least rate(${Math.ceil(MONITOR_TIMEOUT_SECONDS / 60)} minutes).`,
    );
  }
  if (minutes > 1440) {
    errors.push(
      `"schedule": ${quote(schedule)} runs less than once a day. Expected at most rate(1 day): ` +
        'a balance can run out within a day.',
    );
  }
  return minutes;
}

/** What a whole-number setting expects, e.g. "a whole number of days from 1 to 30". */
export function expectedNumber(setting: { unit: string; min: number; max?: number }): string {
  const what =
    setting.unit === 'cents'
      ? 'a whole number of cents, digits only (1000 is $10.00)'
      : `a whole number of ${setting.unit}`;
  return `${what} from ${setting.min}${setting.max === undefined ? ' up' : ` to ${setting.max}`}`;
}

/** What a decimal setting expects, e.g. "0 (off) or a number from 2 to 100, decimals allowed". */
export function expectedDecimal(setting: { min: number; max: number; off?: number }): string {
  const off = setting.off === undefined ? '' : `${setting.off} (off) or `;
  return `${off}a number from ${setting.min} to ${setting.max}, decimals allowed (e.g. 2.5)`;
}

/** A decimal number from a value: a number, or digits with an optional fraction in a string. */
export function decimalNumber(
  value: unknown,
  setting: { min: number; max: number; off?: number },
  acceptText: boolean,
): number | undefined {
  const text =
    typeof value === 'number'
      ? String(value)
      : typeof value === 'string' && acceptText
        ? value.trim()
        : '';
  const number = Number(text);
  return /^\d+(\.\d+)?$/.test(text) &&
    (number === setting.off || (number >= setting.min && number <= setting.max))
    ? number
    : undefined;
}

/** A whole number from a value: a number, or digits in a string. */
export function wholeNumber(
  value: unknown,
  setting: { min: number; max?: number },
  acceptText: boolean,
): number | undefined {
  const text =
    typeof value === 'number'
      ? String(value)
      : typeof value === 'string' && acceptText
        ? value.trim()
        : '';
  const number = Number(text);
  const max = setting.max ?? Number.MAX_SAFE_INTEGER;
  return /^\d+$/.test(text) &&
    Number.isSafeInteger(number) &&
    number >= setting.min &&
    number <= max
    ? number
    : undefined;
}

/**
 * Whether a typed value (from the function's configuration file, never a string from -c)
 * has the setting's form. The file is written by the construct from checked props.
 */
export function conforms(setting: AnySetting, value: unknown): boolean {
  switch (setting.kind) {
    case 'integer':
      return wholeNumber(value, setting, false) !== undefined;
    case 'decimal':
      return decimalNumber(value, setting, false) !== undefined;
    case 'text':
      return (
        typeof value === 'string' &&
        (setting.form === 'rate' || TEXT_FORMS[setting.form].test(value))
      );
    case 'choice':
      return typeof value === 'string' && setting.choices.includes(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'emails':
    case 'accounts':
      return Array.isArray(value);
  }
}

/** Typed reads of one setting; context values may be strings. */
class Reader {
  constructor(
    private readonly read: (key: string) => unknown,
    private readonly errors: string[],
    readonly source: Source,
    private readonly keyOf: (key: string) => string = (key) => key,
  ) {}

  raw(key: string): unknown {
    const value = this.read(key);
    return value === '' || value === null ? undefined : value;
  }

  value(key: string, setting: AnySetting, required = false): unknown {
    const value = this.raw(key);
    const name = this.keyOf(key);
    if (value === undefined) {
      if (required) {
        this.errors.push(
          setting.kind === 'integer'
            ? `"${name}" is missing. Expected a whole number.`
            : `"${name}" is missing.`,
        );
      }
      return undefined;
    }
    switch (setting.kind) {
      case 'integer':
      case 'decimal': {
        const fromText = this.source === 'context';
        if (!fromText && typeof value === 'string') {
          // Context gives every value as text; a prop has a type, and a number in quotes is
          // a slip that the message should name as such.
          this.errors.push(
            `"${name}": expected a number, got the string '${quoteless(value)}'. Expected ` +
              `${setting.kind === 'integer' ? expectedNumber(setting) : expectedDecimal(setting)}, without quotes.`,
          );
          return undefined;
        }
        const [number, expected] =
          setting.kind === 'integer'
            ? [wholeNumber(value, setting, fromText), expectedNumber(setting)]
            : [decimalNumber(value, setting, fromText), expectedDecimal(setting)];
        if (number === undefined) {
          this.errors.push(`"${name}": ${quote(value)} is not valid. Expected ${expected}.`);
        }
        return number;
      }
      case 'text': {
        if (typeof value !== 'string') {
          this.errors.push(`"${name}": ${quote(value)} is not a string.`);
          return undefined;
        }
        const text = value.trim();
        const form = TEXT_FORMS[setting.form];
        if (setting.form !== 'rate' && !form.test(text)) {
          const example = setting.example ? `, e.g. ${setting.example}.` : '.';
          this.errors.push(
            `"${name}": ${quote(value)} ${form.problem}. ${form.expected}${example}`,
          );
        }
        return text;
      }
      case 'emails':
        return this.emails(name, value);
      case 'choice': {
        const text = typeof value === 'string' ? value.trim() : value;
        if (typeof text === 'string' && setting.choices.includes(text)) return text;
        this.errors.push(
          `"${name}": ${quote(value)} is not valid. Expected one of: ${setting.choices.join(', ')}.`,
        );
        return undefined;
      }
      case 'boolean': {
        if (typeof value === 'boolean') return value;
        if (this.source === 'context' && (value === 'true' || value === 'false')) {
          return value === 'true';
        }
        if (typeof value === 'string' && this.source === 'props') {
          this.errors.push(
            `"${name}": expected true or false, got the string '${quoteless(value)}'. Expected true or false, without quotes.`,
          );
          return undefined;
        }
        this.errors.push(`"${name}": ${quote(value)} is not valid. Expected true or false.`);
        return undefined;
      }
      case 'accounts':
        return value;
    }
  }

  private emails(name: string, value: unknown): string[] {
    if (!Array.isArray(value) && this.source === 'props') {
      this.errors.push(
        `"${name}": ${quote(value)} is not a list. Expected a list of addresses, e.g. ['oncall@example.com'].`,
      );
      return [];
    }
    if (typeof value === 'string' && value.trim().endsWith(',')) {
      this.errors.push(
        `"${name}": ${quote(value)} ends with a comma: it looks cut off. Expected ` +
          `comma-separated addresses, e.g. -c emails=oncall@example.com,finance@example.com. ${ONE_LINE_RULE}`,
      );
      return [];
    }
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
          `"${name}": ${quote(item)} is not an email address. Expected ` +
            (this.source === 'context'
              ? 'comma-separated addresses, e.g. -c emails=oncall@example.com,finance@example.com.'
              : "a list of addresses, e.g. ['oncall@example.com']."),
        );
        continue;
      }
      if (!emails.includes(email)) emails.push(email);
    }
    return emails;
  }
}

/** A string shown inside single quotes, cut like `quote`. */
function quoteless(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
