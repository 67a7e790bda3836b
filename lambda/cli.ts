/**
 * The local `check` command (`npx ngrok-balance-alert check`): one balance check, run the way
 * the deployed monitor runs an account's first check (no saved state), that prints what the
 * monitor would send instead of sending it. No AWS access is needed: the key comes from
 * NGROK_API_KEY and the thresholds from the command line.
 *
 * Started by bin/ngrok-balance-alert-cli.mjs. Nothing runs at import time: `main` takes the
 * arguments, the environment and the output streams, so it can be tested in-process.
 */

import { formatCents } from './common/money.ts';
import type { Forecast, Level, LevelReason, Notification, Observation } from './common/types.ts';
import { DEFAULTS, FLAGS, type Flag, TEXT_FORMS } from './config/contract.ts';
import { accountParameterNames } from './config/parameter-names.ts';
import { defaultRecoveryMargin } from './config/settings.ts';
import { expectedNumber, wholeNumber } from './config/validate.ts';
import { fetchAccessKeyNames } from './ngrok/access-keys.ts';
import {
  DEFAULT_NGROK_API_URL,
  HEADER_SAFE_KEY,
  type NgrokClientOptions,
} from './ngrok/ngrok-client.ts';
import { fetchCreditGrants, ledgerFacts } from './ngrok/ngrok-credits.ts';
import { describeLevel, describeTopSpenders } from './notify/content.ts';
import { formatRunway, formatWindow } from './notify/format.ts';
import { renderNotification } from './notify/render.ts';
import { observeAccount } from './observe/observe.ts';
import { updateKeyNameCache } from './watches/access-key-names.ts';
import { decide } from './watches/alert-policy.ts';
import { KEY_NAMES_BUDGET_MS, withSpenderNames } from './watches/key-names.ts';
import { PAY_LINK_KINDS, suggestedCheckoutCents } from './watches/pay-link-policy.ts';
import { decideTopUp, freshTopUpState, type TopUpSettings } from './watches/top-up/decide.ts';
import { topUpSettingsFor } from './watches/top-up/settings.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Injected for tests; defaults to the system clock. */
  now?: () => Date;
  /** stderr is a terminal: a slow check then says it is still working. */
  interactive?: boolean;
}

/** Exit codes, as `--help` lists them. */
export const EXIT_OK = 0;
export const EXIT_ALERTING = 1;
export const EXIT_ERROR = 2;

/** The whole check, retries included, gives up after this long. */
export const CHECK_DEADLINE_MS = 25_000;
/** A check still running after this long says so on a terminal. */
export const PROGRESS_AFTER_MS = 1_000;
/** The report fits one screen: lines are wrapped to this width. */
export const REPORT_WIDTH = 100;

/** Where a person creates an ngrok.ai API key. */
const KEYS_URL = 'https://app.ngrok.ai';
const PROGRAM = 'ngrok-balance-alert';
/**
 * How to set NGROK_API_KEY without the key reaching shell history: `read -s` takes it from a
 * prompt that does not echo (`-r` keeps backslashes), and `export` passes it to the command.
 */
const SET_KEY = 'read -rs NGROK_API_KEY && export NGROK_API_KEY';
/** Keys shorter than this are not searched for in the output: they would mangle ordinary words. */
const MIN_REDACTED_LENGTH = 6;
/** Values echoed in error messages are cut to this: a pasted secret must not be shown whole. */
const MAX_ECHOED_LENGTH = 32;

