/**
 * The configuration contract: every setting of the monitor, stated once. The construct's
 * props, the app's context keys, the function's configuration file, the `check` command's
 * flags and the README's configuration table are all derived from these two tables.
 *
 * An entry's TSDoc is the setting's meaning (it shows on the construct's prop); the entry
 * itself gives its form, range and default. To add a setting, add one entry: to SETTINGS
 * for a deployment-wide one, to ACCOUNT_SETTINGS for one per account. `function: true`
 * ships it to the monitor function (it then appears in `MonitorConfig`); `flag` makes it
 * an option of the `check` command; `recipient: true` marks a way for someone to hear the
 * alerts (a deployment without any fails synth).
 */

import {
  DEFAULT_SPIKE_FACTOR,
  DEFAULT_SPIKE_MIN_CENTS_PER_HOUR,
  MAX_SPIKE_FACTOR,
  MAX_SPIKE_MIN_CENTS_PER_HOUR,
  MIN_SPIKE_FACTOR,
} from './spike-settings.ts';

/** What a whole number counts; cents get the "digits only (1000 is $10.00)" hint. */
type Unit = 'cents' | 'hours' | 'days' | 'runs' | 'executions';

interface WholeNumber {
  readonly kind: 'integer';
  readonly unit: Unit;
  readonly min: number;
  /** @default - no upper bound */
  readonly max?: number;
  readonly default?: number;
}

/**
 * A number that may have decimals (2.5), from `min` to `max`; `off`, when given, is a value
 * outside the range that is accepted too and turns the feature off.
 */
interface DecimalNumber {
  readonly kind: 'decimal';
  readonly min: number;
  readonly max: number;
  readonly off?: number;
  readonly default?: number;
}

interface Text {
  readonly kind: 'text';
  readonly form: TextForm;
  readonly default?: string;
  /** Shown after "e.g." in the error message. */
  readonly example?: string;
}

interface EmailList {
  readonly kind: 'emails';
}

/** One of a few words. */
interface Choice {
  readonly kind: 'choice';
  readonly choices: readonly string[];
  readonly default?: string;
}

interface OnOff {
  readonly kind: 'boolean';
  readonly default?: boolean;
}

interface AccountList {
  readonly kind: 'accounts';
  readonly maxItems: number;
}

type Setting = (WholeNumber | DecimalNumber | Text | EmailList | AccountList | Choice | OnOff) & {
  /** Written into the function's configuration file and checked again when it is read. */
  readonly function?: true;
  /** Setting it makes the deployment notify somebody (an address, a channel). */
  readonly recipient?: true;
  /** The `check` command's flag for it. */
  readonly flag?: string;
  /** Meaning of "no value" where there is no default, for the README table. */
  readonly unset?: string;
};

type AccountSetting = (WholeNumber | Text | EmailList | OnOff) & {
  /**
   * Must be given in every entry of `accounts`. A setting with a `default` is optional in
   * every entry, as it is in the single-account shorthand.
   */
  readonly required?: true;
  readonly function?: true;
  readonly recipient?: true;
  readonly flag?: string;
  readonly unset?: string;
};

