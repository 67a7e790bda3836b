/**
 * What a notification says, decided once for every channel: the headline, the facts, the
 * steps (with their commands as data), how serious it is, and the key that ties one
 * account's one problem together across its trigger, reminders and resolve. Renderers lay
 * this out for their format; none of them decides wording of its own. Pure: no I/O, no clock.
 *
 * Adding a notification kind: add it to NOTIFICATION_KINDS (types.ts); the compiler then
 * points at every table below (KIND_EVENT, KIND_PROBLEM, the tone and severity tables, the
 * `describe` and `titleOf` switches) and at nothing else.
 */

import { formatCents } from '../common/money.ts';
import { oneLine as oneLineOf, visible } from '../common/text.ts';
import type {
  DigestAccount,
  Forecast,
  Level,
  LevelReason,
  Notification,
  NotificationKind,
  SpikeReport,
} from '../common/types.ts';
import { ASSUMPTION, FINAL_WARNING_DAYS } from '../watches/expiry.ts';
import { type FunctionAddress, snoozeCommand, snoozeForADayCommand } from '../watches/snooze.ts';
import {
  MAX_CONSECUTIVE_FAILURES,
  type StopReason,
  type TopUpNotificationKind,
} from '../watches/top-up/decide.ts';
import {
  asciiOneLine,
  fnv1a,
  formatRunway,
  formatRunwayDays,
  formatShare,
  formatTime,
  formatWindow,
  isAmount,
  levelWord,
  lowerFirstWord,
  printable,
  runwayDays,
  truncate,
  wholeCents,
} from './format.ts';
import { httpsLink, type UntrustedText, untrusted } from './inert.ts';
import { formatAmount, formatMinutes, formatRunwayHours, formatRunwayText } from './runway-text.ts';

/** Text on one line as it shows: invisible and bidirectional characters removed. */
function oneLine(text: string): string {
  return oneLineOf(visible(text));
}

/** Where a person adds credits. */
export const TOP_UP_URL = 'https://app.ngrok.ai/credits';
/** Where a person creates a new ngrok.ai API key. */
export const API_KEYS_URL = 'https://app.ngrok.ai';
/** Where a person sees, rotates and revokes the AI Gateway access keys. */
export const ACCESS_KEYS_URL = 'https://app.ngrok.ai';

/** A failure message quoted inside a sentence is cut to this; the whole one follows below. */
const INLINE_MESSAGE_MAX = 300;
/** At most this many configuration problems are listed one by one. */
export const MAX_CONFIG_PROBLEMS = 10;
/** Account labels are deploy-time names; a longer one is cut in the human-readable copies. */
export const LABEL_MAX = 200;

/**
 * What the notification does to the problem it is about, in the terms incident tools use:
 * `trigger` opens (or keeps open, or escalates) it, `resolve` closes it, `info` is neither.
 */
export type NotificationEvent = 'trigger' | 'resolve' | 'info';

/** How urgent the notification is, from `info` (nothing to do) to `critical` (act now). */
export type Severity = 'info' | 'warning' | 'error' | 'critical';

/** The mood a channel shows (an emoji, a colour); one table, so channels cannot disagree. */
export type Tone = 'test' | 'good' | 'info' | 'config' | 'warning' | 'alarm';

/** The problem a notification is about; one dedup key per account and problem. */
export type Problem =
  | 'balance'
  | 'monitor'
  | 'config'
  | 'test'
  | 'top-up'
  | 'snooze'
  | 'digest'
  | 'expiry'
  | 'spike';

/**
 * Text fields hold `UntrustedText`: any of them may carry text from outside the monitor (an
 * access key's name, ngrok's decline message, an HTTP error body, a snooze note, a value
 * quoted in a configuration problem), so a renderer places them only through its format's
 * neutralizer (inert.ts). The template's own words are in the same strings and read the same
 * escaped: nothing here is markup.
 */
export interface Fact {
  /** A fact's name; on the weekly digest, an account's name. */
  readonly label: UntrustedText;
  /** Access key names, failure messages and snooze notes show up here. */
  readonly value: UntrustedText;
}

export interface Step {
  /** Names parameters and accounts. */
  readonly text: UntrustedText;
  /** A command to copy, shown on its own line (as code where the channel has code). */
  readonly command?: UntrustedText;
  /** More about the step: the alert's clearing point, the monitor's own words (an error body). */
  readonly note?: UntrustedText;
}

export interface Link {
  readonly label: string;
  readonly url: string;
}

/**
 * The "Buy $X now" checkout page of an alert (Notification.payLink), after its URL passed
 * `httpsLink`: every channel shows it in its own form, beside the credits page link.
 */
export interface PayLinkContent {
  /** "Buy $25 now". */
  readonly label: UntrustedText;
  /** https, checked by `httpsLink` (inert.ts). */
  readonly url: string;
  readonly amountCents: number;
  /** ISO 8601: when the page stops working. */
  readonly expiresAt: string;
  /** What opening it does and until when it works, for the formats with room for a sentence. */
  readonly note: UntrustedText;
}

/** The content of one notification, for every channel. Plain data: it travels as JSON. */
export interface Content {
  readonly kind: NotificationKind;
  readonly event: NotificationEvent;
  readonly severity: Severity;
  readonly tone: Tone;
  /** Stable for one account's one problem, from its trigger to its resolve. */
  readonly dedupKey: string;
  readonly test: boolean;
  /** The account as configured (not cut): for keys, threads and machine fields. */
  readonly account: string;
  readonly level: Level;
  readonly reason: LevelReason;
  /** ISO 8601 time of the run that produced it. */
  readonly at: string;
  /** Amounts as people read them, for channels that show them apart from the facts. */
  readonly amounts: { readonly balance?: string; readonly warning: string };
  /** The parameter that holds the warning threshold: a resource chat tools can link. */
  readonly thresholdParameterName: string;
  /** The account label for people: one line, at most LABEL_MAX characters, never empty. */
  readonly label: UntrustedText;
  /** The title around the account label, so each channel can fit the label to its limits. */
  readonly title: { readonly before: UntrustedText; readonly after: UntrustedText };
  /** One to three sentences: what happened. Quotes error bodies, decline messages, notes. */
  readonly headline: UntrustedText;
  readonly facts: readonly Fact[];
  /**
   * What one fact stands for when it is not a fact about the account: on the weekly digest
   * each fact is an account. A channel that cannot show them all says how many it left out.
   */
  readonly factsAre?: 'accounts';
  /**
   * Facts left out of every copy, the email and the JSON included, because the whole list
   * would not fit the SNS message limit.
   */
  readonly factsOmitted?: number;
  /** "What to do", or "For reference" when nothing needs doing. */
  readonly stepsTitle: UntrustedText;
  readonly steps: readonly Step[];
  /** Runtime settings that could not be used; `first` when they are the news. */
  readonly problems?: {
    /** The problems as the monitor words them, quoting the values it read. */
    readonly items: readonly UntrustedText[];
    readonly hidden: number;
    readonly first: boolean;
  };
  readonly links: readonly Link[];
  /** The checkout page to buy from, on the alerts that carry one and whose URL is https. */
  readonly payLink?: PayLinkContent;
  /** The closing line of the long formats. */
  readonly footer: UntrustedText;
}

/** What the content builder needs besides the notification. */
export interface ContentOptions {
  /** The AWS region the stack runs in: every command names it. Absent in a local check. */
  readonly region?: string;
  /** The monitor function's name, for the snooze commands. Absent in a local check. */
  readonly functionName?: string;
  /** Free text from outside (error bodies, parameter values) is cut to this. */
  readonly freeTextCap: number;
  /**
   * The weekly digest lists at most this many accounts and says how many it left out: only
   * when the whole list would not fit the SNS message limit.
   */
  readonly digestAccounts?: number;
}