export const USAGE = `Usage: ${PROGRAM} check [options]

Checks the ngrok AI Gateway credit balance once, as the deployed monitor does on
its first run, and shows what it would send. Nothing is sent.

Options:
  --threshold-cents N           warning threshold in cents (default ${DEFAULTS.thresholdCents})
  --critical-threshold-cents N  critical threshold in cents (default: none)
  --runway-alert-days N         alert when credits last fewer days (default ${DEFAULTS.runwayAlertDays})
  --forecast-days N             days the spend rate averages over (default ${DEFAULTS.forecastDays})
  --account NAME                account label in the messages (default "${DEFAULTS.accountName}")
  --auto-top-up-cents N         show what auto top-up would buy (never buys)
  --auto-top-up-monthly-cap-cents N
                                its monthly cap, required with it
  --auto-top-up-below-cents N   buy below this (default: the warning threshold)
  --checkout-amount-cents N     amount of the checkout link alerts would carry
                                (default: 7 days of spend; never created here)
  --json                        print one JSON object instead of the summary
  --verbose                     show each message in full (also with --json)
  -h, --help                    show this help
Amounts are whole cents (1000 is $10.00). --runway-alert-days 0 turns it off.

Environment:
  NGROK_API_KEY  ngrok.ai API key (required): create one in the settings at
                 ${KEYS_URL}. Never accepted as an argument, because
                 arguments end up in shell history and process lists.
  NGROK_API_URL  API base URL (default ${DEFAULT_NGROK_API_URL})

Exit codes:
  0  healthy
  1  alerting: the balance is low, critical or empty, or forecast to run out
  2  error: the balance could not be read (rejected key, network, bad response),
     or the command line is wrong

Example (read -rs reads the key without echoing it; paste it and press Enter):
  ${SET_KEY}
  npx ${PROGRAM} check --threshold-cents 2500
`;

interface CheckOptions {
  readonly account: string;
  readonly thresholdCents: number;
  readonly criticalThresholdCents?: number;
  readonly runwayAlertDays: number;
  readonly forecastDays: number;
  readonly json: boolean;
  readonly verbose: boolean;
  /** Auto top-up to preview; never bought from here. */
  readonly topUp?: TopUpSettings;
  /** The checkout link's amount (`checkoutAmountCents`); never created from here. */
  readonly checkoutAmountCents?: number;
}

/**
 * A command line or environment that cannot be run. `after` is what follows the message: the
 * full usage text, a pointer to --help, or nothing (the message already says what to do).
 */
class UsageError extends Error {
  constructor(
    message: string,
    readonly after: 'usage' | 'help' | 'none' = 'help',
  ) {
    super(message);
  }
}