/** The forms a text setting can take; each names its rule and its expected form. */
export const TEXT_FORMS = {
  accountName: {
    test: (value: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/.test(value),
    problem: 'is not a valid account name',
    expected:
      'Expected 1-48 letters, digits, ".", "_" or "-", starting with a letter or digit (it ' +
      'becomes part of parameter paths and a metric dimension).',
  },
  parameterName: {
    test: isParameterName,
    problem: 'is not an SSM parameter name',
    expected:
      'Expected letters, digits and _ . - /, starting with "/" when it has one and not with ' +
      '"aws" or "ssm"',
  },
  rate: {
    // The rate itself is checked by parseRate, which also needs the period.
    test: (value: string) => value.length > 0,
    problem: 'is not a valid rate expression',
    expected: 'Expected rate(N minutes|hours|days)',
  },
  slackWorkspaceId: {
    test: (value: string) => /^T[A-Z0-9]{6,}$/.test(value),
    problem: 'is not a Slack workspace ID',
    expected: 'Expected the ID shown in the Amazon Q Developer console',
  },
  slackChannelId: {
    test: (value: string) => /^[CG][A-Z0-9]{6,}$/.test(value),
    problem: 'is not a Slack channel ID',
    expected: "Expected the ID from the channel's details in Slack",
  },
  pagerDutyEventsUrl: {
    test: isPagerDutyEventsUrl,
    problem: 'is not a PagerDuty events URL',
    expected:
      'Expected https:// on events.pagerduty.com or events.eu.pagerduty.com (the routing key ' +
      'is sent there), or a loopback address for local tests',
  },
  kmsKeyArn: {
    test: (value: string) =>
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/.test(value),
    problem: 'is not a KMS key ARN',
    expected: 'Expected arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (the key ARN, not an alias)',
  },
} as const satisfies Record<
  string,
  { test(value: string): boolean; problem: string; expected: string }
>;
type TextForm = keyof typeof TEXT_FORMS;

/** PagerDuty's Events API v2 hosts: the US and the EU service regions. */
export const PAGERDUTY_EVENTS_HOSTS: readonly string[] = [
  'events.pagerduty.com',
  'events.eu.pagerduty.com',
];

/** A loopback host name, as `URL` gives it: where a local stand-in listens. */
export function isLoopbackHost(hostname: string): boolean {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/.test(hostname);
}

/**
 * Where the PagerDuty function may send events, with the routing key in the body: one of
 * PagerDuty's event hosts over https, or a loopback address (http or https) for local
 * tests. No user name or password (the URL goes into the template).
 */
function isPagerDutyEventsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.username || url.password || /\s/.test(value)) return false;
    if (isLoopbackHost(url.hostname)) return url.protocol === 'https:' || url.protocol === 'http:';
    return (
      url.protocol === 'https:' && url.port === '' && PAGERDUTY_EVENTS_HOSTS.includes(url.hostname)
    );
  } catch {
    return false;
  }
}

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

const CENTS = { kind: 'integer', unit: 'cents', min: 0 } as const;

/** ngrok's documented minimum purchase (USD 5), in cents. */
export const MIN_PURCHASE_CENTS = 500;
/** ngrok refuses a purchase above this many cents. */
export const MAX_PURCHASE_CENTS = 50_000;

/** Settings of one ngrok account: an entry of `accounts`. */
export const ACCOUNT_SETTINGS = {
  /** Label of the account in messages, parameter paths and metrics. */
  name: { kind: 'text', form: 'accountName', required: true, function: true, flag: 'account' },
  /**
   * Name of the SecureString parameter that holds the account's ngrok.ai API key.
   *
   * @default '/ngrok-balance-alert/api-key'
   */
  tokenParameterName: {
    kind: 'text',
    form: 'parameterName',
    example: '/ngrok-balance-alert/api-key',
    default: '/ngrok-balance-alert/api-key',
    function: true,
  },
  /**
   * Warning threshold in cents: alert when the balance is below it. Initial value of the
   * account's threshold parameter, which can be changed at any time.
   *
   * @default 1000
   */
  thresholdCents: { ...CENTS, default: 1000, function: true, flag: 'threshold-cents' },
  /**
   * Optional second, lower threshold in cents; must be below `thresholdCents`. Gets its own
   * runtime parameter.
   *
   * @default - no critical level
   */
  criticalThresholdCents: { ...CENTS, function: true, flag: 'critical-threshold-cents' },
  /**
   * Addresses that hear only about this account (on top of the deployment-wide `emails`).
   *
   * @default - only the deployment-wide `emails`
   */
  emails: { kind: 'emails', recipient: true },
  /**
   * Auto top-up: the amount of one credit purchase in cents, charged to the card saved at
   * app.ngrok.ai when a check reads a balance below `autoTopUpBelowCents`. Setting it turns
   * auto top-up on; `autoTopUpMonthlyCapCents` is then required.
   *
   * @default - no auto top-up
   */
  autoTopUpCents: {
    kind: 'integer',
    unit: 'cents',
    min: MIN_PURCHASE_CENTS,
    max: MAX_PURCHASE_CENTS,
    function: true,
    flag: 'auto-top-up-cents',
    unset: 'off',
  },
  /**
   * The most auto top-up may buy per UTC calendar month, in cents, checked against ngrok's
   * own ledger; at least `autoTopUpCents`. Required with it.
   *
   * @default - required with `autoTopUpCents`
   */
  autoTopUpMonthlyCapCents: {
    kind: 'integer',
    unit: 'cents',
    min: MIN_PURCHASE_CENTS,
    function: true,
    flag: 'auto-top-up-monthly-cap-cents',
    unset: 'required with autoTopUpCents',
  },
  /**
   * Auto top-up buys when a successful check reads a balance below this, in cents.
   *
   * @default - the warning threshold in force
   */
  autoTopUpBelowCents: {
    ...CENTS,
    function: true,
    flag: 'auto-top-up-below-cents',
    unset: 'the warning threshold',
  },
  /**
   * `true`: auto top-up announces what it would buy and buys nothing.
   *
   * @default - false
   */
  autoTopUpDryRun: { kind: 'boolean', function: true, unset: '`false`' },
  /**
   * The amount of the "Buy $X now" checkout link that alerts carry when auto top-up will not
   * buy, in cents. Opening the link charges nothing; the person pays on ngrok's checkout page.
   *
   * @default - enough for 7 days at the recent spend rate, at least $5, rounded up to $5
   */
  checkoutAmountCents: {
    kind: 'integer',
    unit: 'cents',
    min: MIN_PURCHASE_CENTS,
    max: MAX_PURCHASE_CENTS,
    function: true,
    flag: 'checkout-amount-cents',
    unset: '7 days of spend',
  },
} as const satisfies Record<string, AccountSetting>;

