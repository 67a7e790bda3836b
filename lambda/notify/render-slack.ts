/**
 * Turns what the SNS topic delivers to a Lambda subscriber into a Slack Block Kit message for
 * an incoming webhook. Pure: no I/O, no clock, no AWS SDK.
 *
 * Three kinds of message reach the topic:
 * - the monitor's notifications, delivered to Lambda as the version 2 JSON (render-json.ts),
 *   rendered from the content it carries: headline, facts, steps and commands as data;
 * - CloudWatch alarm state changes (the stack's own alarms notify the same topic);
 * - anything else someone publishes by hand, which is posted as received rather than dropped.
 */

import { cutAt, oneLine } from '../common/text.ts';
import type { Content } from './content.ts';
import { TONE_EMOJI } from './emoji.ts';
import type { NotificationV2 } from './render-json.ts';

/** Slack rejects a header block whose plain_text is longer than this. */
export const HEADER_TEXT_MAX = 150;
/** Slack rejects a section (or context element) text object longer than this. */
export const SECTION_TEXT_MAX = 3_000;
/** Slack rejects a message with more blocks than this. */
export const MAX_BLOCKS = 50;
/**
 * The body is split into sections of at most SECTION_TEXT_MAX; beyond this many the rest is
 * cut. Slack collapses long messages anyway, and the email copy carries the full text.
 */
export const MAX_BODY_SECTIONS = 8;
/** The top-level `text` is the notification and screen-reader fallback: one short line. */
export const FALLBACK_TEXT_MAX = 300;

const DEFAULT_TITLE = 'ngrok balance alert';