/**
 * Runs the command line `argv` (without the node and script paths) and returns the exit
 * code. Never throws: unexpected errors are reported on `io.stderr` with exit code 2.
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
): Promise<number> {
  const redact = redactor(env.NGROK_API_KEY);
  const out = (text: string) => io.stdout(redact(text));
  const err = (text: string) => io.stderr(redact(text));
  try {
    const parsed = parseCommandLine(argv);
    if (parsed === 'help') {
      out(USAGE);
      return EXIT_OK;
    }
    const apiKey = env.NGROK_API_KEY?.trim();
    if (!apiKey) {
      throw new UsageError(
        'NGROK_API_KEY is not set. Create an API key in the settings at ' +
          `${KEYS_URL}, then run (the first line reads the key without echoing it):\n` +
          `  ${SET_KEY}\n` +
          `  npx ${PROGRAM} check`,
        'none',
      );
    }
    const keyProblem = unsendableKey(apiKey);
    if (keyProblem) {
      throw new UsageError(
        `NGROK_API_KEY ${keyProblem}, which an HTTP header cannot carry, so it was not sent. ` +
          `Copy the key again from the settings at ${KEYS_URL}, then run:\n` +
          `  ${SET_KEY}\n` +
          `  npx ${PROGRAM} check`,
        'none',
      );
    }
    const baseUrl = apiUrl(env.NGROK_API_URL);
    return await check(
      apiKey,
      baseUrl,
      parsed,
      io,
      out,
      err,
      env.AWS_REGION || env.AWS_DEFAULT_REGION,
    );
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${PROGRAM}: ${error.message}\n`);
      if (error.after === 'usage') err(`\n${USAGE}`);
      if (error.after === 'help') err(`Run "${PROGRAM} --help" for the options.\n`);
    } else {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      err(`${PROGRAM}: unexpected error: ${detail}\n`);
    }
    return EXIT_ERROR;
  }
}

// ---------------------------------------------------------------------------------------------
// The check

async function check(
  apiKey: string,
  baseUrl: string,
  options: CheckOptions,
  io: CliIo,
  out: (text: string) => void,
  err: (text: string) => void,
  /** The region the printed commands name; a placeholder when the shell has none. */
  region: string | undefined,
): Promise<number> {
  const now = io.now?.() ?? new Date();
  // The client measures its deadline on a clock that starts at `now` and runs in real time,
  // so an injected `now` and the deadline agree. Whole milliseconds, like Date.now: the
  // client derives timer delays from it.
  const startedMs = now.getTime();
  const realStart = Date.now();
  const clock = () => startedMs + (Date.now() - realStart);

  // Balance requests are counted, so a failure can say how many attempts it made.
  let balanceAttempts = 0;
  const baseFetch = io.fetch ?? fetch;
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).includes('/credits/balance')) {
      balanceAttempts++;
    }
    return baseFetch(input, init);
  };
  const ngrok = { baseUrl, now: clock, fetch: countingFetch };
  const progress =
    io.interactive && !options.json
      ? setTimeout(() => {
          err(
            `Checking the balance at ${baseUrl} (gives up after ${CHECK_DEADLINE_MS / 1000} s)...\n`,
          );
        }, PROGRESS_AFTER_MS)
      : undefined;
  let observation: Observation;
  try {
    const observed = await observeAccount(apiKey, {
      now,
      deadline: startedMs + CHECK_DEADLINE_MS,
      forecastDays: options.forecastDays,
      usageRefreshHours: DEFAULTS.usageRefreshHours,
      ngrok,
    });
    observation = await withKeyNamesShown(observed.observation, apiKey, now, ngrok);
  } finally {
    clearTimeout(progress);
  }
  const took = { seconds: (Date.now() - realStart) / 1000, attempts: balanceAttempts };

  const thresholdCents = options.thresholdCents;
  const decision = decide({
    account: options.account,
    thresholdParameterName: accountParameterNames(options.account).threshold,
    observation,
    thresholds: {
      thresholdCents,
      criticalThresholdCents: options.criticalThresholdCents,
      // What the deployed monitor uses when no recovery margin is configured.
      recoveryMarginCents: defaultRecoveryMargin(thresholdCents),
    },
    configProblems: [],
    previous: undefined,
    now,
    settings: {
      renotifyMs: DEFAULTS.renotifyHours * 3_600_000,
      // A local check reports a failed check at once instead of waiting for a streak.
      failureAlertAfter: 1,
      runwayAlertDays: options.runwayAlertDays,
    },
  });

  const autoTopUp =
    options.topUp && observation.ok
      ? await previewTopUp(apiKey, options.topUp, observation.balanceCents, {
          account: options.account,
          now,
          deadline: startedMs + CHECK_DEADLINE_MS,
          ngrok: { baseUrl, now: clock, ...(io.fetch && { fetch: io.fetch }) },
        })
      : undefined;
  const notifications = decision.notifications.map((n) => {
    const shown = autoTopUp !== undefined ? { ...n, topUpStatus: autoTopUp } : n;
    const { subject, text } = renderNotification(shown, region ? { region } : {});
    return { kind: n.kind, subject, text };
  });
  // The window as configured: the usage read covers today's part-day beyond it.
  const shownObservation: Observation =
    observation.ok && observation.forecast
      ? { ...observation, forecast: windowAsConfigured(observation.forecast, options.forecastDays) }
      : observation;
  const level = decision.state.level;
  const reason = decision.state.reason;
  const checkoutCents = wouldOfferCheckout(options, observation, decision.notifications);

  if (options.json) {
    const report = jsonReport(
      options,
      shownObservation,
      decision.status,
      level,
      reason,
      notifications,
      took,
    );
    out(
      `${JSON.stringify({
        ...report,
        ...(autoTopUp !== undefined && { autoTopUp }),
        ...(checkoutCents !== undefined && { checkoutLinkCents: checkoutCents }),
      })}\n`,
    );
  } else {
    out(
      humanReport(
        options,
        shownObservation,
        level,
        reason,
        notifications,
        baseUrl,
        took,
        autoTopUp,
      ),
    );
    if (checkoutCents !== undefined) {
      out(`Would offer a checkout link for ${formatCents(checkoutCents)} (none was created)\n`);
    }
  }
  if (!observation.ok) {
    // The report already names the error; with --json, stderr is where a person reads it.
    if (options.json) {
      err(`${PROGRAM}: could not read the balance: ${observation.failure.message}\n`);
    }
    return EXIT_ERROR;
  }
  return decision.status === 'alerting' ? EXIT_ALERTING : EXIT_OK;
}