/**
 * The single-account shorthand: these top-level settings fill the one account when
 * `accounts` is not given, with these defaults.
 */
export const SHORTHAND = {
  /**
   * The single account's `name`.
   *
   * @default 'main'
   */
  accountName: { field: 'name', default: 'main' },
  /**
   * The single account's `tokenParameterName`.
   *
   * @default '/ngrok-balance-alert/api-key'
   */
  tokenParameterName: {
    field: 'tokenParameterName',
    default: ACCOUNT_SETTINGS.tokenParameterName.default,
  },
  /**
   * The single account's `thresholdCents`.
   *
   * @default 1000
   */
  thresholdCents: { field: 'thresholdCents', default: ACCOUNT_SETTINGS.thresholdCents.default },
  /**
   * The single account's `criticalThresholdCents`.
   *
   * @default - no critical level
   */
  criticalThresholdCents: { field: 'criticalThresholdCents' },
  /**
   * The single account's `autoTopUpCents`.
   *
   * @default - no auto top-up
   */
  autoTopUpCents: { field: 'autoTopUpCents' },
  /**
   * The single account's `autoTopUpMonthlyCapCents`.
   *
   * @default - required with `autoTopUpCents`
   */
  autoTopUpMonthlyCapCents: { field: 'autoTopUpMonthlyCapCents' },
  /**
   * The single account's `autoTopUpBelowCents`.
   *
   * @default - the warning threshold in force
   */
  autoTopUpBelowCents: { field: 'autoTopUpBelowCents' },
  /**
   * The single account's `autoTopUpDryRun`.
   *
   * @default - false
   */
  autoTopUpDryRun: { field: 'autoTopUpDryRun' },
  /**
   * The single account's `checkoutAmountCents`.
   *
   * @default - enough for 7 days at the recent spend rate, at least $5, rounded up to $5
   */
  checkoutAmountCents: { field: 'checkoutAmountCents' },
} as const satisfies Record<
  string,
  { field: keyof typeof ACCOUNT_SETTINGS; default?: string | number }
>;

