/**
 * Renders one Notification for every channel of the SNS topic: the email text, the Amazon Q
 * Developer in chat applications custom notification (Slack), and a machine-readable object
 * for Lambda and SQS subscribers. Pure: no AWS SDK, no clock, no I/O.
 */

import { formatRunway, formatRunwayDays, formatShare, formatWindow } from './forecast.ts';
import { formatCents } from './money.ts';
import { cutAt, oneLine } from './text.ts';
import type {
  CheckFailure,
  ConfigProblem,
  Forecast,
  Level,
  LevelReason,
  Notification,
  NotificationKind,
} from './types.ts';

/** Where a person adds credits. */
export const TOP_UP_URL = 'https://app.ngrok.ai/credits';
/** Where a person creates a new ngrok.ai API key. */
export const API_KEYS_URL = 'https://app.ngrok.ai';

/** SNS rejects a Subject of 100 characters or more. */
export const SUBJECT_MAX_LENGTH = 99;
/** SNS rejects a Publish whose message (with its attributes) exceeds 256 KiB. */
export const SNS_MAX_BYTES = 262_144;
/** What the Message may use; the rest is left for the attributes and the Subject. */
export const MESSAGE_BUDGET_BYTES = SNS_MAX_BYTES - 4_096;

/**
 * Our own caps for the chat payload. The Amazon Q documentation gives no length limits that we
 * could find; Slack cuts long messages, so the chat copy stays short and the email and the
 * structured copy carry the full text.
 */
export const CHAT_TITLE_MAX = 150;
export const CHAT_DESCRIPTION_MAX = 3_000;
const CHAT_FREE_TEXT_MAX = 400;
const CHAT_KEYWORD_MAX = 64;

/** Free text that comes from outside (error bodies, parameter values) is cut to this first. */
const FREE_TEXT_CAPS = [4_000, 1_000, 200, 40] as const;
/** A failure message quoted inside a sentence is cut to this; the whole one follows below. */
const INLINE_MESSAGE_MAX = 300;
/** At most this many configuration problems are listed one by one. */
const MAX_CONFIG_PROBLEMS = 10;
/** Account labels are deploy-time names; a longer one is cut in the human-readable copies. */
const LABEL_MAX = 200;

/**
 * Amazon Q Developer in chat applications custom notification, as documented in
 * https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
 * (version "1.0" and source "custom" required; textType "client-markdown" is the only one
 * supported). The tests check every rendered payload against a schema written from that page.
 */
export interface AmazonQCustomNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps?: readonly string[];
    readonly keywords?: readonly string[];
  };
  readonly metadata: {
    /** Notifications with the same threadId go into one chat thread: one thread per account. */
    readonly threadId: string;
    readonly summary: string;
    readonly eventType: string;
    readonly relatedResources: readonly string[];
    readonly additionalContext: Readonly<Record<string, string>>;
  };
}

/** Machine-readable copy for Lambda and SQS subscribers (the Slack webhook renders from it). */
export interface StructuredNotification {
  readonly schema: 'ngrok-balance-alert.notification.v1';
  readonly kind: NotificationKind;
  readonly test: boolean;
  readonly account: string;
  readonly level: Level;
  readonly reason: LevelReason;
  readonly previousLevel?: Level;
  readonly balanceCents?: number;
  readonly thresholdCents: number;
  readonly criticalThresholdCents?: number;
  readonly recoveryMarginCents: number;
  readonly forecast?: Forecast;
  readonly forecastNote?: string;
  readonly failure?: CheckFailure;
  readonly consecutiveFailures?: number;
  readonly since?: string;
  readonly configProblems: readonly ConfigProblem[];
  readonly at: string;
  readonly subject: string;
  readonly text: string;
  readonly topUpUrl: string;
}

export interface RenderedNotification {
  /** SNS Subject: printable ASCII, one line, 1..99 characters. */
  readonly subject: string;
  /** Plain text for email: what happened and what to do. */
  readonly text: string;
  readonly chat: AmazonQCustomNotification;
  readonly structured: StructuredNotification;
}

export interface SnsPublishFields {
  readonly Subject: string;
  readonly Message: string;
  readonly MessageStructure: 'json';
  readonly MessageAttributes: {
    readonly account: { readonly DataType: 'String'; readonly StringValue: string };
  };
}