// ---------------------------------------------------------------------------------------------
// Per-kind tables: each must name every kind.

const KIND_EVENT: Readonly<Record<NotificationKind, NotificationEvent>> = {
  'balance-alert': 'trigger',
  // A reminder or a smaller problem re-sends the open incident; it never opens a second one.
  'balance-reminder': 'trigger',
  'balance-improved': 'trigger',
  'balance-recovered': 'resolve',
  'monitor-failing': 'trigger',
  'monitor-reminder': 'trigger',
  'monitor-recovered': 'resolve',
  'config-problem': 'info',
  test: 'info',
  // Auto top-up is its own incident. A person is needed when a purchase failed, waits for
  // the payment to be confirmed, or buying stopped: those open it. A purchase that goes
  // through closes it (a resolve with nothing open is ignored by incident tools). The rest
  // needs nobody: the cap is the user's own limit and the balance alert carries on beside it.
  'top-up-started': 'info',
  'top-up-succeeded': 'resolve',
  'top-up-failed': 'trigger',
  'top-up-action-required': 'trigger',
  'top-up-pending-long': 'info',
  'top-up-capped': 'info',
  'top-up-stopped': 'trigger',
  'top-up-dry-run': 'info',
  // News for the team, never an incident: a snooze, the week's summary, credit about to expire.
  'snooze-set': 'info',
  'snooze-ended': 'info',
  'weekly-digest': 'info',
  'credit-expiry': 'info',
  'spike-started': 'trigger',
  'spike-reminder': 'trigger',
  'spike-ended': 'resolve',
};

const KIND_PROBLEM: Readonly<Record<NotificationKind, Problem>> = {
  'balance-alert': 'balance',
  'balance-reminder': 'balance',
  'balance-improved': 'balance',
  'balance-recovered': 'balance',
  'monitor-failing': 'monitor',
  'monitor-reminder': 'monitor',
  'monitor-recovered': 'monitor',
  'config-problem': 'config',
  test: 'test',
  'top-up-started': 'top-up',
  'top-up-succeeded': 'top-up',
  'top-up-failed': 'top-up',
  'top-up-action-required': 'top-up',
  'top-up-pending-long': 'top-up',
  'top-up-capped': 'top-up',
  'top-up-stopped': 'top-up',
  'top-up-dry-run': 'top-up',
  'snooze-set': 'snooze',
  'snooze-ended': 'snooze',
  'weekly-digest': 'digest',
  'credit-expiry': 'expiry',
  // A spike is its own incident: it can start and end while the balance is fine.
  'spike-started': 'spike',
  'spike-reminder': 'spike',
  'spike-ended': 'spike',
};

const LEVEL_SEVERITY: Readonly<Record<Level, Severity>> = {
  ok: 'info',
  low: 'warning',
  critical: 'error',
  empty: 'critical',
};

const LEVEL_TONE: Readonly<Record<Level, Tone>> = {
  ok: 'info',
  low: 'warning',
  critical: 'alarm',
  empty: 'alarm',
};

/** Severity and tone per kind; the balance kinds take theirs from the level. */
const KIND_MOOD: Readonly<
  Record<NotificationKind, (level: Level) => { severity: Severity; tone: Tone }>
> = {
  'balance-alert': byLevel,
  'balance-reminder': byLevel,
  'balance-improved': byLevel,
  'balance-recovered': () => ({ severity: 'info', tone: 'good' }),
  'monitor-failing': () => ({ severity: 'error', tone: 'warning' }),
  'monitor-reminder': () => ({ severity: 'error', tone: 'warning' }),
  'monitor-recovered': () => ({ severity: 'info', tone: 'good' }),
  'config-problem': () => ({ severity: 'warning', tone: 'config' }),
  test: () => ({ severity: 'info', tone: 'test' }),
  'top-up-started': () => ({ severity: 'info', tone: 'info' }),
  'top-up-succeeded': () => ({ severity: 'info', tone: 'good' }),
  // The credits are still low and the purchase meant to fix that did not happen.
  'top-up-failed': (level) => atLeast('error', level, 'alarm'),
  'top-up-action-required': (level) => atLeast('warning', level, 'warning'),
  'top-up-pending-long': () => ({ severity: 'warning', tone: 'info' }),
  'top-up-capped': () => ({ severity: 'warning', tone: 'warning' }),
  'top-up-stopped': (level) => atLeast('error', level, 'alarm'),
  'top-up-dry-run': () => ({ severity: 'info', tone: 'info' }),
  'snooze-set': () => ({ severity: 'info', tone: 'info' }),
  'snooze-ended': () => ({ severity: 'info', tone: 'info' }),
  'weekly-digest': () => ({ severity: 'info', tone: 'info' }),
  // Credit is lost unless spent: worth a look, never urgent.
  'credit-expiry': () => ({ severity: 'warning', tone: 'warning' }),
  'spike-started': () => ({ severity: 'warning', tone: 'warning' }),
  'spike-reminder': () => ({ severity: 'warning', tone: 'warning' }),
  'spike-ended': () => ({ severity: 'info', tone: 'good' }),
};

function byLevel(level: Level): { severity: Severity; tone: Tone } {
  return { severity: LEVEL_SEVERITY[level], tone: LEVEL_TONE[level] };
}

const SEVERITY_ORDER: readonly Severity[] = ['info', 'warning', 'error', 'critical'];

/** At least `floor`, and never less urgent than the balance level. */
function atLeast(floor: Severity, level: Level, tone: Tone): { severity: Severity; tone: Tone } {
  const rank = Math.max(
    SEVERITY_ORDER.indexOf(floor),
    SEVERITY_ORDER.indexOf(LEVEL_SEVERITY[level]),
  );
  return { severity: SEVERITY_ORDER[rank] ?? floor, tone };
}

// ---------------------------------------------------------------------------------------------
// Building the content

/** A notification with its free text cut to size and its amounts worded. */
interface View {
  readonly n: Notification;
  readonly cap: number;
  /** How many of the digest's accounts this copy lists. */
  readonly digestAccounts?: number;
  readonly region?: string;
  readonly functionName?: string;
  readonly label: string;
  readonly balance?: string;
  readonly warning: string;
  readonly critical?: string;
  /** Where the alert clears: the warning threshold plus the recovery margin. */
  readonly clearsAt: string;
  readonly margin: string;
  readonly failureMessage?: string;
  readonly forecastNote?: string;
}

/** A fact or a step as the builder words it, before it is marked as untrusted text. */
interface FactDraft {
  readonly label: string;
  readonly value: string;
}

interface StepDraft {
  readonly text: string;
  readonly command?: string;
  readonly note?: string;
}

interface Parts {
  readonly headline: string;
  readonly facts: readonly FactDraft[];
  readonly stepsTitle: string;
  readonly steps: readonly StepDraft[];
}