/** Deployment-wide settings. */
export const SETTINGS = {
  /**
   * Addresses that receive every notification and the CloudWatch alarms.
   *
   * @default - nobody by email
   */
  emails: { kind: 'emails', recipient: true },
  /**
   * Several accounts; replaces the single-account settings.
   *
   * @default - one account, from the single-account settings
   */
  accounts: { kind: 'accounts', maxItems: 100 },
  /**
   * How often to check: `rate(N minutes|hours|days)`, at least once a day. cron is not
   * accepted because the alarms are sized from the period.
   *
   * @default 'rate(15 minutes)'
   */
  schedule: { kind: 'text', form: 'rate', default: 'rate(15 minutes)' },
  /**
   * While a problem lasts, remind this often.
   *
   * @default 24
   */
  renotifyHours: {
    kind: 'integer',
    unit: 'hours',
    min: 1,
    max: 24 * 30,
    default: 24,
    function: true,
  },
  /**
   * An alert eases only once the balance clears the boundary by this margin, so a balance
   * hovering at a threshold does not flap.
   *
   * @default - 10% of the warning threshold in force
   */
  recoveryMarginCents: { ...CENTS, function: true, unset: '10% of the threshold' },
  /**
   * Consecutive failed checks (timeouts, 5xx, malformed answers) before the monitor reports
   * its own failure. A rejected key is reported at once.
   *
   * @default 3
   */
  failureAlertAfter: {
    kind: 'integer',
    unit: 'runs',
    min: 1,
    max: 100,
    default: 3,
    function: true,
  },
  /**
   * Window in days of the spending rate used for the runway forecast.
   *
   * @default 7
   */
  forecastDays: {
    kind: 'integer',
    unit: 'days',
    min: 1,
    max: 30,
    default: 7,
    function: true,
    flag: 'forecast-days',
  },
  /**
   * Alert when the credits are forecast to last fewer days than this, even above the
   * threshold. 0 turns the forecast alert off.
   *
   * @default 3
   */
  runwayAlertDays: {
    kind: 'integer',
    unit: 'days',
    min: 0,
    max: 365,
    default: 3,
    function: true,
    flag: 'runway-alert-days',
  },
  /**
   * Fetch the usage overview (which changes at most daily) at most this often.
   *
   * @default 6
   */
  usageRefreshHours: {
    kind: 'integer',
    unit: 'hours',
    min: 1,
    max: 24,
    default: 6,
    function: true,
  },
  /**
   * `weekly` publishes one summary a week to every channel (balances now and a week ago,
   * the week's spend, alerts and top-ups, runway, snoozes); `off` sends none.
   *
   * @default 'weekly'
   */
  digest: { kind: 'choice', choices: ['weekly', 'off'], default: 'weekly', function: true },
  /**
   * The day of the weekly summary (UTC): the first check at or after `digestHourUtc` that
   * day sends it.
   *
   * @default 'monday'
   */
  digestDay: {
    kind: 'choice',
    choices: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
    default: 'monday',
    function: true,
  },
  /**
   * The hour (UTC, 0 to 23) of the weekly summary; UTC, so daylight saving never moves it.
   *
   * @default 9
   */
  digestHourUtc: {
    kind: 'integer',
    unit: 'hours',
    min: 0,
    max: 23,
    default: 9,
    function: true,
  },
  /**
   * Warn this many days before credits expire (once, and again 3 days before). 0 turns
   * expiry warnings off.
   *
   * @default 14
   */
  expiryWarningDays: {
    kind: 'integer',
    unit: 'days',
    min: 0,
    max: 365,
    default: 14,
    function: true,
  },
  /**
   * Alert on a spend spike when the recent spend rate (the last few runs) is at least this
   * many times the 7-day average. 0 turns spike alerts off; decimals are allowed (2.5).
   *
   * @default 3
   */
  spikeFactor: {
    kind: 'decimal',
    min: MIN_SPIKE_FACTOR,
    max: MAX_SPIKE_FACTOR,
    off: 0,
    default: DEFAULT_SPIKE_FACTOR,
    function: true,
  },
  /**
   * ...and at least this many cents an hour, so a small account is not paged for cents.
   *
   * @default 100
   */
  spikeMinCentsPerHour: {
    kind: 'integer',
    unit: 'cents',
    min: 1,
    max: MAX_SPIKE_MIN_CENTS_PER_HOUR,
    default: DEFAULT_SPIKE_MIN_CENTS_PER_HOUR,
    function: true,
  },
  /**
   * Opt-in: reserve this many concurrent executions (1 makes runs strictly sequential). New
   * AWS accounts with a concurrency quota of 10 cannot deploy any reservation.
   *
   * @default - no reservation
   */
  reservedConcurrency: { kind: 'integer', unit: 'executions', min: 1, max: 10 },
  /**
   * Slack workspace ID (T...) for Amazon Q Developer; needs `slackChannelId`.
   *
   * @default - no Amazon Q Developer channel
   */
  slackWorkspaceId: {
    kind: 'text',
    form: 'slackWorkspaceId',
    example: 'T0123456789',
    recipient: true,
  },
  /**
   * Slack channel ID (C... or G...) for Amazon Q Developer; needs `slackWorkspaceId`.
   *
   * @default - no Amazon Q Developer channel
   */
  slackChannelId: {
    kind: 'text',
    form: 'slackChannelId',
    example: 'C0123456789',
    recipient: true,
  },
  /**
   * Name of a SecureString parameter holding a Slack incoming webhook URL: a small function
   * posts every message there.
   *
   * @default - no webhook function
   */
  slackWebhookParameterName: {
    kind: 'text',
    form: 'parameterName',
    example: '/ngrok-balance-alert/slack-webhook-url',
    recipient: true,
  },
  /**
   * Name of a SecureString parameter holding the routing key (integration key) of a
   * PagerDuty Events API v2 integration: a small function opens, escalates and resolves one
   * incident per account and problem.
   *
   * @default - no PagerDuty function
   */
  pagerDutyRoutingKeyParameterName: {
    kind: 'text',
    form: 'parameterName',
    example: '/ngrok-balance-alert/pagerduty-routing-key',
    recipient: true,
  },
  /**
   * Where PagerDuty events go: https://events.eu.pagerduty.com/v2/enqueue for an account in
   * PagerDuty's EU service region. Only PagerDuty's event hosts are accepted (the routing key
   * travels in each event), and a loopback address for local tests.
   *
   * @default 'https://events.pagerduty.com/v2/enqueue'
   */
  pagerDutyEventsUrl: {
    kind: 'text',
    form: 'pagerDutyEventsUrl',
    default: 'https://events.pagerduty.com/v2/enqueue',
    example: 'https://events.eu.pagerduty.com/v2/enqueue',
  },
  /**
   * Name of a SecureString parameter holding the URL of a Teams workflow that starts with
   * "When a Teams webhook request is received": a small function posts every message there
   * as an Adaptive Card.
   *
   * @default - no Teams function
   */
  teamsWebhookParameterName: {
    kind: 'text',
    form: 'parameterName',
    example: '/ngrok-balance-alert/teams-workflow-url',
    recipient: true,
  },
  /**
   * Name of a SecureString parameter holding a Discord channel webhook URL: a small function
   * posts every message there as an embed coloured by severity.
   *
   * @default - no Discord function
   */
  discordWebhookParameterName: {
    kind: 'text',
    form: 'parameterName',
    example: '/ngrok-balance-alert/discord-webhook-url',
    recipient: true,
  },
  /**
   * Name of a SecureString parameter holding the URL of your own receiver: a small function
   * POSTs every notification there as the version 2 JSON.
   *
   * @default - no webhook function
   */
  webhookUrlParameterName: {
    kind: 'text',
    form: 'parameterName',
    example: '/ngrok-balance-alert/webhook-url',
    recipient: true,
  },
  /**
   * Name of a SecureString parameter holding a secret shared with your receiver: each POST
   * is then signed (header `X-Ngrok-Balance-Alert-Signature`). Needs `webhookUrlParameterName`.
   *
   * @default - unsigned
   */
  webhookSecretParameterName: {
    kind: 'text',
    form: 'parameterName',
    example: '/ngrok-balance-alert/webhook-secret',
  },
  /**
   * ARN of the customer-managed KMS key your SecureString parameters (the API key, the
   * channel secrets) are encrypted with: the functions that read them may then use it to
   * decrypt, through SSM only (`kms:ViaService`). Not needed with the default `aws/ssm` key.
   *
   * @default - the AWS managed aws/ssm key, which needs no grant
   */
  secretsKmsKeyArn: {
    kind: 'text',
    form: 'kmsKeyArn',
    example: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    unset: 'the aws/ssm key',
  },
  /**
   * `per-account` declares CloudWatch metrics for every account in the embedded metric
   * format ($1.20 a month per account); by default the values are only logged.
   *
   * @default 'none'
   */
  metrics: { kind: 'choice', choices: ['none', 'per-account'], default: 'none', function: true },
  /**
   * `true` adds a CloudWatch dashboard of balance, spend and runway per account ($3 a month
   * beyond an AWS account's first three).
   *
   * @default false
   */
  dashboard: { kind: 'boolean', default: false },
} as const satisfies Record<string, Setting>;