export interface PlainTextObject {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

export interface MrkdwnTextObject {
  readonly type: 'mrkdwn';
  readonly text: string;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: PlainTextObject }
  | { readonly type: 'section'; readonly text: MrkdwnTextObject }
  | { readonly type: 'context'; readonly elements: readonly MrkdwnTextObject[] }
  | { readonly type: 'divider' };

/** The JSON body of an incoming-webhook POST. */
export interface SlackMessage {
  /** Plain fallback: notifications, previews and screen readers use it. */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
  /** The top-up link would otherwise unfurl into a large preview on every alert. */
  readonly unfurl_links: false;
  readonly unfurl_media: false;
}

/** What kind of message was recognised; logged, so that failures can be told apart. */
export type RenderedKind = 'notification' | 'alarm' | 'raw';

export interface RenderedSlackMessage {
  readonly kind: RenderedKind;
  readonly message: SlackMessage;
  /** Safe to log: the notification kind and account, when the message was ours. */
  readonly fields: Readonly<Record<string, string | boolean>>;
}

/**
 * Renders one SNS message. `subject` is the SNS Subject, when the publisher set one (it is
 * used as the title of messages that are not ours).
 */
export function renderSlackMessage(message: string, subject?: string | null): RenderedSlackMessage {
  const json = parseJsonObject(message);
  const notification = json && asNotificationV2(json);
  if (notification) {
    return {
      kind: 'notification',
      message: renderNotificationMessage(notification),
      fields: {
        notificationKind: notification.kind,
        account: notification.account.slice(0, 200),
        test: notification.test,
      },
    };
  }
  const alarm = json && asAlarm(json);
  if (alarm) {
    return {
      kind: 'alarm',
      message: renderAlarmMessage(alarm, subject ?? undefined),
      fields: { alarmState: alarm.NewStateValue.slice(0, 40) },
    };
  }
  return { kind: 'raw', message: renderRawMessage(message, subject ?? undefined), fields: {} };
}

// ---------------------------------------------------------------------------------------------
// Our notifications

/**
 * The version 2 notification when `value` is one, else undefined. The content fields the
 * message is built from are checked; a version 1 message (from before an upgrade) is not one
 * and is posted as received, with its subject.
 */
export function asNotificationV2(value: unknown): NotificationV2 | undefined {
  if (!isObject(value) || value.version !== 2) return undefined;
  const c = value.content;
  if (typeof value.account !== 'string' || typeof value.subject !== 'string') return undefined;
  if (!isObject(c)) return undefined;
  const strings = ['kind', 'tone', 'headline', 'stepsTitle', 'label'] as const;
  if (!strings.every((key) => typeof c[key] === 'string')) return undefined;
  if (!Array.isArray(c.facts) || !Array.isArray(c.steps) || !Array.isArray(c.links)) {
    return undefined;
  }
  if (!isObject(c.title) || typeof c.test !== 'boolean') return undefined;
  return value as unknown as NotificationV2;
}

/** Renders one of our notifications from its content. */
export function renderNotificationMessage(n: NotificationV2): SlackMessage {
  const c = n.content;
  const test = c.test || n.test === true;
  const full = oneLine(`${c.title.before}${c.label}${c.title.after}`) || DEFAULT_TITLE;
  // The content of a test already starts its title with [TEST]; anything else flagged as a
  // test is marked here.
  const title = test && !/\[TEST\]/i.test(full) ? `[TEST] ${full}` : full;
  const emoji = test ? TONE_EMOJI.test : (TONE_EMOJI[c.tone] ?? TONE_EMOJI.info);

  const blocks: SlackBlock[] = [header(`${emoji} ${title}`)];
  if (test) {
    blocks.push(
      section(
        ':test_tube: *This is a test notification*, sent on request to check that alerts ' +
          'reach this channel. Nothing needs doing.',
      ),
    );
  }
  const problems = problemLines(c);
  const body: string[] = [escapeMrkdwn(c.headline)];
  if (c.problems?.first) body.push(problems);
  body.push(
    c.facts
      .filter((f) => f.label !== 'Account')
      .map((f) => `*${escapeMrkdwn(f.label)}:* ${escapeMrkdwn(f.value)}`)
      .join('\n'),
  );
  body.push([`*${escapeMrkdwn(c.stepsTitle)}:*`, ...c.steps.map(stepLines)].join('\n'));
  if (c.problems && !c.problems.first) body.push(problems);
  blocks.push(...bodySections(body.filter(Boolean).join('\n\n')));
  const link = linkTo(c.links[0]?.url, 'Top up credits');
  if (link) blocks.push(section(`:moneybag: ${link}`));
  blocks.push(
    context([
      `*Account:* ${escapeMrkdwn(oneLine(c.account)).slice(0, 200)}`,
      `*Level:* ${escapeMrkdwn(c.level)}${test ? ' (test)' : ''}`,
      `*Kind:* ${escapeMrkdwn(c.kind)}`,
    ]),
  );
  return message(title, blocks);
}

/** A step as a bullet; its command as inline code on its own line, so it copies cleanly. */
function stepLines(step: Content['steps'][number]): string {
  const lines = [`• ${escapeMrkdwn(step.text)}`];
  if (step.command) lines.push(`    ${inlineCode(step.command)}`);
  if (step.note) lines.push(`    ${escapeMrkdwn(oneLine(step.note))}`);
  return lines.join('\n');
}

function problemLines(c: Content): string {
  if (!c.problems) return '';
  return [
    '*Configuration problems (the deployed defaults are in use until they are fixed):*',
    ...c.problems.items.map((p) => `• ${escapeMrkdwn(oneLine(p))}`),
    ...(c.problems.hidden > 0 ? [`• and ${c.problems.hidden} more`] : []),
  ].join('\n');
}

/**
 * Inline code: Slack shows it literally (`*` and `_` stay), but has no escape for a backtick
 * inside it, so a command with one is shown as text instead.
 */
function inlineCode(command: string): string {
  const text = escapeMrkdwn(oneLine(command));
  return command.includes('`') ? text : `\`${text}\``;
}

/** A mrkdwn link; only https URLs that cannot break out of the link syntax. */
function linkTo(url: string | undefined, label: string): string | undefined {
  if (!url || url.length > 500 || !/^https:\/\/[^\s<>|]+$/.test(url)) return undefined;
  // A link, not a button: a link button still sends an interaction payload to the app, and an
  // incoming-webhook app has no endpoint to acknowledge it, so Slack marks the button as failed.
  return `<${url.replace(/&/g, '&amp;')}|${label}>`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// CloudWatch alarms

/** The fields of a CloudWatch alarm notification that the message shows. */
export interface AlarmNotification {
  readonly AlarmName: string;
  readonly NewStateValue: string;
  readonly AlarmDescription?: string | null;
  readonly NewStateReason?: string;
  readonly OldStateValue?: string;
  readonly StateChangeTime?: string;
  readonly Region?: string;
}

export function asAlarm(value: unknown): AlarmNotification | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.AlarmName !== 'string' || typeof v.NewStateValue !== 'string') return undefined;
  const optional = (key: string) => (typeof v[key] === 'string' ? (v[key] as string) : undefined);
  return {
    AlarmName: v.AlarmName,
    NewStateValue: v.NewStateValue,
    AlarmDescription: optional('AlarmDescription'),
    NewStateReason: optional('NewStateReason'),
    OldStateValue: optional('OldStateValue'),
    StateChangeTime: optional('StateChangeTime'),
    Region: optional('Region'),
  };
}