/** Builds the content of one notification: the only place that decides what it says. */
export function buildContent(n: Notification, options: ContentOptions): Content {
  const v = makeView(n, options);
  const parts = describe(v);
  const shown = n.configProblems.slice(0, MAX_CONFIG_PROBLEMS);
  const { severity, tone } = KIND_MOOD[n.kind](n.level);
  const title = titleOf(n);
  const omitted = n.kind === 'weekly-digest' ? digestOmitted(v) : 0;
  return {
    kind: n.kind,
    event: KIND_EVENT[n.kind],
    severity,
    tone,
    dedupKey: dedupKey(n),
    test: n.kind === 'test',
    account: n.account,
    level: n.level,
    reason: n.reason,
    at: n.at,
    amounts: { ...(v.balance !== undefined && { balance: v.balance }), warning: v.warning },
    thresholdParameterName: n.thresholdParameterName,
    label: untrusted(v.label),
    title: { before: untrusted(title.before), after: untrusted(title.after) },
    headline: untrusted(parts.headline),
    facts: parts.facts
      .map((f) => ({ label: untrusted(f.label), value: untrusted(f.value) }))
      .filter((f) => f.value.trim() !== ''),
    ...(n.kind === 'weekly-digest' && { factsAre: 'accounts' as const }),
    ...(omitted > 0 && { factsOmitted: omitted }),
    stepsTitle: untrusted(parts.stepsTitle),
    steps: parts.steps.map((s) => ({
      text: untrusted(s.text),
      ...(s.command !== undefined && { command: untrusted(s.command) }),
      ...(s.note !== undefined && { note: untrusted(s.note) }),
    })),
    ...(shown.length > 0 && {
      problems: {
        items: shown.map((p) =>
          untrusted(
            printable(p.message, v.cap) ||
              oneLine(p.parameterName) ||
              'a setting could not be used',
          ),
        ),
        hidden: n.configProblems.length - shown.length,
        // For a configuration problem the problems are the news: they come first.
        first: n.kind === 'config-problem',
      },
    }),
    links: [
      { label: 'Top up credits', url: TOP_UP_URL },
      ...(n.failure?.kind === 'auth' || n.failure?.kind === 'missing-key'
        ? [{ label: 'Create an API key', url: API_KEYS_URL }]
        : []),
    ],
    ...payLinkOf(n),
    footer: untrusted(`Sent by the ngrok balance alert monitor for ${v.label}.`),
  };
}

/**
 * The pay link as content, when the notification carries one whose URL may be placed;
 * nothing otherwise (the credits page link is then the way to buy, as without one).
 */
function payLinkOf(n: Notification): { payLink?: PayLinkContent } {
  const link = n.payLink;
  const url = httpsLink(link?.url);
  if (!link || url === undefined || !isAmount(link.amountCents) || link.amountCents <= 0) {
    return {};
  }
  return {
    payLink: {
      label: untrusted(payLinkLabel(link.amountCents)),
      url,
      amountCents: link.amountCents,
      expiresAt: link.expiresAt,
      note: untrusted(
        `A checkout page for this account: opening it charges nothing, you pay there. It works until ${formatTime(link.expiresAt)}.`,
      ),
    },
  };
}

/** "Buy $25 now"; cents shown only when the amount has some. */
export function payLinkLabel(amountCents: number): string {
  return `Buy ${formatCents(amountCents).replace(/\.00$/, '')} now`;
}

/**
 * What a channel says in place of the facts it could not show: "and 75 more accounts: see
 * the email or the JSON". `shown` is how many of the content's facts it showed; the facts no
 * copy carries (factsOmitted) are counted too.
 */
export function moreFacts(c: Content, shown: number): string | undefined {
  const inCopies = Math.max(0, c.facts.length - shown);
  const more = inCopies + (c.factsOmitted ?? 0);
  if (more === 0) return undefined;
  const noun =
    c.factsAre === 'accounts'
      ? more === 1
        ? 'account'
        : 'accounts'
      : more === 1
        ? 'fact'
        : 'facts';
  const omitted = c.factsOmitted ?? 0;
  // Once the email and the JSON are cut too, there is no fuller copy to point at.
  if (omitted === 0) return `and ${more} more ${noun}: see the email or the JSON`;
  const limit = `the whole list would pass the ${SNS_LIMIT_WORDS} message limit`;
  if (inCopies === 0) return `and ${more} more ${noun} not listed: ${limit}`;
  return `and ${more} more ${noun}: ${inCopies} in the email and the JSON, ${omitted} not listed anywhere (${limit})`;
}

/** How the SNS limit is named where a list had to be cut to it. */
const SNS_LIMIT_WORDS = '256 KiB SNS';

/**
 * One key per account and problem: a balance problem and a monitor failure of the same
 * account are two incidents. A test gets a key of its own per run, so it can never touch
 * (or close) a real incident.
 */
export function dedupKey(n: Pick<Notification, 'kind' | 'account' | 'at'>): string {
  const problem = KIND_PROBLEM[n.kind];
  const base = `ngrok-balance-alert/${accountTag(n.account)}/${problem}`;
  // A test and a digest are one-off messages: a key of their own per run.
  return problem === 'test' || problem === 'digest' ? `${base}/${n.at}` : base;
}

/**
 * The account as a key part: labels are normally parameter-path safe and used as they are;
 * anything else is slugged, with a hash so that two labels do not share a key.
 */