/**
 * The monitor function's timeout in seconds. Settings reads get at most 30 s, balance calls
 * at most 20 s (all accounts at once), and writes stop 2 s before the end: 90 s leaves room
 * without hanging for long. A schedule must not run more often than this, or runs overlap.
 */
export const MONITOR_TIMEOUT_SECONDS = 90;

// ---------------------------------------------------------------------------------------
// Types inferred from the tables

type ValueOf<S> = S extends { kind: 'integer' | 'decimal' }
  ? number
  : S extends { kind: 'text' }
    ? string
    : S extends { kind: 'emails' }
      ? readonly string[]
      : S extends { kind: 'choice'; choices: readonly (infer C)[] }
        ? C
        : S extends { kind: 'boolean' }
          ? boolean
          : readonly AccountProps[];

/** One ngrok account to watch: an entry of the `accounts` prop. */
export type AccountProps = {
  readonly [K in keyof typeof ACCOUNT_SETTINGS as (typeof ACCOUNT_SETTINGS)[K] extends {
    required: true;
  }
    ? K
    : never]: ValueOf<(typeof ACCOUNT_SETTINGS)[K]>;
} & {
  readonly [K in keyof typeof ACCOUNT_SETTINGS as (typeof ACCOUNT_SETTINGS)[K] extends {
    required: true;
  }
    ? never
    : K]?: ValueOf<(typeof ACCOUNT_SETTINGS)[K]>;
};