export function renderAlarmMessage(alarm: AlarmNotification, subject?: string): SlackMessage {
  const state = oneLine(alarm.NewStateValue).toUpperCase();
  const emoji =
    state === 'OK'
      ? ':white_check_mark:'
      : state === 'ALARM'
        ? ':rotating_light:'
        : ':grey_question:';
  const title = `${state}: ${oneLine(alarm.AlarmName)}`;
  const body: string[] = [];
  if (alarm.AlarmDescription) body.push(escapeMrkdwn(alarm.AlarmDescription));
  if (alarm.NewStateReason) body.push(`*Reason:* ${escapeMrkdwn(alarm.NewStateReason)}`);
  const facts = [
    alarm.OldStateValue && `*Previous state:* ${escapeMrkdwn(oneLine(alarm.OldStateValue))}`,
    alarm.StateChangeTime && `*Changed:* ${escapeMrkdwn(oneLine(alarm.StateChangeTime))}`,
    alarm.Region && `*Region:* ${escapeMrkdwn(oneLine(alarm.Region))}`,
  ].filter((f): f is string => Boolean(f));
  const blocks: SlackBlock[] = [header(`${emoji} ${title}`), ...bodySections(body.join('\n\n'))];
  if (facts.length > 0) blocks.push(context(facts));
  return message(subject ? oneLine(subject) : title, blocks);
}

// ---------------------------------------------------------------------------------------------
// Anything else

/** Posts a message that is not ours as received (escaped), so that nothing is dropped. */
export function renderRawMessage(text: string, subject?: string): SlackMessage {
  const title = (subject && oneLine(subject)) || DEFAULT_TITLE;
  const blocks: SlackBlock[] = [header(`:envelope: ${title}`)];
  const body = bodySections(escapeMrkdwn(text));
  blocks.push(...(body.length > 0 ? body : [section('_(empty message)_')]));
  blocks.push(
    context(['Not a structured ngrok balance alert notification: shown as it was published.']),
  );
  return message(subject ? title : firstLine(text) || title, blocks);
}

// ---------------------------------------------------------------------------------------------
// Building blocks

function message(fallback: string, blocks: SlackBlock[]): SlackMessage {
  return {
    text: truncateMrkdwn(escapeMrkdwn(oneLine(fallback)) || DEFAULT_TITLE, FALLBACK_TEXT_MAX),
    blocks: blocks.slice(0, MAX_BLOCKS),
    unfurl_links: false,
    unfurl_media: false,
  };
}