/** Renders one notification for every channel, within the SNS size limit. */
export function renderNotification(n: Notification): RenderedNotification {
  let rendered: RenderedNotification | undefined;
  for (const cap of FREE_TEXT_CAPS) {
    rendered = renderWithCap(n, cap);
    if (utf8Bytes(buildMessage(rendered)) <= MESSAGE_BUDGET_BYTES) return rendered;
  }
  // Only an absurdly long account label gets here; the smallest rendering is the best we have.
  return rendered as RenderedNotification;
}

/** Builds the SNS Publish input fields: one publish per notification, MessageStructure json. */
export function toSnsPublish(r: RenderedNotification, account: string): SnsPublishFields {
  return {
    Subject: r.subject,
    Message: buildMessage(r),
    MessageStructure: 'json',
    MessageAttributes: { account: { DataType: 'String', StringValue: account } },
  };
}

/**
 * The per-protocol message. Amazon Q requires `default` (it subscribes over https) and drops
 * anything it cannot parse, so `default` and `https` carry the chat notification.
 */
function buildMessage(r: RenderedNotification): string {
  const chat = JSON.stringify(r.chat);
  const structured = JSON.stringify(r.structured);
  return JSON.stringify({
    default: chat,
    email: r.text,
    https: chat,
    lambda: structured,
    sqs: structured,
    'email-json': structured,
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** A notification whose free text has been cut to size, plus the values every channel shows. */
interface View {
  readonly n: Notification;
  readonly cap: number;
  /** The account label for people: one line, at most LABEL_MAX characters, never empty. */
  readonly label: string;
  readonly balance?: string;
  readonly warning: string;
  readonly critical?: string;
  /** Where the alert clears: the warning threshold plus the recovery margin. */
  readonly clearsAt: string;
  readonly margin: string;
  readonly failureMessage?: string;
  readonly forecastNote?: string;
  readonly configProblems: readonly string[];
  readonly hiddenConfigProblems: number;
}

/** What a notification says, before it is laid out for a channel. */
interface Parts {
  /** One to three sentences: what happened. */
  readonly headline: string;
  /** Short "Name: value" facts. */
  readonly facts: readonly (readonly [string, string])[];
  /** "What to do", or "For reference" when nothing needs doing. */
  readonly stepsTitle: string;
  readonly steps: readonly Step[];
}

interface Step {
  readonly text: string;
  /** A command to copy, shown on its own line. */
  readonly command?: string;
  /** More about the step, shown under it: the alert's clearing point, the monitor's own words. */
  readonly note?: string;
}

function renderWithCap(n: Notification, cap: number): RenderedNotification {
  const view = makeView(n, cap);
  const parts = describe(view);
  const subject = renderSubject(n);
  const text = renderText(view, parts);
  const chat = renderChat(view, parts, subject);
  const structured: StructuredNotification = {
    schema: 'ngrok-balance-alert.notification.v1',
    kind: n.kind,
    test: n.kind === 'test',
    account: n.account,
    level: n.level,
    reason: n.reason,
    ...(n.previousLevel !== undefined && { previousLevel: n.previousLevel }),
    ...(n.balanceCents !== undefined && { balanceCents: n.balanceCents }),
    thresholdCents: n.thresholds.thresholdCents,
    ...(n.thresholds.criticalThresholdCents !== undefined && {
      criticalThresholdCents: n.thresholds.criticalThresholdCents,
    }),
    recoveryMarginCents: n.thresholds.recoveryMarginCents,
    ...(n.forecast !== undefined && {
      forecast: {
        ...n.forecast,
        topSpenders: n.forecast.topSpenders.map((s) => ({
          ...s,
          accessKey: truncate(s.accessKey, cap),
        })),
      },
    }),
    ...(view.forecastNote !== undefined && { forecastNote: view.forecastNote }),
    ...(n.failure !== undefined && {
      failure: { kind: n.failure.kind, message: view.failureMessage ?? '' },
    }),
    ...(n.consecutiveFailures !== undefined && { consecutiveFailures: n.consecutiveFailures }),
    ...(n.since !== undefined && { since: n.since }),
    configProblems: n.configProblems.slice(0, MAX_CONFIG_PROBLEMS).map((p) => ({
      parameterName: truncate(p.parameterName, cap),
      message: truncate(p.message, cap),
    })),
    at: n.at,
    subject,
    text,
    topUpUrl: TOP_UP_URL,
  };
  return { subject, text, chat, structured };
}

function makeView(n: Notification, cap: number): View {
  const label = truncate(oneLine(n.account), LABEL_MAX) || '(unnamed account)';
  const shown = n.configProblems.slice(0, MAX_CONFIG_PROBLEMS);
  const { thresholdCents, criticalThresholdCents, recoveryMarginCents } = n.thresholds;
  return {
    n,
    cap,
    label,
    ...(isAmount(n.balanceCents) && { balance: formatCents(n.balanceCents) }),
    warning: formatCents(thresholdCents),
    ...(isAmount(criticalThresholdCents) && { critical: formatCents(criticalThresholdCents) }),
    clearsAt: formatCents(thresholdCents + recoveryMarginCents),
    margin: formatCents(recoveryMarginCents),
    ...(n.failure !== undefined && { failureMessage: printable(n.failure.message, cap) }),
    ...(n.forecastNote !== undefined && { forecastNote: oneLine(printable(n.forecastNote, cap)) }),
    configProblems: shown.map((p) => printable(p.message, cap) || p.parameterName),
    hiddenConfigProblems: n.configProblems.length - shown.length,
  };
}

/** The words and steps for each kind of notification. */
function describe(v: View): Parts {
  const { n } = v;
  const credits = `The ngrok AI Gateway credit balance for ${v.label}`;
  switch (n.kind) {
    case 'balance-alert':
      return balanceParts(v, balanceHeadline(v));
    case 'balance-reminder':
      return balanceParts(
        v,
        `Reminder: ${lowerFirstWord(balanceHeadline(v, 'still '))}` +
          (n.since ? ` It has been ${levelWord(n.level)} since ${formatTime(n.since)}.` : ''),
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
          ? {
              stepsTitle: 'For reference',
              steps: [topUpAnyTimeStep(), thresholdStep(v, true)],
            }
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
          {
            text:
              'Fix each parameter named above. Amounts are whole cents (1000 = $10.00); ' +
              `for the warning threshold (now ${v.warning}):`,
            command: putThresholdCommand(n.thresholdParameterName, n.thresholds.thresholdCents),
          },
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
  }
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
    const days = runwayDays(n.forecast);
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
function isHoldingLow(n: Notification): boolean {
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
  const unconfirmed =
    `Until the monitor can read it again, the balance is unknown: the last known level (${levelWord(n.level)}` +
    `${v.balance ? `, ${v.balance}` : ''}) is not confirmed.`;
  const checkYourself: Step = { text: `Meanwhile, check the balance yourself at ${TOP_UP_URL}` };

  if (failure?.kind === 'auth') {
    return {
      headline:
        `${reminder} monitor ${still}cannot read the balance for ${v.label}: the ngrok.ai API key ` +
        `was rejected (401/403). ${unconfirmed}`,
      facts: balanceFacts(v),
      stepsTitle: 'What to do',
      steps: [
        { text: `Create a new API key at ${API_KEYS_URL}`, note: `The monitor said: ${message}` },
        {
          text: `Store it in the API key parameter for ${v.label} (read the key from a prompt, not the command line):`,
          command:
            `read -rs NGROK_API_KEY && aws ssm put-parameter --name ${n.tokenParameterName ?? '<API key parameter>'} ` +
            '--type SecureString --value "$NGROK_API_KEY" --overwrite',
        },
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
        { text: 'Store it where the monitor looks for it:', note: message },
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

function balanceFacts(v: View): [string, string][] {
  const { n } = v;
  const failing = n.kind === 'monitor-failing' || n.kind === 'monitor-reminder';
  const facts: [string, string][] = [['Account', v.label]];
  if (failing) {
    facts.push(['Balance', v.balance ? `${v.balance} (last known, not confirmed)` : 'unknown']);
    facts.push(['Level', `${levelWord(n.level)} (last known, not confirmed)`]);
  } else {
    facts.push(['Balance', v.balance ?? 'unknown']);
    facts.push(['Level', levelDescription(v)]);
  }
  facts.push(['Warning threshold', v.warning]);
  if (v.critical) facts.push(['Critical threshold', v.critical]);
  const runway = runwayText(v);
  if (runway) facts.push(['Runway', runway]);
  const spenders = topSpendersText(n.forecast, v.cap);
  if (spenders) {
    facts.push([
      `Top access keys by spend (last ${formatWindow(n.forecast?.windowDays ?? 0)})`,
      spenders,
    ]);
  }
  if (failing && n.consecutiveFailures !== undefined) {
    facts.push(['Failed checks in a row', String(n.consecutiveFailures)]);
  }
  if (n.since && (failing || n.kind === 'balance-reminder')) {
    facts.push([failing ? 'Failing since' : 'Alerting since', formatTime(n.since)]);
  }
  facts.push(['Checked at', formatTime(n.at)]);
  return facts;
}

function levelDescription(v: View): string {
  const { n } = v;
  switch (n.level) {
    case 'ok':
      return 'ok';
    case 'empty':
      return 'EMPTY: AI Gateway requests are being rejected';
    case 'critical':
      return n.reason === 'runway'
        ? 'critical (the credits are forecast to run out soon)'
        : 'critical (below the critical threshold)';
    case 'low':
      if (n.reason === 'runway') return 'low (the credits are forecast to run out soon)';
      return isHoldingLow(n)
        ? `low until the balance reaches ${v.clearsAt} (the warning threshold plus the ${v.margin} recovery margin)`
        : 'low (below the warning threshold)';
  }
}

function runwayText(v: View): string | undefined {
  if (v.n.forecast) return formatRunway(v.n.forecast);
  if (v.forecastNote) {
    return /^forecast unavailable/i.test(v.forecastNote)
      ? v.forecastNote
      : `forecast unavailable: ${v.forecastNote}`;
  }
  return undefined;
}

function topSpendersText(forecast: Forecast | undefined, cap: number): string | undefined {
  if (!forecast || forecast.topSpenders.length === 0) return undefined;
  return forecast.topSpenders
    .slice(0, 3)
    .map(
      (s) =>
        `${truncate(oneLine(s.accessKey), Math.min(cap, 100))} ${formatCents(s.costCents)} (${formatShare(s.share)})`,
    )
    .join(', ');
}

function topUpStep(v: View): Step {
  return {
    text: `Top up the credits at ${TOP_UP_URL}`,
    ...(v.n.reason === 'balance' && {
      note: `The alert clears once the balance is at least ${v.clearsAt} (the ${v.warning} warning threshold plus a ${v.margin} recovery margin).`,
    }),
  };
}

function topUpAnyTimeStep(): Step {
  return { text: `Top up the credits any time at ${TOP_UP_URL}` };
}

/** How to change the warning threshold; `reference` when nothing is wrong. */
function thresholdStep(v: View, reference = false): Step {
  const example = `${wholeCents(v.n.thresholds.thresholdCents)} = ${v.warning}`;
  return {
    text: reference
      ? `To be alerted at a different balance, change the warning threshold (now ${v.warning}); the value is in whole cents (${example}):`
      : `To change the warning threshold (now ${v.warning}), run this with the new amount in whole cents (${example}):`,
    command: putThresholdCommand(v.n.thresholdParameterName, v.n.thresholds.thresholdCents),
  };
}

function putThresholdCommand(parameterName: string, cents: number): string {
  return `aws ssm put-parameter --name ${parameterName} --type String --value ${wholeCents(cents)} --overwrite`;
}

// ---------------------------------------------------------------------------------------------
// Subject

/**
 * The SNS Subject. Built from a template with the label as a hole, so that a long label is cut
 * and the amounts are kept.
 */
function renderSubject(n: Notification): string {
  const template = subjectTemplate(n);
  const label = asciiOneLine(n.account) || 'unnamed';
  const room = SUBJECT_MAX_LENGTH - template('').length;
  const fitted =
    label.length <= room ? label : room >= 4 ? `${label.slice(0, room - 3).trimEnd()}...` : '';
  const subject = asciiOneLine(template(fitted));
  return subject.length <= SUBJECT_MAX_LENGTH
    ? subject
    : `${subject.slice(0, SUBJECT_MAX_LENGTH - 3)}...`;
}

function subjectTemplate(n: Notification): (label: string) => string {
  const balance = isAmount(n.balanceCents) ? formatCents(n.balanceCents) : undefined;
  const left = balance ? `${balance} left` : 'balance unknown';
  const warning = formatCents(n.thresholds.thresholdCents);
  const critical = isAmount(n.thresholds.criticalThresholdCents)
    ? formatCents(n.thresholds.criticalThresholdCents)
    : undefined;
  const threshold =
    n.level === 'critical' && critical ? `critical threshold ${critical}` : `threshold ${warning}`;

  const levelState = (label: string): string => {
    if (n.level === 'empty') {
      return `ngrok credits EMPTY (${label}): balance ${balance ?? 'unknown'}, requests rejected`;
    }
    if (n.reason === 'runway') {
      const days = runwayDays(n.forecast);
      const run = days ? `run out in ${days}` : 'running out';
      return n.level === 'critical'
        ? `ngrok credits critical (${label}): ${run}, ${left}`
        : `ngrok credits ${run} (${label}): ${left}`;
    }
    return `ngrok credits ${levelWord(n.level)} (${label}): ${left}, ${threshold}`;
  };

  switch (n.kind) {
    case 'balance-alert':
      return levelState;
    case 'balance-reminder':
      return (label) => `Reminder: ${levelState(label)}`;
    case 'balance-improved':
      return (label) => `ngrok credits improved, still ${levelWord(n.level)} (${label}): ${left}`;
    case 'balance-recovered':
      return (label) => `ngrok credits recovered (${label}): ${balance ?? 'balance unknown'}`;
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
      return (label) => `${prefix} cannot read the balance (${label}): ${why}`;
    }
    case 'monitor-recovered':
      return (label) =>
        `ngrok monitor can read the balance again (${label})${balance ? `: ${balance}` : ''}`;
    case 'config-problem':
      return (label) => `ngrok balance alert config problem (${label}): deployed default in use`;
    case 'test':
      return (label) =>
        `[TEST] ngrok balance alert test (${label})${balance ? `: ${balance}, threshold ${warning}` : ''}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Email text

function renderText(v: View, parts: Parts): string {
  const lines: string[] = [parts.headline];
  const problems = configProblemLines(v);
  // For a configuration problem the problems are the news: they come first.
  if (v.n.kind === 'config-problem') lines.push('', ...problems);
  lines.push('', ...parts.facts.map(([name, value]) => `${name}: ${value}`));
  lines.push('', `${parts.stepsTitle}:`);
  for (const step of parts.steps) {
    lines.push(`- ${step.text}`);
    if (step.command) lines.push(`    ${step.command}`);
    if (step.note) lines.push(indent(step.note, '    '));
  }
  if (v.n.kind !== 'config-problem' && problems.length > 0) lines.push('', ...problems);
  lines.push('', `Sent by the ngrok balance alert monitor for ${v.label}.`);
  return `${lines.join('\n')}\n`;
}

function configProblemLines(v: View): string[] {
  if (v.configProblems.length === 0) return [];
  return [
    'Configuration problems (the deployed defaults are in use until they are fixed):',
    ...v.configProblems.map((p) => `- ${indent(p, '  ').trimStart()}`),
    ...(v.hiddenConfigProblems > 0 ? [`- and ${v.hiddenConfigProblems} more`] : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Chat (Amazon Q Developer in chat applications)

function renderChat(v: View, parts: Parts, subject: string): AmazonQCustomNotification {
  const { n } = v;
  const problems: string[] = [];
  if (v.configProblems.length > 0) {
    problems.push('*Configuration problems (the deployed defaults are in use):*');
    for (const p of v.configProblems) problems.push(`- ${chatSafe(p, CHAT_FREE_TEXT_MAX)}`);
    if (v.hiddenConfigProblems > 0) problems.push(`- and ${v.hiddenConfigProblems} more`);
  }
  const facts = parts.facts
    .filter(([name]) => name !== 'Account')
    .map(([name, value]) => `*${name}:* ${chatSafe(value, CHAT_FREE_TEXT_MAX)}`);
  const description = [chatSafe(parts.headline, CHAT_DESCRIPTION_MAX)];
  if (n.kind === 'config-problem') description.push('', ...problems, '', ...facts);
  else description.push('', ...facts, ...(problems.length > 0 ? ['', ...problems] : []));
  const nextSteps = parts.steps.map((s) => {
    let step = chatSafe(s.text, CHAT_FREE_TEXT_MAX);
    if (s.command) step += ` \`${chatSafe(s.command, CHAT_FREE_TEXT_MAX)}\``;
    if (s.note)
      step += `${step.endsWith(':') ? ' ' : ' - '}${chatSafe(oneLine(s.note), CHAT_FREE_TEXT_MAX)}`;
    return step;
  });
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: chatSafe(`${levelEmoji(n)} ${chatTitle(n, v, subject)}`, CHAT_TITLE_MAX),
      description: truncate(description.join('\n'), CHAT_DESCRIPTION_MAX),
      nextSteps,
      keywords: [
        n.kind === 'test'
          ? 'TEST'
          : n.kind === 'monitor-failing' || n.kind === 'monitor-reminder'
            ? 'monitor'
            : n.level,
        n.kind,
        truncate(asciiOneLine(n.account) || 'unnamed', CHAT_KEYWORD_MAX),
      ],
    },
    metadata: {
      threadId: threadId(n.account),
      summary: subject,
      eventType: `ngrok-balance-alert-${n.kind}`,
      relatedResources: [TOP_UP_URL, n.thresholdParameterName],
      additionalContext: {
        account: truncate(n.account, LABEL_MAX),
        kind: n.kind,
        level: n.level,
        reason: n.reason,
        ...(v.balance && { balance: v.balance }),
        threshold: v.warning,
        at: n.at,
      },
    },
  };
}

/** The subject again, but with the account label as written (chat shows Unicode). */
function chatTitle(n: Notification, v: View, subject: string): string {
  const ascii = asciiOneLine(n.account) || 'unnamed';
  const label = truncate(v.label, 60);
  const i = subject.indexOf(`(${ascii})`);
  return i >= 0
    ? `${subject.slice(0, i)}(${label})${subject.slice(i + ascii.length + 2)}`
    : subject;
}

function levelEmoji(n: Notification): string {
  if (n.kind === 'test') return ':test_tube:';
  if (n.kind === 'balance-recovered' || n.kind === 'monitor-recovered') return ':white_check_mark:';
  if (n.kind === 'config-problem') return ':gear:';
  if (n.kind === 'monitor-failing' || n.kind === 'monitor-reminder') return ':warning:';
  return n.level === 'low' ? ':warning:' : ':rotating_light:';
}

/**
 * One Slack thread per account. Labels are normally parameter-path safe and used as they are;
 * anything else is slugged, with a hash so that two labels do not share a thread.
 */
function threadId(account: string): string {
  if (/^[A-Za-z0-9._-]{1,64}$/.test(account)) return `ngrok-balance-alert-${account}`;
  const slug = asciiOneLine(account)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `ngrok-balance-alert-${slug ? `${slug}-` : ''}${fnv1a(account)}`;
}

/** Text from outside must not become Slack syntax (<!channel>, <url|text>): angle brackets are replaced. */
function chatSafe(text: string, max: number): string {
  return truncate(text.replace(/</g, '‹').replace(/>/g, '›'), max);
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers

/**
 * "about 1.9 days", worded as the runway in the text, for the headline and the subject;
 * undefined when there is no forecast or nothing is being spent.
 */
function runwayDays(f: Forecast | undefined): string | undefined {
  if (!f || f.runwayDays === null || !Number.isFinite(f.runwayDays) || f.runwayDays <= 0) {
    return undefined;
  }
  return formatRunwayDays(f.runwayDays);
}

/** "2025-06-01 14:05 UTC"; the raw text when it is not a date. */
function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return truncate(oneLine(iso), 40);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function levelWord(level: Level): string {
  return level === 'empty' ? 'EMPTY' : level;
}

function wholeCents(cents: number): string {
  return String(Math.max(0, Math.round(cents)));
}

function isAmount(x: number | undefined): x is number {
  return x !== undefined && Number.isFinite(x);
}

/** "The credits…" → "the credits…", for a sentence that follows "Reminder: ". */
function lowerFirstWord(sentence: string): string {
  return sentence.replace(/^(The|At) /, (word) => word.toLowerCase());
}

function indent(text: string, by: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `${by}${line}`)
    .join('\n');
}

/** Outside text for people: control characters (other than line breaks and tabs) removed, trimmed, cut. */
function printable(text: string, max: number): string {
  // Cut first: the text may be megabytes long, and only `max` characters of it are shown.
  const head = text.length > max ? cutAt(text, max) : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = head.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim();
  return text.length > max ? truncate(clean, max, text.length) : clean;
}

const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'Th',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2026': '...',
  '\u20ac': 'EUR',
  '\u00a3': 'GBP',
};

/** Printable ASCII on one line: accents dropped (ü → u), known symbols spelled out, the rest removed. */
function asciiOneLine(s: string): string {
  const spelled = s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]/gu, (ch) => TRANSLITERATIONS[ch] ?? (/\s/u.test(ch) ? ' ' : ''));
  return spelled.replace(/\s+/g, ' ').trim();
}

/**
 * Cuts text to `max` characters (never splitting a surrogate pair), saying how long it was.
 * `total` is the original length when `text` has already been cut.
 */
function truncate(text: string, max: number, total = text.length): string {
  if (total <= max && text.length <= max) return text;
  const marker = `... [truncated, ${total} characters in all]`;
  if (max <= marker.length) return cutAt(text, max);
  return `${cutAt(text, Math.min(text.length, max - marker.length))}${marker}`;
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** 32-bit FNV-1a as 8 hex digits: a short, stable tag for an arbitrary string. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