/**
 * What auto top-up would do now, e.g. "would buy $20.00". Reads ngrok's ledger (a read
 * only) for the cap; as a preview it has no saved state, so it assumes none was lost.
 */
async function previewTopUp(
  apiKey: string,
  settings: TopUpSettings,
  balanceCents: number,
  context: { account: string; now: Date; deadline: number; ngrok: NgrokClientOptions },
): Promise<string> {
  const grants = await fetchCreditGrants(
    apiKey,
    { deadline: context.deadline },
    context.ngrok,
  ).catch(() => undefined);
  // A preview has no stored record: it assumes none was lost (no hold) and never buys.
  const { status } = decideTopUp({
    account: context.account,
    settings: { ...settings, dryRun: true },
    balanceCents,
    ledger: ledgerFacts(grants, context.now),
    ledgerRead: true,
    state: freshTopUpState('preview'),
    runId: 'preview',
    now: context.now,
  });
  return status.replace(/^auto top-up( dry run)?:\s*/, '');
}

/**
 * The amount of the "Buy $X now" link the deployed monitor would add to these alerts, or
 * undefined when it would add none. With auto top-up configured the check assumes it would
 * buy (it has no saved state saying it is capped, stopped or failing).
 */
function wouldOfferCheckout(
  options: CheckOptions,
  observation: Observation,
  notifications: readonly Notification[],
): number | undefined {
  if (!observation.ok || options.topUp !== undefined) return undefined;
  if (!notifications.some((n) => PAY_LINK_KINDS.includes(n.kind))) return undefined;
  return suggestedCheckoutCents(
    {
      ...(observation.forecast && { dailySpendCents: observation.forecast.dailySpendCents }),
      thresholdCents: options.thresholdCents,
    },
    options.checkoutAmountCents,
  );
}

/**
 * The observation with its top spenders named, as the deployed monitor names them. Best
 * effort, as there: the read has a short budget of its own, and the ids are shown when it
 * fails.
 */
async function withKeyNamesShown(
  observation: Observation,
  apiKey: string,
  now: Date,
  ngrok: NgrokClientOptions & { now: () => number },
): Promise<Observation> {
  if (!observation.ok || !observation.forecast) return observation;
  const wanted = observation.forecast.topSpenders.map((s) => s.accessKey);
  if (wanted.length === 0) return observation;
  const fetched = await fetchAccessKeyNames(
    apiKey,
    { deadline: ngrok.now() + KEY_NAMES_BUDGET_MS },
    { ...ngrok, maxAttempts: 1 },
  ).catch(() => undefined);
  const cache = updateKeyNameCache(undefined, fetched, wanted, now);
  return { ...observation, forecast: withSpenderNames(observation.forecast, cache) };
}

interface WouldSend {
  readonly kind: Notification['kind'];
  readonly subject: string;
  readonly text: string;
}