/** Header text is plain_text: shown literally (no mrkdwn, no mentions), emoji codes expanded. */
function header(text: string): SlackBlock {
  const shown = truncatePlain(oneLine(text), HEADER_TEXT_MAX) || DEFAULT_TITLE;
  return { type: 'header', text: { type: 'plain_text', text: shown, emoji: true } };
}

function section(mrkdwn: string): SlackBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(mrkdwn, SECTION_TEXT_MAX) },
  };
}

function context(items: readonly string[]): SlackBlock {
  return {
    type: 'context',
    // A context block takes at most 10 elements.
    elements: items.slice(0, 10).map((text) => ({
      type: 'mrkdwn' as const,
      text: truncateMrkdwn(text, SECTION_TEXT_MAX) || ' ',
    })),
  };
}

/**
 * Splits already-escaped mrkdwn into sections of at most SECTION_TEXT_MAX characters, at
 * paragraph breaks where possible, then at line breaks, then anywhere safe. At most
 * MAX_BODY_SECTIONS are kept; the last one says the rest was cut.
 */
export function bodySections(mrkdwn: string): SlackBlock[] {
  const text = mrkdwn.replace(/\r\n?/g, '\n').trim();
  if (!text) return [];
  const chunks = chunk(text, SECTION_TEXT_MAX);
  if (chunks.length > MAX_BODY_SECTIONS) {
    const kept = chunks.slice(0, MAX_BODY_SECTIONS);
    const note = '\n\n_[message cut: the email copy has the full text]_';
    const last = kept[MAX_BODY_SECTIONS - 1] ?? '';
    kept[MAX_BODY_SECTIONS - 1] =
      `${truncateMrkdwn(last, SECTION_TEXT_MAX - note.length, '')}${note}`;
    return kept.map(section);
  }
  return chunks.map(section);
}

function chunk(text: string, max: number): string[] {
  const out: string[] = [];
  let current = '';
  const flush = () => {
    if (current.trim()) out.push(current.trim());
    current = '';
  };
  const add = (piece: string, separator: string) => {
    if (!current) current = piece;
    else if (current.length + separator.length + piece.length <= max) {
      current += separator + piece;
    } else {
      flush();
      current = piece;
    }
  };
  for (const paragraph of text.split(/\n{2,}/)) {
    if (paragraph.length <= max) {
      add(paragraph, '\n\n');
      continue;
    }
    for (const line of paragraph.split('\n')) {
      let rest = line;
      while (rest.length > max) {
        // Cut where the mrkdwn stays intact; when nothing intact fits (one enormous code
        // span or link), cut anywhere that does not split a character.
        const head = truncateMrkdwn(rest, max, '') || cutAt(rest, max);
        add(head, '\n');
        flush();
        rest = rest.slice(head.length);
      }
      add(rest, '\n');
    }
    flush();
  }
  flush();
  return out;
}

/**
 * Slack's three control characters. Escaping `<` and `>` also keeps text from outside
 * (error bodies, parameter values) from becoming a mention such as <!channel> or a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts plain text to `max` characters without splitting a surrogate pair. */
export function truncatePlain(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  return `${cutAt(text, Math.max(0, max - marker.length))}${marker}`;
}

/**
 * Cuts mrkdwn to `max` characters without splitting a surrogate pair, an escaped entity
 * (&amp;) or a <link|label>, and without leaving an inline code span open.
 */
export function truncateMrkdwn(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  let head = cutAt(text, Math.max(0, max - marker.length));
  head = head.replace(/&[a-z]{0,4}$/, '');
  const open = head.lastIndexOf('<');
  if (open > head.lastIndexOf('>')) head = head.slice(0, open);
  const ticks = head.split('`').length - 1;
  if (ticks % 2 === 1) head = head.slice(0, head.lastIndexOf('`'));
  return `${head}${marker}`;
}

function firstLine(text: string): string {
  return oneLine(text.trim().split(/\r\n|\r|\n/, 1)[0] ?? '');
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