/** Every setting as a prop of the construct (all optional: each has a default or is opt-in). */
export type SettingsProps = {
  readonly [K in keyof typeof SETTINGS]?: ValueOf<(typeof SETTINGS)[K]>;
} & {
  readonly [K in keyof typeof SHORTHAND]?: ValueOf<
    (typeof ACCOUNT_SETTINGS)[(typeof SHORTHAND)[K]['field']]
  >;
};

type FunctionKeys<T> = { [K in keyof T]: T[K] extends { function: true } ? K : never }[keyof T];
type WithDefault<T> = { [K in keyof T]: T[K] extends { default: unknown } ? K : never }[keyof T];

/** The deployment-wide settings the function receives: those with a default are always set. */
export type FunctionSettings = {
  readonly [K in FunctionKeys<typeof SETTINGS> & WithDefault<typeof SETTINGS>]: ValueOf<
    (typeof SETTINGS)[K]
  >;
} & {
  readonly [K in Exclude<FunctionKeys<typeof SETTINGS>, WithDefault<typeof SETTINGS>>]?: ValueOf<
    (typeof SETTINGS)[K]
  >;
};

type AccountKeysWith<Marker> = {
  [K in keyof typeof ACCOUNT_SETTINGS]: (typeof ACCOUNT_SETTINGS)[K] extends Marker ? K : never;
}[keyof typeof ACCOUNT_SETTINGS];
/** Account settings that always have a value once resolved: required, or defaulted. */
type ResolvedAccountKeys =
  | AccountKeysWith<{ required: true }>
  | AccountKeysWith<{ default: unknown }>;

/** The account settings the function receives (what it derives parameter names from). */
export type FunctionAccountSettings = {
  readonly [K in FunctionKeys<typeof ACCOUNT_SETTINGS> & ResolvedAccountKeys]: ValueOf<
    (typeof ACCOUNT_SETTINGS)[K]
  >;
} & {
  readonly [K in Exclude<FunctionKeys<typeof ACCOUNT_SETTINGS>, ResolvedAccountKeys>]?: ValueOf<
    (typeof ACCOUNT_SETTINGS)[K]
  >;
};

/** A setting's entry, whichever table it is in. */
export type AnySetting = Setting | AccountSetting;

/** Keys of the deployment-wide settings shipped to the function. */
export const FUNCTION_SETTING_KEYS = (Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]).filter(
  (key) => 'function' in SETTINGS[key],
) as FunctionKeys<typeof SETTINGS>[];

type DefaultOf<T> = {
  readonly [K in keyof T as T[K] extends { default: unknown } ? K : never]: T[K] extends {
    default: infer D;
  }
    ? D
    : never;
};

/** Every default, by top-level key (the single-account shorthand included). */
export const DEFAULTS = Object.fromEntries(
  [...Object.entries(SETTINGS), ...Object.entries(SHORTHAND)].flatMap(([key, entry]) =>
    'default' in entry ? [[key, entry.default]] : [],
  ),
) as DefaultOf<typeof SETTINGS> & DefaultOf<typeof SHORTHAND>;

type FlagOf<T> = {
  [K in keyof T]: T[K] extends { flag: infer F extends string } ? F : never;
}[keyof T];
/** The `check` command's value options. */
export type Flag = FlagOf<typeof SETTINGS> | FlagOf<typeof ACCOUNT_SETTINGS>;

/** The setting behind each of the `check` command's value options. */
export const FLAGS = Object.fromEntries(
  [...Object.values(SETTINGS), ...Object.values(ACCOUNT_SETTINGS)].flatMap((setting: AnySetting) =>
    setting.flag === undefined ? [] : [[setting.flag, setting]],
  ),
) as Record<Flag, AnySetting>;