export function accountTag(account: string): string {
  if (/^[A-Za-z0-9._-]{1,64}$/.test(account)) return account;
  const slug = asciiOneLine(account)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug ? `${slug}-` : ''}${fnv1a(account)}`;
}

function makeView(n: Notification, options: ContentOptions): View {
  const cap = options.freeTextCap;
  const label = truncate(oneLine(n.account), LABEL_MAX) || '(unnamed account)';
  const { thresholdCents, criticalThresholdCents, recoveryMarginCents } = n.thresholds;
  return {
    n,
    cap,
    ...(options.digestAccounts !== undefined && { digestAccounts: options.digestAccounts }),
    ...(options.region !== undefined && { region: options.region }),
    ...(options.functionName !== undefined && { functionName: options.functionName }),
    label,
    ...(isAmount(n.balanceCents) && { balance: formatCents(n.balanceCents) }),
    warning: formatCents(thresholdCents),
    ...(isAmount(criticalThresholdCents) && { critical: formatCents(criticalThresholdCents) }),
    clearsAt: formatCents(thresholdCents + recoveryMarginCents),
    margin: formatCents(recoveryMarginCents),
    ...(n.failure !== undefined && { failureMessage: printable(n.failure.message, cap) }),
    ...(n.forecastNote !== undefined && { forecastNote: oneLine(printable(n.forecastNote, cap)) }),
  };
}

/** The words and steps for each kind of notification. */
function describe(v: View): Parts {
  const { n } = v;
  const credits = `The ngrok AI Gateway credit balance for ${v.label}`;
  switch (n.kind) {
    case 'balance-alert':
      return withSnoozeStep(v, balanceParts(v, balanceHeadline(v)));
    case 'balance-reminder':
      return withSnoozeStep(
        v,
        balanceParts(
          v,
          `Reminder: ${lowerFirstWord(balanceHeadline(v, 'still '))}` +
            (n.since ? ` It has been ${levelWord(n.level)} since ${formatTime(n.since)}.` : ''),
        ),
      );
    case 'balance-improved':
      return balanceParts(
        v,
        `${credits} improved${n.previousLevel ? ` from ${levelWord(n.previousLevel)}` : ''}, ` +
          `but it is still ${levelWord(n.level)}: ${balanceAndThreshold(v)}.`,
      );
    case 'balance-recovered':
      return {
        headline:
          `${credits} has recovered: ${v.balance ?? 'unknown'} (warning threshold ${v.warning}).` +
          (n.previousLevel
            ? ` It had been ${levelWord(n.previousLevel)}${n.since ? ` since ${formatTime(n.since)}` : ''}.`
            : '') +
          ' No action is needed.',
        facts: balanceFacts(v),
        stepsTitle: 'For reference',
        steps: [topUpAnyTimeStep(), thresholdStep(v, true)],
      };
    case 'monitor-failing':
    case 'monitor-reminder':
      return failureParts(v);
    case 'monitor-recovered':
      return {
        headline:
          `The monitor can read the ngrok AI Gateway credit balance for ${v.label} again` +
          `${n.since ? `, after failing since ${formatTime(n.since)}` : ''}.` +
          (n.level === 'ok'
            ? ' The balance is ok. No action is needed.'
            : ` The balance is ${levelWord(n.level)}: ${balanceAndThreshold(v)}.`),
        facts: balanceFacts(v),
        ...(n.level === 'ok'
          ? { stepsTitle: 'For reference', steps: [topUpAnyTimeStep(), thresholdStep(v, true)] }
          : { stepsTitle: 'What to do', steps: [topUpStep(v), thresholdStep(v)] }),
      };
    case 'config-problem':
      return {
        headline:
          `A runtime setting for ${v.label} could not be used, so the monitor is using the ` +
          'deployed default instead. Alerts keep working with the thresholds shown below.',
        facts: balanceFacts(v),
        stepsTitle: 'What to do',
        steps: [
          ...problemParameters(n).map((name) => ({
            text: `Store a whole number of cents (1000 = $10.00) in ${name}:`,
            command: putCentsCommand(v, name, 'CENTS'),
          })),
          ...(problemParameters(n).includes(n.thresholdParameterName)
            ? []
            : [thresholdStep(v, true)]),
          topUpAnyTimeStep(),
        ],
      };
    case 'test':
      return {
        headline:
          `[TEST] This is a test notification for ${v.label}. No action is needed: ` +
          'it proves that this channel receives the ngrok balance alerts.',
        facts: balanceFacts(v),
        stepsTitle: 'For reference',
        steps: [
          { text: `When a real alert comes, top up the credits at ${TOP_UP_URL}` },
          thresholdStep(v, true),
        ],
      };
    case 'top-up-started':
    case 'top-up-succeeded':
    case 'top-up-failed':
    case 'top-up-action-required':
    case 'top-up-pending-long':
    case 'top-up-capped':
    case 'top-up-stopped':
    case 'top-up-dry-run':
      return topUpParts(v, n.kind);
    case 'snooze-set':
    case 'snooze-ended':
      return snoozeParts(v);
    case 'weekly-digest':
      return digestParts(v);
    case 'credit-expiry':
      return expiryParts(v);
    case 'spike-started':
    case 'spike-reminder':
    case 'spike-ended':
      return spikeParts(v, n.kind);
    default:
      return unreachable(n.kind);
  }
}

/**
 * The title around the account label, per kind; the subject and chat renderers fit the label
 * into the hole. Amounts are kept whatever the label's length.
 */
function titleOf(n: Notification): { before: string; after: string } {
  const balance = isAmount(n.balanceCents) ? formatCents(n.balanceCents) : undefined;
  const left = balance ? `${balance} left` : 'balance unknown';
  const warning = formatCents(n.thresholds.thresholdCents);
  const critical = isAmount(n.thresholds.criticalThresholdCents)
    ? formatCents(n.thresholds.criticalThresholdCents)
    : undefined;
  const threshold =
    n.level === 'critical' && critical ? `critical threshold ${critical}` : `threshold ${warning}`;
  const hole = (before: string, after: string) => ({ before: `${before} (`, after: `)${after}` });

  const levelState = (prefix: string) => {
    if (n.level === 'empty') {
      return hole(
        `${prefix}ngrok credits EMPTY`,
        `: balance ${balance ?? 'unknown'}, requests rejected`,
      );
    }
    if (n.reason === 'runway') {
      const days = runwayWords(n);
      const run = days ? `run out in ${days}` : 'running out';
      return n.level === 'critical'
        ? hole(`${prefix}ngrok credits critical`, `: ${run}, ${left}`)
        : hole(`${prefix}ngrok credits ${run}`, `: ${left}`);
    }
    return hole(`${prefix}ngrok credits ${levelWord(n.level)}`, `: ${left}, ${threshold}`);
  };

  switch (n.kind) {
    case 'balance-alert':
      return levelState('');
    case 'balance-reminder':
      return levelState('Reminder: ');
    case 'balance-improved':
      return hole(`ngrok credits improved, still ${levelWord(n.level)}`, `: ${left}`);
    case 'balance-recovered':
      return hole('ngrok credits recovered', `: ${balance ?? 'balance unknown'}`);
    case 'monitor-failing':
    case 'monitor-reminder': {
      const prefix =
        n.kind === 'monitor-reminder' ? 'Reminder: ngrok monitor still' : 'ngrok monitor';
      const why =
        n.failure?.kind === 'auth'
          ? 'API key rejected'
          : n.failure?.kind === 'missing-key'
            ? 'API key parameter missing'
            : n.consecutiveFailures !== undefined
              ? `${n.consecutiveFailures} failed ${n.consecutiveFailures === 1 ? 'check' : 'checks'}`
              : 'check failing';
      return hole(`${prefix} cannot read the balance`, `: ${why}`);
    }
    case 'monitor-recovered':
      return hole('ngrok monitor can read the balance again', balance ? `: ${balance}` : '');
    case 'config-problem':
      return hole('ngrok balance alert config problem', ': deployed default in use');
    case 'test':
      return hole(
        '[TEST] ngrok balance alert test',
        balance ? `: ${balance}, threshold ${warning}` : '',
      );
    case 'top-up-started':
      return hole('ngrok auto top-up started', `: ${topUpAmount(n)}`);
    case 'top-up-succeeded':
      return hole(`ngrok auto top-up bought ${topUpAmount(n)}`, '');
    case 'top-up-failed':
      return hole('ngrok auto top-up FAILED', `: ${topUpAmount(n)} not bought, ${left}`);
    case 'top-up-action-required':
      return hole('ngrok auto top-up: confirm the payment', `: ${topUpAmount(n)}`);
    case 'top-up-pending-long':
      return hole('ngrok auto top-up still pending', `: ${topUpAmount(n)}`);
    case 'top-up-capped':
      return hole(
        'ngrok auto top-up stopped by the monthly cap',
        `: ${formatCents(n.topUp?.monthTotalCents ?? 0)} of ${formatCents(n.topUp?.capCents ?? 0)} bought`,
      );
    case 'top-up-stopped':
      return hole(
        'ngrok auto top-up STOPPED',
        `: ${STOP_SHORT[n.topUp?.stopReason ?? 'failures']}`,
      );
    case 'top-up-dry-run':
      return hole(`[DRY RUN] ngrok auto top-up would buy ${topUpAmount(n)}`, `: ${left}`);
    case 'snooze-set':
      return hole('ngrok alerts snoozed', `: until ${formatTime(n.snooze?.until ?? n.at)}`);
    case 'snooze-ended':
      return hole('ngrok alerts snooze ended', '');
    case 'weekly-digest': {
      const span = n.digest ? `: ${n.digest.from.slice(0, 10)} to ${n.digest.to.slice(0, 10)}` : '';
      return hole('Weekly summary of ngrok credits', span);
    }
    case 'credit-expiry': {
      const e = n.expiry;
      return hole(
        'ngrok credit expiring',
        e ? `: about ${formatCents(e.amountCents)} on ${e.expiresAt.slice(0, 10)}` : '',
      );
    }
    case 'spike-started':
    case 'spike-reminder': {
      const recent = n.spike?.recentCentsPerHour;
      const rate = recent === undefined ? undefined : `${formatAmount(recent)}/h`;
      const runs = runwayWords(n);
      const tail = [rate, runs ? `runs out in ${runs}` : left].filter(Boolean).join(', ');
      return hole(
        n.kind === 'spike-reminder' ? 'Reminder: ngrok spend spike' : 'ngrok spend spike',
        `: ${tail}`,
      );
    }
    case 'spike-ended':
      return hole('ngrok spend back to normal', balance ? `: ${balance} left` : '');
    default:
      return unreachable(n.kind);
  }
}

type TopUpKind = TopUpNotificationKind;

/** Why buying stopped, short enough for a title. */
const STOP_SHORT: Readonly<Record<StopReason, string>> = {
  failures: `${MAX_CONSECUTIVE_FAILURES} failed purchases`,
  no_default_payment_method: 'no saved card',
  metronome_not_provisioned: 'not available for this account',
  billing_disabled: 'credit billing disabled',
};

/** Why buying stopped and what brings it back, as sentences. */
const STOP_WORDS: Readonly<Record<StopReason, { why: string; fix: string }>> = {
  failures: {
    why: `${MAX_CONSECUTIVE_FAILURES} purchases failed in a row`,
    fix: `Check the saved card at ${TOP_UP_URL}, then buy credits there by hand once: a purchase by hand (or a change to the auto top-up settings) resumes auto top-up.`,
  },
  no_default_payment_method: {
    why: 'the account has no saved card to charge',
    fix: `Save a card at ${TOP_UP_URL}, then buy credits there once (or change the auto top-up settings): that resumes auto top-up.`,
  },
  metronome_not_provisioned: {
    why: 'this account cannot buy credits through the API',
    fix: `Top up by hand at ${TOP_UP_URL}; auto top-up cannot work for this account, so remove autoTopUpCents from its settings.`,
  },
  billing_disabled: {
    why: 'credit billing is disabled for this account',
    fix: `Top up by hand at ${TOP_UP_URL}; auto top-up cannot work while credit billing is disabled.`,
  },
};

/** Free text as a sentence: ends with a full stop unless it already ends a sentence. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function topUpAmount(n: Notification): string {
  return formatCents(n.topUp?.amountCents ?? 0);
}

/** What auto top-up did, in words, for each of its kinds. */
function topUpParts(v: View, kind: TopUpKind): Parts {
  const { n } = v;
  const t = n.topUp;
  const amount = topUpAmount(n);
  const id = t?.purchaseId ? ` (purchase ${printable(t.purchaseId, 100)})` : '';
  const facts: FactDraft[] = [{ label: 'Account', value: v.label }];
  const fact = (label: string, value: string | undefined) => {
    if (value) facts.push({ label, value });
  };
  fact('Purchase amount', amount);
  if (t?.purchaseId) fact('Purchase', printable(t.purchaseId, 100));
  fact('Balance', v.balance);
  if (isAmount(t?.monthTotalCents)) fact('Bought this month', formatCents(t.monthTotalCents));
  if (t) fact('Monthly cap', formatCents(t.capCents));
  if (t?.consecutiveFailures) fact('Failed purchases in a row', String(t.consecutiveFailures));
  fact('Checked at', formatTime(n.at));
  const settingsStep: StepDraft = {
    text: 'To change or turn off auto top-up, change autoTopUpCents, autoTopUpMonthlyCapCents or autoTopUpDryRun for this account and redeploy.',
  };
  const reference = (headline: string, steps: StepDraft[] = []): Parts => ({
    headline,
    facts,
    stepsTitle: 'For reference',
    steps: [...steps, settingsStep],
  });
  const todo = (headline: string, steps: StepDraft[]): Parts => ({
    headline,
    facts,
    stepsTitle: 'What to do',
    steps: [...steps, settingsStep],
  });
  switch (kind) {
    case 'top-up-started':
      return reference(
        `Auto top-up started a purchase of ${amount} of ngrok AI Gateway credits for ${v.label}${id}, charged to the card saved at ngrok. The monitor follows it and says when it goes through.`,
        [{ text: `See the purchase and the balance at ${TOP_UP_URL}` }],
      );
    case 'top-up-succeeded':
      return reference(
        `Auto top-up bought ${amount} of ngrok AI Gateway credits for ${v.label}${id}. The balance shows it within minutes.`,
        [{ text: `See the purchase and the balance at ${TOP_UP_URL}` }],
      );
    case 'top-up-failed': {
      const reason =
        [t?.failureCode, t?.failureMessage]
          .map((part) => oneLine(printable(part ?? '', v.cap)))
          .filter(Boolean)
          .join(': ') || 'no reason was given';
      return todo(
        `Auto top-up could not buy ${amount} of ngrok AI Gateway credits for ${v.label}${id}. ngrok said: ${sentence(truncate(reason, INLINE_MESSAGE_MAX))} The balance is still ${v.balance ?? 'unknown'}.`,
        [
          { text: `Check the card saved at ${TOP_UP_URL}, or top up there by hand.` },
          {
            text: `The next run that reads a low balance tries again; after ${MAX_CONSECUTIVE_FAILURES} failed purchases in a row, auto top-up stops until you buy once by hand.`,
          },
        ],
      );
    }
    case 'top-up-action-required':
      return todo(
        `The auto top-up of ${amount} for ${v.label}${id} is waiting for you: the card's bank asks for the payment to be confirmed. Nothing more is bought until it ends.`,
        [{ text: `Confirm the payment at ${TOP_UP_URL}` }],
      );
    case 'top-up-pending-long':
      return reference(
        `The auto top-up of ${amount} for ${v.label}${id} has been pending for over an hour. The monitor keeps following it and buys nothing else until it ends.`,
        [{ text: `See the purchase at ${TOP_UP_URL}` }],
      );
    case 'top-up-capped':
      return todo(
        `Auto top-up did not buy ${amount} of credits for ${v.label}: this month's purchases (${formatCents(t?.monthTotalCents ?? 0)}) plus one more would pass the monthly cap of ${formatCents(t?.capCents ?? 0)}. Nothing more is bought until next month; the balance alerts carry on.`,
        [
          {
            text: `Top up by hand at ${TOP_UP_URL}, or raise autoTopUpMonthlyCapCents and redeploy.`,
          },
        ],
      );
    case 'top-up-stopped': {
      const words = STOP_WORDS[t?.stopReason ?? 'failures'];
      return todo(
        `Auto top-up for ${v.label} has stopped buying: ${words.why}. The balance alerts carry on.`,
        [{ text: words.fix }],
      );
    }
    case 'top-up-dry-run':
      return reference(
        `[DRY RUN] Auto top-up would have bought ${amount} of ngrok AI Gateway credits for ${v.label}: the balance (${v.balance ?? 'unknown'}) is low. Nothing was bought, because autoTopUpDryRun is on.`,
        [
          {
            text: `Top up by hand at ${TOP_UP_URL}, or set autoTopUpDryRun to false to let it buy.`,
          },
        ],
      );
    default:
      return unreachable(kind);
  }
}