function jsonReport(
  options: CheckOptions,
  observation: Observation,
  status: string,
  level: Level,
  reason: LevelReason,
  notifications: readonly WouldSend[],
  took: { readonly seconds: number; readonly attempts: number },
) {
  return {
    account: options.account,
    status,
    balanceCents: observation.ok ? observation.balanceCents : null,
    thresholdCents: options.thresholdCents,
    ...(options.criticalThresholdCents !== undefined && {
      criticalThresholdCents: options.criticalThresholdCents,
    }),
    runwayAlertDays: options.runwayAlertDays,
    // Without a balance there is no level: the failure says why.
    level: observation.ok ? level : null,
    ...(observation.ok && level !== 'ok' && { reason }),
    ...(observation.ok &&
      observation.forecast && { forecast: roundedForecast(observation.forecast) }),
    ...(observation.ok && observation.forecastNote && { forecastNote: observation.forecastNote }),
    ...(!observation.ok && {
      error: observation.failure,
      elapsedSeconds: round(took.seconds, 1),
      attempts: took.attempts,
    }),
    // Each message in full only with --verbose, as in the summary.
    notifications: notifications.map(({ kind, subject, text }) =>
      options.verbose ? { kind, subject, text } : { kind, subject },
    ),
  };
}

/**
 * The forecast with its window no longer than the configured days: the usage read also
 * covers today's part-day, which makes a 7-day window 7.5 days at noon, and a person asked
 * for 7.
 */
function windowAsConfigured(forecast: Forecast, forecastDays: number): Forecast {
  return forecast.windowDays > forecastDays ? { ...forecast, windowDays: forecastDays } : forecast;
}

/**
 * The forecast as JSON shows it: money in whole cents and days to two decimals, as precise
 * as the rate behind them; a share to a tenth of a percent.
 */