function unreachable(kind: never): never {
  throw new Error(`no wording for the notification kind ${String(kind)}`);
}

function balanceHeadline(v: View, still = ''): string {
  const { n } = v;
  if (n.level === 'empty') {
    return (
      `The ngrok AI Gateway credit balance for ${v.label} is ${still}EMPTY (${v.balance ?? 'unknown'}): ` +
      'AI Gateway requests are being rejected until you top up.'
    );
  }
  if (n.reason === 'runway') {
    const days = runwayWords(n);
    const when = days ? `run out in ${days}` : 'run out soon';
    const above =
      isAmount(n.balanceCents) && n.balanceCents >= n.thresholds.thresholdCents
        ? `, even though the balance (${v.balance}) is ${still}above the warning threshold (${v.warning})`
        : '';
    const critical = n.level === 'critical' ? ' This is critical.' : '';
    return `At the current rate of spending, the ngrok AI Gateway credits for ${v.label} ${when}${above}.${critical}`;
  }
  return `The ngrok AI Gateway credit balance for ${v.label} is ${still}${levelWord(n.level)}: ${balanceAndThreshold(v)}.`;
}

/** "$4.99 left (warning threshold $10.00)", naming the threshold that decides the level. */
function balanceAndThreshold(v: View): string {
  const { n } = v;
  const left = `${v.balance ?? 'unknown'} left`;
  if (n.level === 'critical' && v.critical) return `${left} (critical threshold ${v.critical})`;
  if (isHoldingLow(n)) {
    return `${left}, above the ${v.warning} warning threshold but not yet ${v.clearsAt}, where the alert clears`;
  }
  return `${left} (warning threshold ${v.warning})`;
}

/**
 * An alert stays low until the balance reaches the threshold plus the recovery margin, so a
 * low balance alert can show a balance at or above the warning threshold.
 */
function isHoldingLow(
  n: Pick<Notification, 'level' | 'reason' | 'balanceCents' | 'thresholds'>,
): boolean {
  return (
    n.level === 'low' &&
    n.reason === 'balance' &&
    isAmount(n.balanceCents) &&
    n.balanceCents >= n.thresholds.thresholdCents
  );
}

function balanceParts(v: View, headline: string): Parts {
  return {
    headline,
    facts: balanceFacts(v),
    stepsTitle: 'What to do',
    steps: [topUpStep(v), thresholdStep(v)],
  };
}

function failureParts(v: View): Parts {
  const { n } = v;
  const reminder = n.kind === 'monitor-reminder' ? 'Reminder: the' : 'The';
  const still = n.kind === 'monitor-reminder' ? 'still ' : '';
  const failure = n.failure;
  const message = v.failureMessage || 'no detail was given';
  const unconfirmed = levelKnown(v)
    ? `Until the monitor can read it again, the balance is unknown: the last known level (${levelWord(n.level)}` +
      `${v.balance ? `, ${v.balance}` : ''}) is not confirmed.`
    : 'Until the monitor can read it, the balance and its level are unknown.';
  const checkYourself: StepDraft = {
    text: `Meanwhile, check the balance yourself at ${TOP_UP_URL}`,
  };
  const storeKey = (text: string): StepDraft => ({
    text,
    command: putKeyCommand(v, n.tokenParameterName ?? 'API_KEY_PARAMETER'),
  });

  if (failure?.kind === 'auth') {
    return {
      headline:
        `${reminder} monitor ${still}cannot read the balance for ${v.label}: the ngrok.ai API key ` +
        `was rejected (401/403). ${unconfirmed}`,
      facts: balanceFacts(v),
      stepsTitle: 'What to do',
      steps: [
        { text: `Create a new API key at ${API_KEYS_URL}`, note: `The monitor said: ${message}` },
        storeKey(
          `Store it in the API key parameter for ${v.label} (the key is read from a prompt and piped in, never put on the command line):`,
        ),
        { text: 'The next scheduled check picks up the new key; nothing needs redeploying.' },
        checkYourself,
      ],
    };
  }
  if (failure?.kind === 'missing-key') {
    return {
      headline:
        `${reminder} monitor ${still}cannot read the balance for ${v.label}: its API key parameter ` +
        `does not exist. ${unconfirmed}`,
      facts: balanceFacts(v),
      stepsTitle: 'What to do',
      steps: [
        { text: `Create an API key at ${API_KEYS_URL}` },
        {
          ...storeKey('Store it where the monitor looks for it (the key is read from a prompt):'),
          note: message,
        },
        checkYourself,
      ],
    };
  }
  const checks =
    n.consecutiveFailures !== undefined
      ? ` for ${n.consecutiveFailures} consecutive ${n.consecutiveFailures === 1 ? 'check' : 'checks'}`
      : '';
  const since = n.since ? ` since ${formatTime(n.since)}` : '';
  // The sentence quotes the error on one line; a long or multi-line one is shown whole below.
  const inline = truncate(oneLine(message), INLINE_MESSAGE_MAX);
  return {
    headline:
      `${reminder} monitor ${still}cannot read the balance for ${v.label}${checks}${since}: ` +
      `${inline}; it will keep retrying. ${unconfirmed}`,
    facts: balanceFacts(v),
    stepsTitle: 'What to do',
    steps: [
      {
        text:
          'Nothing, if this clears up by itself. If it goes on, read the monitor function logs ' +
          'and check that the ngrok.ai API is up.',
        ...(inline !== message && { note: `The monitor said: ${message}` }),
      },
      checkYourself,
    ],
  };
}

/**
 * Whether a failing check has a level to recall. "ok" with no balance ever read is only the
 * starting assumption (a first run, the local check), not something the monitor saw.
 */
function levelKnown(v: View): boolean {
  return v.balance !== undefined || v.n.level !== 'ok';
}

function balanceFacts(v: View): FactDraft[] {
  const { n } = v;
  const failing = n.kind === 'monitor-failing' || n.kind === 'monitor-reminder';
  const facts: FactDraft[] = [{ label: 'Account', value: v.label }];
  const fact = (label: string, value: string) => facts.push({ label, value });
  if (failing) {
    fact('Balance', v.balance ? `${v.balance} (last known, not confirmed)` : 'unknown');
    fact('Level', levelKnown(v) ? `${levelWord(n.level)} (last known, not confirmed)` : 'unknown');
  } else {
    fact('Balance', v.balance ?? 'unknown');
    fact('Level', describeLevel(n));
  }
  fact('Warning threshold', v.warning);
  if (v.critical) fact('Critical threshold', v.critical);
  const runway = runwayText(v);
  if (runway) fact('Runway', runway);
  const spenders = topSpendersText(v);
  if (spenders && n.forecast) {
    fact(`Top access keys by spend (last ${formatWindow(n.forecast.windowDays)})`, spenders);
  }
  if (failing && n.consecutiveFailures !== undefined) {
    fact('Failed checks in a row', String(n.consecutiveFailures));
  }
  if (n.spike) {
    const rate = spikeRate(n.spike);
    if (rate) fact('Recent spend rate', rate);
    fact('Spike level', `${formatAmount(n.spike.levelCentsPerHour)}/h`);
    if (n.kind !== 'spike-ended') fact('Access keys driving it', describeDrivers(n.spike, v.cap));
  }
  if (n.since && (failing || n.kind === 'balance-reminder' || n.kind === 'spike-reminder')) {
    fact(
      failing ? 'Failing since' : n.spike ? 'Spiking since' : 'Alerting since',
      formatTime(n.since),
    );
  }
  if (n.topUpStatus) {
    // "auto top-up: buying $20.00" reads "Auto top-up: buying $20.00" as a fact.
    const status = oneLine(printable(n.topUpStatus, v.cap)).replace(/^auto top-up:?\s*/i, '');
    if (status) fact('Auto top-up', status);
  }
  fact('Checked at', formatTime(n.at));
  return facts;
}