function roundedForecast(forecast: Forecast) {
  return {
    source: forecast.source,
    dailySpendCents: Math.round(forecast.dailySpendCents),
    windowDays: round(forecast.windowDays, 2),
    runwayDays: forecast.runwayDays === null ? null : round(forecast.runwayDays, 2),
    topSpenders: forecast.topSpenders.map((spender) => ({
      ...spender,
      costCents: Math.round(spender.costCents),
      share: round(spender.share, 3),
    })),
  };
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

function humanReport(
  options: CheckOptions,
  observation: Observation,
  level: Level,
  reason: LevelReason,
  notifications: readonly WouldSend[],
  baseUrl: string,
  took: { readonly seconds: number; readonly attempts: number },
  autoTopUp?: string,
): string {
  const rows: [string, string][] = [['Account', options.account]];
  if (autoTopUp !== undefined) rows.push(['Auto top-up', autoTopUp]);
  if (observation.ok) {
    rows.push(['Balance', formatCents(observation.balanceCents)]);
  } else {
    rows.push(['Balance', 'unknown: the check failed']);
  }
  rows.push(['Warning threshold', formatCents(options.thresholdCents)]);
  if (options.criticalThresholdCents !== undefined) {
    rows.push(['Critical threshold', formatCents(options.criticalThresholdCents)]);
  }
  if (observation.ok) {
    rows.push([
      'Level',
      describeLevel({
        level,
        reason,
        balanceCents: observation.balanceCents,
        thresholds: {
          thresholdCents: options.thresholdCents,
          criticalThresholdCents: options.criticalThresholdCents,
          recoveryMarginCents: defaultRecoveryMargin(options.thresholdCents),
        },
      }),
    ]);
    const { forecast, forecastNote } = observation;
    rows.push(['Runway', forecast ? formatRunway(forecast) : (forecastNote ?? 'no forecast')]);
    // Said only when it is why the level is raised: on a healthy balance it reads as an alert.
    if (level !== 'ok' && reason === 'runway') {
      rows.push(['Runway alert', `below ${days(options.runwayAlertDays)}`]);
    }
    const spenders = topSpenders(forecast);
    if (spenders) rows.push(spenders);
  } else {
    rows.push(['Error', observation.failure.message]);
    rows.push([
      'Took',
      `${took.seconds.toFixed(1)} s, ${took.attempts} ${took.attempts === 1 ? 'attempt' : 'attempts'}`,
    ]);
    rows.push(['Fix', failureFix(observation.failure.kind, baseUrl)]);
  }
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  const command = !observation.ok && observation.failure.kind === 'auth' ? SET_KEY : undefined;
  const lines = [
    'ngrok AI Gateway credit balance check',
    ...rows.flatMap(([name, value]) => wrap(`  ${`${name}:`.padEnd(width)}`, value)),
    // A command keeps its own line, unwrapped, so it can be copied whole.
    ...(command ? [`  ${' '.repeat(width)}${command}`] : []),
    '',
  ];
  if (notifications.length === 0) {
    lines.push('Would send: nothing (balance is healthy)');
  } else {
    lines.push('Would send (nothing was sent: this is a local check):');
    for (const n of notifications) {
      lines.push(...wrap('  Subject: ', n.subject));
      if (options.verbose) lines.push('', indent(n.text.trimEnd(), '    '), '');
    }
    if (!options.verbose) lines.push('  (--verbose shows each message in full)');
  }
  if (!observation.ok) {
    lines.push(
      '',
      ...wrap(
        'Note: ',
        'a local check reports a failed check at once; the deployed monitor reports a rejected ' +
          `key at once and other failures after ${DEFAULTS.failureAlertAfter} in a row (its default).`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `label` then `text`, broken at spaces into lines of at most REPORT_WIDTH characters; the
 * lines after the first are indented to where the text starts. A word longer than a line
 * (a URL) keeps its own line.
 */
function wrap(label: string, text: string): string[] {
  const room = REPORT_WIDTH - label.length;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? label : ' '.repeat(label.length)) + l);
}

/** The same top spenders the notifications name, and the window they were measured over. */
function topSpenders(forecast: Forecast | undefined): [string, string] | undefined {
  const spenders = forecast && describeTopSpenders(forecast);
  if (!forecast || !spenders) return undefined;
  return ['Top spenders', `${spenders} in the last ${formatWindow(forecast.windowDays)}`];
}

function failureFix(kind: string, baseUrl: string): string {
  if (kind === 'auth') {
    return `the key in NGROK_API_KEY was rejected. Create a new key at ${KEYS_URL}, then set it without echoing it:`;
  }
  return `check the network and the API at ${baseUrl} (NGROK_API_URL), then try again.`;
}

function days(n: number): string {
  return `${n} ${n === 1 ? 'day' : 'days'}`;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => (line ? `${by}${line}` : ''))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// The command line

/** Value options are the contract's settings that name a flag: their ranges are the contract's. */
const VALUE_OPTIONS = Object.keys(FLAGS) as readonly Flag[];
type ValueOption = Flag;
const FLAG_OPTIONS = ['json', 'verbose', 'help'] as const;

/** Options someone might try to pass the key with: refused, whatever their value. */
const KEY_OPTION =
  /^--?(api[-_]?key|key|token|api[-_]?token|auth[-_]?token|ngrok[-_]api[-_]key)(=|$)/i;

function parseCommandLine(argv: readonly string[]): CheckOptions | 'help' {
  const keyOption = argv.find((arg) => KEY_OPTION.test(arg));
  if (keyOption) {
    throw new UsageError(
      `${keyOption.split('=')[0]} is not accepted: the API key is read only from the ` +
        'NGROK_API_KEY environment variable, because arguments end up in shell history and ' +
        'process lists. Run (the first line reads the key without echoing it):\n' +
        `  ${SET_KEY}\n` +
        `  npx ${PROGRAM} check`,
      'none',
    );
  }

  const values = new Map<ValueOption, string>();
  const positionals: string[] = [];
  let json = false;
  let verbose = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const [flag = '', inline] = splitOnce(arg);
    const name = flag.replace(/^--?/, '');
    if (!arg.startsWith('--') || !isKnown(name)) {
      throw new UsageError(`unknown option ${echo(flag)}.`, 'usage');
    }
    if ((FLAG_OPTIONS as readonly string[]).includes(name)) {
      if (inline !== undefined) {
        throw new UsageError(`--${name} takes no value (got ${echo(inline)}).`);
      }
      if (name === 'json') json = true;
      else if (name === 'verbose') verbose = true;
      else help = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A negative number is a (bad) value; any other dash starts the next option.
      if (next !== undefined && (!next.startsWith('-') || /^-\d/.test(next))) {
        value = next;
        i++;
      }
    }
    if (value === undefined) {
      throw new UsageError(`--${name} needs a value: ${expected(name as ValueOption)}`);
    }
    values.set(name as ValueOption, value);
  }
  if (help) return 'help';

  const [command, ...extra] = positionals;
  if (command === 'help') return 'help';
  if (command === undefined) throw new UsageError('no command given.', 'usage');
  if (command !== 'check') throw new UsageError(`unknown command ${echo(command)}.`, 'usage');
  if (extra.length > 0) {
    throw new UsageError(`unexpected argument ${echo(extra[0] as string)} after "check".`, 'usage');
  }
  return validate(values, json, verbose);
}

function validate(
  values: ReadonlyMap<ValueOption, string>,
  json: boolean,
  verbose: boolean,
): CheckOptions {
  const integer = (name: ValueOption, fallback: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const setting = FLAGS[name];
    const value = setting.kind === 'integer' ? wholeNumber(raw, setting, true) : undefined;
    if (value === undefined) {
      throw new UsageError(`--${name}: ${echo(raw)} is not valid. ${expected(name)}`);
    }
    return value;
  };
  const thresholdCents = integer('threshold-cents', DEFAULTS.thresholdCents);
  const critical = values.has('critical-threshold-cents')
    ? integer('critical-threshold-cents', 0)
    : undefined;
  if (critical !== undefined && critical >= thresholdCents) {
    throw new UsageError(
      `--critical-threshold-cents: ${critical} is not below the warning threshold ` +
        `${thresholdCents} (--threshold-cents). Expected fewer cents than the warning threshold.`,
    );
  }
  const account = values.get('account') ?? DEFAULTS.accountName;
  if (!TEXT_FORMS.accountName.test(account)) {
    throw new UsageError(`--account: ${echo(account)} is not valid. ${expected('account')}`);
  }
  const autoTopUpCents = values.has('auto-top-up-cents')
    ? integer('auto-top-up-cents', 0)
    : undefined;
  const cap = values.has('auto-top-up-monthly-cap-cents')
    ? integer('auto-top-up-monthly-cap-cents', 0)
    : undefined;
  const below = values.has('auto-top-up-below-cents')
    ? integer('auto-top-up-below-cents', 0)
    : undefined;
  if ((cap !== undefined || below !== undefined) && autoTopUpCents === undefined) {
    throw new UsageError(
      '--auto-top-up-monthly-cap-cents and --auto-top-up-below-cents need --auto-top-up-cents ' +
        '(the amount of one purchase, in cents).',
    );
  }
  if (autoTopUpCents !== undefined && (cap === undefined || cap < autoTopUpCents)) {
    throw new UsageError(
      `--auto-top-up-monthly-cap-cents: ${cap === undefined ? 'missing' : cap}. Expected the ` +
        `most auto top-up may buy per UTC month, at least --auto-top-up-cents (${autoTopUpCents}).`,
    );
  }
  const topUp = topUpSettingsFor(
    {
      autoTopUpCents,
      autoTopUpMonthlyCapCents: cap,
      autoTopUpBelowCents: below,
      // The check never buys: it says what a run would buy.
      autoTopUpDryRun: true,
    },
    thresholdCents,
  );
  const checkoutAmountCents = values.has('checkout-amount-cents')
    ? integer('checkout-amount-cents', 0)
    : undefined;
  return {
    account,
    thresholdCents,
    ...(critical !== undefined && { criticalThresholdCents: critical }),
    ...(topUp !== undefined && { topUp }),
    ...(checkoutAmountCents !== undefined && { checkoutAmountCents }),
    runwayAlertDays: integer('runway-alert-days', DEFAULTS.runwayAlertDays),
    forecastDays: integer('forecast-days', DEFAULTS.forecastDays),
    json,
    verbose,
  };
}

/** The form a value option expects, as the contract states it. */
function expected(name: ValueOption): string {
  const setting = FLAGS[name];
  switch (setting.kind) {
    case 'integer':
      return `Expected ${expectedNumber(setting)}.`;
    case 'text':
      return TEXT_FORMS[setting.form].expected;
    default:
      return 'Expected a value.';
  }
}

function isKnown(name: string): boolean {
  return (
    (VALUE_OPTIONS as readonly string[]).includes(name) ||
    (FLAG_OPTIONS as readonly string[]).includes(name)
  );
}

/**
 * What makes a key unsendable, without quoting it: the first character an HTTP header
 * cannot carry, by kind and position. Undefined for a sendable key.
 */
function unsendableKey(key: string): string | undefined {
  if (HEADER_SAFE_KEY.test(key)) return undefined;
  const chars = [...key];
  const at = chars.findIndex((c) => !HEADER_SAFE_KEY.test(c));
  const c = chars[at] as string;
  const what =
    c === ' '
      ? 'a space'
      : c === '\n' || c === '\r'
        ? 'a line break'
        : /\p{Cc}/u.test(c)
          ? 'a control character'
          : 'a character that is not plain ASCII (a curly quote or a non-breaking space, say)';
  return `contains ${what} at character ${at + 1} of ${chars.length}`;
}

function splitOnce(arg: string): [string, string | undefined] {
  const at = arg.indexOf('=');
  return at < 0 ? [arg, undefined] : [arg.slice(0, at), arg.slice(at + 1)];
}

/** A value from the command line, quoted for an error message; a long one is not shown whole. */
function echo(value: string): string {
  const clean = value.replace(/\p{Cc}/gu, '?');
  return clean.length <= MAX_ECHOED_LENGTH
    ? JSON.stringify(clean)
    : `${JSON.stringify(`${clean.slice(0, 8)}...`)} (${clean.length} characters)`;
}

/** NGROK_API_URL, checked: the key must not cross a network unencrypted. */
function apiUrl(raw: string | undefined): string {
  const value = raw?.trim() || DEFAULT_NGROK_API_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `NGROK_API_URL: ${echo(value)} is not a URL. Expected e.g. ${DEFAULT_NGROK_API_URL}, or unset it.`,
      'none',
    );
  }
  const loopback = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageError(
      `NGROK_API_URL: ${echo(value)} is not allowed. Expected an https:// URL (http:// only ` +
        'for localhost or 127.0.0.1): the API key is sent with every request.',
      'none',
    );
  }
  return value;
}

/**
 * Removes the API key from any text before it is printed, however it got there (an error
 * body that echoes it, a stack trace). Its JSON- and URL-encoded forms are removed too.
 */
function redactor(secret: string | undefined): (text: string) => string {
  const forms = new Set<string>();
  for (const key of [secret, secret?.trim()]) {
    if (key === undefined || key.length < MIN_REDACTED_LENGTH) continue;
    forms.add(key);
    forms.add(JSON.stringify(key).slice(1, -1));
    forms.add(encodeURIComponent(key));
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((acc, form) => acc.split(form).join('[redacted]'), text);
}