/** The level in words, with the reason; shared with the local check's report. */
export function describeLevel(
  n: Pick<Notification, 'level' | 'reason' | 'balanceCents' | 'thresholds'>,
): string {
  switch (n.level) {
    case 'ok':
      return 'ok';
    case 'empty':
      return 'EMPTY: AI Gateway requests are being rejected';
    case 'critical':
      return n.reason === 'runway'
        ? 'critical (the credits are forecast to run out soon)'
        : 'critical (below the critical threshold)';
    case 'low': {
      if (n.reason === 'runway') return 'low (the credits are forecast to run out soon)';
      const { thresholdCents, recoveryMarginCents } = n.thresholds;
      return isHoldingLow(n)
        ? `low until the balance reaches ${formatCents(thresholdCents + recoveryMarginCents)} (the warning threshold plus the ${formatCents(recoveryMarginCents)} recovery margin)`
        : 'low (below the warning threshold)';
    }
  }
}

/**
 * "about 2.6 hours", "about 1.9 days": the shorter runway (in hours under two days) when a
 * recent rate is known, else the forecast's; undefined when nothing is being spent.
 */
function runwayWords(n: Pick<Notification, 'runway' | 'forecast'>): string | undefined {
  // Without a recent rate the runway is the forecast's, worded as the Runway fact words it.
  if (!n.runway?.recent.known) return runwayDays(n.forecast);
  const hours = n.runway.hours;
  return hours !== null && Number.isFinite(hours) && hours > 0
    ? formatRunwayHours(hours)
    : undefined;
}

function runwayText(v: View): string | undefined {
  if (v.n.runway?.recent.known) return formatRunwayText(v.n.runway);
  if (v.n.forecast) return formatRunway(v.n.forecast);
  if (v.forecastNote) {
    return /^forecast unavailable/i.test(v.forecastNote)
      ? v.forecastNote
      : `forecast unavailable: ${v.forecastNote}`;
  }
  return undefined;
}

function topSpendersText(v: View): string | undefined {
  return v.n.forecast ? describeTopSpenders(v.n.forecast, v.cap) : undefined;
}

/**
 * "ak_1 $12.40 (62%), ak_2 $5.60 (28%)": up to three access keys by spend, each label cut to
 * `cap` (at most 100) characters; undefined when nobody spent anything.
 */
export function describeTopSpenders(forecast: Forecast, cap = 100): string | undefined {
  if (forecast.topSpenders.length === 0) return undefined;
  return forecast.topSpenders
    .slice(0, 3)
    .map(
      (s) =>
        `${truncate(keyLabel(s), Math.min(cap, 100))} ${formatCents(s.costCents)} (${formatShare(s.share)})`,
    )
    .join(', ');
}

/** An access key as people know it: its name, else its id. */
function keyLabel(key: { readonly accessKey: string; readonly name?: string }): string {
  return oneLine(key.name ?? '') || oneLine(key.accessKey) || '(unnamed key)';
}

/** "$160/h over the last 30 minutes"; undefined when no recent rate was measured. */
function spikeRate(spike: SpikeReport | undefined): string | undefined {
  if (spike?.recentCentsPerHour === undefined) return undefined;
  const over =
    spike.windowMinutes === undefined ? '' : ` over the last ${formatMinutes(spike.windowMinutes)}`;
  return `${formatAmount(spike.recentCentsPerHour)}/h${over}`;
}

/**
 * "batch-worker $150/h today (usually $0.40/h), ak_2 $5/h today (new)": the keys driving a
 * spike by name, each cut to `cap` (at most 100) characters; or why they are unknown.
 */
export function describeDrivers(spike: SpikeReport, cap = 100): string {
  if (spike.drivers.length === 0) {
    return spike.driversNote
      ? `unknown: ${oneLine(printable(spike.driversNote, cap))}`
      : 'no access key spends faster today than its own average';
  }
  return spike.drivers
    .map((d) => {
      const usual =
        d.averageCentsPerHour > 0 ? `usually ${formatAmount(d.averageCentsPerHour)}/h` : 'new';
      return `${truncate(keyLabel(d), Math.min(cap, 100))} ${formatAmount(d.todayCentsPerHour)}/h today (${usual})`;
    })
    .join(', ');
}

/** The words and steps of the three spike kinds. */
function spikeParts(v: View, kind: 'spike-started' | 'spike-reminder' | 'spike-ended'): Parts {
  const { n } = v;
  const spike = n.spike;
  const rate = spikeRate(spike);
  const over = n.forecast ? ` over the last ${formatWindow(n.forecast.windowDays)}` : '';
  const average =
    spike?.averageDailyCents === undefined
      ? ''
      : `; the average${over} is ${formatAmount(spike.averageDailyCents)}/day`;
  const settingsStep: StepDraft = {
    text:
      'To change when spend counts as a spike, redeploy with spikeFactor (times the 7-day ' +
      'average; 0 turns spike alerts off) or spikeMinCentsPerHour.',
  };
  if (kind === 'spike-ended') {
    const level = spike
      ? ` below half the spike level of ${formatAmount(spike.levelCentsPerHour)}/h`
      : '';
    return {
      headline:
        `Spend on the ngrok AI Gateway credits for ${v.label} is back to normal${rate ? `: ${rate},` : ','}` +
        `${level} for an hour` +
        `${n.since ? `, after a spike that started ${formatTime(n.since)}` : ''}. No action is needed.`,
      facts: balanceFacts(v),
      stepsTitle: 'For reference',
      steps: [topUpAnyTimeStep(), settingsStep],
    };
  }
  const runs = runwayWords(n);
  const drivers =
    spike && spike.drivers.length > 0 ? ` Driving it: ${describeDrivers(spike, v.cap)}.` : '';
  const opening =
    kind === 'spike-reminder'
      ? `Reminder: spend on the ngrok AI Gateway credits for ${v.label} is still spiking` +
        `${n.since ? ` (since ${formatTime(n.since)})` : ''}`
      : `Spend on the ngrok AI Gateway credits for ${v.label} has spiked`;
  return {
    headline:
      `${opening}${rate ? `: ${rate}${average}` : ''}.` +
      (runs ? ` At this rate the credits run out in ${runs}.` : '') +
      drivers,
    facts: balanceFacts(v),
    stepsTitle: 'What to do',
    steps: [
      {
        text: `Check the access keys driving it at ${ACCESS_KEYS_URL}; revoke or rotate a key you do not recognise.`,
      },
      topUpAnyTimeStep(),
      settingsStep,
    ],
  };
}

function topUpStep(v: View): StepDraft {
  return {
    text: `Top up the credits at ${TOP_UP_URL}`,
    ...(v.n.reason === 'balance' && {
      note: `The alert clears once the balance is at least ${v.clearsAt} (the ${v.warning} warning threshold plus a ${v.margin} recovery margin).`,
    }),
  };
}

function topUpAnyTimeStep(): StepDraft {
  return { text: `Top up the credits any time at ${TOP_UP_URL}` };
}

/** How to change the warning threshold; `reference` when nothing is wrong. */
function thresholdStep(v: View, reference = false): StepDraft {
  const example = `${wholeCents(v.n.thresholds.thresholdCents)} = ${v.warning}`;
  return {
    text: reference
      ? `To be alerted at a different balance, change the warning threshold (now ${v.warning}); the value is in whole cents (${example}):`
      : `To change the warning threshold (now ${v.warning}), run this with the new amount in whole cents (${example}):`,
    command: putThresholdCommand(v),
  };
}

/**
 * `--region` always: with another default region in the reader's CLI, put-parameter would
 * succeed in the wrong region and the monitor would never see the change.
 */
function regionOption(v: View): string {
  return `--region ${v.region ?? 'YOUR_REGION'}`;
}

function putThresholdCommand(v: View): string {
  return putCentsCommand(v, v.n.thresholdParameterName, wholeCents(v.n.thresholds.thresholdCents));
}

function putCentsCommand(v: View, parameterName: string, value: string): string {
  return (
    `aws ssm put-parameter ${regionOption(v)} --name ${parameterName} ` +
    `--type String --value ${value} --overwrite`
  );
}

/** The parameters a configuration problem names, each once, as many as are listed. */
function problemParameters(n: Notification): string[] {
  const names = n.configProblems.slice(0, MAX_CONFIG_PROBLEMS).map((p) => oneLine(p.parameterName));
  return [...new Set(names)].filter(Boolean);
}

/**
 * Reads the key without echoing it and pipes it in: `printf` is a shell builtin, so the key
 * never appears in the process list, and AWS CLI v2 reads `file:///dev/stdin` as the value
 * (without the trailing newline `echo` would add).
 */
function putKeyCommand(v: View, parameterName: string): string {
  return (
    `read -rs NGROK_API_KEY && printf '%s' "$NGROK_API_KEY" | aws ssm put-parameter ${regionOption(v)} ` +
    `--name ${parameterName} --type SecureString --value file:///dev/stdin --overwrite`
  );
}

// ---------------------------------------------------------------------------------------------
// Snooze, weekly digest, expiring credit

function functionAddress(v: View): FunctionAddress {
  return { region: v.region ?? 'YOUR_REGION', functionName: v.functionName ?? 'YOUR_FUNCTION' };
}

/** Every balance alert and reminder ends with the command that snoozes it for a day. */
function withSnoozeStep(v: View, parts: Parts): Parts {
  return {
    ...parts,
    steps: [
      ...parts.steps,
      {
        text:
          'Already handled? Snooze reminders for this account for a day (a higher level, a ' +
          'rejected API key or a failed top-up still alert):',
        command: snoozeForADayCommand(functionAddress(v), v.n),
      },
    ],
  };
}

function snoozeParts(v: View): Parts {
  const { n } = v;
  const until = formatTime(n.snooze?.until ?? n.at);
  const noteText = oneLine(n.snooze?.note ?? '');
  const note = noteText === '' ? '' : ` Note: "${noteText}".`;
  const facts: FactDraft[] = [
    { label: 'Account', value: v.label },
    { label: 'Level', value: levelWord(n.level) },
    { label: n.kind === 'snooze-set' ? 'Snoozed until' : 'Snooze ended at', value: until },
  ];
  if (noteText !== '') facts.push({ label: 'Note', value: noteText });
  if (n.kind === 'snooze-set') {
    return {
      headline:
        `${v.label} is snoozed until ${until}.${note} Reminders and repeat alerts are held ` +
        'until then; a higher level, a rejected API key or a failed top-up still alert at once. ' +
        'If a problem is still there when the snooze ends, one reminder goes out.',
      facts,
      stepsTitle: 'For reference',
      steps: [
        {
          text: 'To end the snooze early:',
          command: snoozeCommand(functionAddress(v), n.account, null),
        },
        topUpAnyTimeStep(),
      ],
    };
  }
  return {
    headline:
      `The snooze of ${v.label} was ended at ${until}.${note} Alerts and reminders are sent ` +
      'again; if a problem is still there, one reminder goes out at the next check.',
    facts,
    stepsTitle: 'For reference',
    steps: [topUpAnyTimeStep()],
  };
}

function digestParts(v: View): Parts {
  const digest = v.n.digest;
  const span = digest ? `, ${digest.from.slice(0, 10)} to ${digest.to.slice(0, 10)}` : '';
  return {
    headline:
      `Weekly summary of ngrok credits${span} (informational: nothing to do unless a line ` +
      'below says so).',
    facts: digestAccounts(v).map((a) => ({
      label: truncate(oneLine(a.account), LABEL_MAX),
      value: digestAccountLines(a, v.cap).join(' '),
    })),
    stepsTitle: 'For reference',
    steps: [topUpAnyTimeStep()],
  };
}

const LEVEL_RANK: Readonly<Record<Level, number>> = { empty: 0, critical: 1, low: 2, ok: 3 };

/**
 * The digest's accounts, the ones that need a look first (empty, critical, low, then ok; in
 * configured order within a level): a channel that cannot show them all cuts the quiet ones.
 */
function digestAccounts(v: View): readonly DigestAccount[] {
  const all = [...(v.n.digest?.accounts ?? [])].sort(
    (a, b) => LEVEL_RANK[a.level] - LEVEL_RANK[b.level],
  );
  return v.digestAccounts === undefined ? all : all.slice(0, Math.max(0, v.digestAccounts));
}

/** How many of the digest's accounts this copy leaves out. */
function digestOmitted(v: View): number {
  return (v.n.digest?.accounts.length ?? 0) - digestAccounts(v).length;
}

/** One account of the weekly digest, a sentence per line. */
export function digestAccountLines(a: DigestAccount, cap = 100): string[] {
  const money = (cents: number | undefined) =>
    cents === undefined ? 'unknown' : formatCents(cents);
  const lines = [
    `${money(a.balanceCents)} now (${levelWord(a.level)}), ${money(a.weekAgoCents)} a week ago.`,
  ];
  if (a.week) {
    const added = a.week.addedCents > 0 ? `, ${formatCents(a.week.addedCents)} added` : '';
    lines.push(
      `Spent about ${formatCents(a.week.spentCents)}${added}; ` +
        `${a.week.alerts} alert(s), ${a.week.topUps} top-up(s) this week.`,
    );
  } else {
    lines.push('No totals yet: this account was added during the week.');
  }
  if (a.forecast) {
    const runway =
      a.forecast.runwayDays === null
        ? 'no spend, so no runway estimate'
        : `${formatRunwayDays(a.forecast.runwayDays)} left at the recent rate`;
    lines.push(`Runway: ${runway}.`);
    const keys = describeTopSpenders(a.forecast, cap);
    if (keys) lines.push(`Top access keys (last ${formatWindow(a.forecast.windowDays)}): ${keys}.`);
  }
  if (a.snooze) {
    const noteText = oneLine(a.snooze.note ?? '');
    const note = noteText === '' ? '' : ` ("${noteText}")`;
    lines.push(`Snoozed until ${formatTime(a.snooze.until)}${note}.`);
  }
  return lines;
}

function expiryParts(v: View): Parts {
  const { n } = v;
  const e = n.expiry;
  if (!e) throw new Error('a credit-expiry notification needs its expiry');
  const credit = e.category === 'promotional' ? 'promotional credit granted' : 'credit bought';
  const expires = e.expiresAt.slice(0, 10);
  return {
    headline:
      `About ${formatCents(e.amountCents)} of ${credit} on ${e.createdAt.slice(0, 10)} ` +
      `expires on ${expires} unless spent. ${ASSUMPTION}` +
      (e.final ? '' : ` A last reminder follows ${FINAL_WARNING_DAYS} days before.`),
    facts: [
      { label: 'Account', value: v.label },
      { label: 'Balance', value: v.balance ?? 'unknown' },
      { label: 'Expiring credit', value: `about ${formatCents(e.amountCents)}` },
      { label: 'Expires', value: formatTime(e.expiresAt) },
    ],
    stepsTitle: 'For reference',
    steps: [
      {
        text:
          'Nothing needs doing: spend it before then if you can. Credit not spent by then is ' +
          'lost, and the balance drops by that much.',
      },
      { text: `See the credits and when they expire at ${TOP_UP_URL}` },
    ],
  };
}
