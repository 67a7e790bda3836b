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

import { cutAt, oneLine, visible } from '../common/text.ts';
import { type Content, moreFacts } from './content.ts';
import { TONE_EMOJI } from './emoji.ts';
import {
  httpsLink,
  joinMrkdwn,
  type Mrkdwn,
  mrkdwn,
  mrkdwnLines,
  mrkdwnText,
  sliceMarkup,
  trimMarkup,
} from './inert.ts';
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
export const MAX_BODY_SECTIONS = 3;
/**
 * All the text of one message. Slack has refused messages of about 13,000 characters in all
 * (msg_blocks_too_long) whatever each block's own limit: every message stays well under.
 */
export const MESSAGE_TEXT_MAX = 12_000;
/** The body's sections together; the header, the link and the context take the rest. */
const BODY_TEXT_MAX = MESSAGE_TEXT_MAX - 2_000;
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
  readonly text: Mrkdwn;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: PlainTextObject }
  | { readonly type: 'section'; readonly text: MrkdwnTextObject }
  | { readonly type: 'context'; readonly elements: readonly MrkdwnTextObject[] }
  | { readonly type: 'divider' }
  | { readonly type: 'actions'; readonly elements: readonly SlackLinkButton[] };

/** A Block Kit button that opens a URL. */
export interface SlackLinkButton {
  readonly type: 'button';
  readonly text: PlainTextObject;
  readonly url: string;
  readonly action_id: string;
  readonly style?: 'primary';
}

/** Slack rejects a button whose text is longer than this. */
export const BUTTON_TEXT_MAX = 75;
/** Slack rejects a button whose URL is longer than this. */
export const BUTTON_URL_MAX = 3_000;

/** The JSON body of an incoming-webhook POST. */
export interface SlackMessage {
  /** Plain fallback: notifications, previews and screen readers use it (parsed as mrkdwn). */
  readonly text: Mrkdwn;
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
        mrkdwn`:test_tube: *This is a test notification*, sent on request to check that alerts reach this channel. Nothing needs doing.`,
      ),
    );
  }
  const problems = problemLines(c);
  const steps = joinMrkdwn(
    [mrkdwn`*${mrkdwnText(c.stepsTitle)}:*`, ...c.steps.map(stepLines)],
    '\n',
  );
  // The digest's facts are its accounts, any of which may be called "Account".
  const facts = c.factsAre ? c.facts : c.facts.filter((f) => f.label !== 'Account');
  const bodyWith = (shown: number): Mrkdwn => {
    const body: Mrkdwn[] = [mrkdwnText(c.headline)];
    if (c.problems?.first) body.push(problems);
    body.push(factLines(c, facts, shown));
    body.push(steps);
    if (c.problems && !c.problems.first) body.push(problems);
    return joinMrkdwn(body.filter(Boolean), '\n\n');
  };
  blocks.push(...bodySections(bodyWith(factsThatFit(facts.length, bodyWith))));
  const pay = payButton(c);
  if (pay) blocks.push({ type: 'actions', elements: [pay] });
  const link = linkTo(c.links[0]?.url, 'Top up credits');
  if (link) blocks.push(section(mrkdwn`:moneybag: ${link}`));
  blocks.push(
    context([
      mrkdwn`*Account:* ${truncateMrkdwn(mrkdwnText(c.account), 200, '')}`,
      mrkdwn`*Level:* ${mrkdwnText(c.level)}${test ? mrkdwn` (test)` : mrkdwn``}`,
      mrkdwn`*Kind:* ${mrkdwnText(c.kind)}`,
    ]),
  );
  return message(title, blocks);
}

/**
 * How many facts the body can show without being cut (the digest's accounts can be a
 * hundred), found by bisection: the body grows with each fact shown.
 */
function factsThatFit(count: number, bodyWith: (shown: number) => Mrkdwn): number {
  const fits = (shown: number) => {
    const body = bodyWith(shown);
    return (
      body.length <= BODY_TEXT_MAX && chunk(body, SECTION_TEXT_MAX).length <= MAX_BODY_SECTIONS
    );
  };
  if (fits(count)) return count;
  let fitting = 0;
  let tooMany = count;
  while (tooMany - fitting > 1) {
    const mid = Math.floor((fitting + tooMany) / 2);
    if (fits(mid)) fitting = mid;
    else tooMany = mid;
  }
  return fitting;
}

/** The first `shown` facts, a line each, and a last line that counts the rest. */
function factLines(c: Content, facts: Content['facts'], shown: number): Mrkdwn {
  const lines = facts
    .slice(0, shown)
    .map((f) => mrkdwn`*${mrkdwnText(f.label)}:* ${mrkdwnText(f.value)}`);
  const more = moreFacts(c, c.facts.length - (facts.length - lines.length));
  if (more) lines.push(mrkdwn`_${mrkdwnText(more)}_`);
  return joinMrkdwn(lines, '\n');
}

/** A step as a bullet; its command as inline code on its own line, so it copies cleanly. */
function stepLines(step: Content['steps'][number]): Mrkdwn {
  const lines = [mrkdwn`• ${mrkdwnText(step.text)}`];
  if (step.command) lines.push(mrkdwn`    ${inlineCode(step.command)}`);
  if (step.note) lines.push(mrkdwn`    ${mrkdwnText(step.note)}`);
  return joinMrkdwn(lines, '\n');
}

function problemLines(c: Content): Mrkdwn {
  if (!c.problems) return mrkdwn``;
  return joinMrkdwn(
    [
      mrkdwn`*Configuration problems (the deployed defaults are in use until they are fixed):*`,
      ...c.problems.items.map((p) => mrkdwn`• ${mrkdwnText(p)}`),
      ...(c.problems.hidden > 0
        ? [mrkdwn`• and ${mrkdwnText(String(c.problems.hidden))} more`]
        : []),
    ],
    '\n',
  );
}

/**
 * Inline code: Slack shows it literally (`*` and `_` stay), but has no escape for a backtick
 * inside it, so a command with one is shown as text instead.
 */
function inlineCode(command: string): Mrkdwn {
  const text = mrkdwnText(command);
  return command.includes('`') ? text : mrkdwn`\`${text}\``;
}

/** A mrkdwn link; only https URLs that cannot break out of the link syntax. */
function linkTo(url: string | undefined, label: string): Mrkdwn | undefined {
  if (!url || url.length > 500 || !/^https:\/\/[^\s<>|]+$/.test(url)) return undefined;
  // A link, not a button: a link button still sends an interaction payload to the app, and an
  // incoming-webhook app has no endpoint to acknowledge it, so Slack marks the button as failed.
  // The URL was checked above: no character in it can end the link early.
  return mrkdwn`<${mrkdwnText(url)}|${mrkdwnText(label)}>`;
}

/**
 * "Buy $X now" as a link button, when the alert has a checkout page whose URL is https (checked
 * again here: the content arrives as JSON). Unlike the credits link this one is a button, for
 * the one thing to do at 3 a.m.; the cost is that Slack may mark it with a warning after the
 * click, since an incoming-webhook app acknowledges no interaction. The page opens all the same.
 */
function payButton(c: Content): SlackLinkButton | undefined {
  const url = httpsLink(c.payLink?.url);
  if (!c.payLink || url === undefined || url.length > BUTTON_URL_MAX) return undefined;
  return {
    type: 'button',
    text: {
      type: 'plain_text',
      text: truncatePlain(oneLine(visible(c.payLink.label)), BUTTON_TEXT_MAX) || 'Buy now',
      emoji: true,
    },
    url,
    action_id: 'ngrok-balance-alert-pay-link',
    style: 'primary',
  };
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
  const body: Mrkdwn[] = [];
  if (alarm.AlarmDescription) body.push(mrkdwnLines(alarm.AlarmDescription));
  if (alarm.NewStateReason) body.push(mrkdwn`*Reason:* ${mrkdwnLines(alarm.NewStateReason)}`);
  const facts = [
    alarm.OldStateValue && mrkdwn`*Previous state:* ${mrkdwnText(alarm.OldStateValue)}`,
    alarm.StateChangeTime && mrkdwn`*Changed:* ${mrkdwnText(alarm.StateChangeTime)}`,
    alarm.Region && mrkdwn`*Region:* ${mrkdwnText(alarm.Region)}`,
  ].filter((f): f is Mrkdwn => Boolean(f));
  const blocks: SlackBlock[] = [
    header(`${emoji} ${title}`),
    ...bodySections(joinMrkdwn(body, '\n\n')),
  ];
  if (facts.length > 0) blocks.push(context(facts));
  return message(subject ? oneLine(subject) : title, blocks);
}

// ---------------------------------------------------------------------------------------------
// Anything else

/** Posts a message that is not ours as received (escaped), so that nothing is dropped. */
export function renderRawMessage(text: string, subject?: string): SlackMessage {
  const title = (subject && oneLine(subject)) || DEFAULT_TITLE;
  const blocks: SlackBlock[] = [header(`:envelope: ${title}`)];
  const body = bodySections(mrkdwnLines(text));
  blocks.push(...(body.length > 0 ? body : [section(mrkdwn`_(empty message)_`)]));
  blocks.push(
    context([
      mrkdwn`Not a structured ngrok balance alert notification: shown as it was published.`,
    ]),
  );
  return message(subject ? title : firstLine(text) || title, blocks);
}

// ---------------------------------------------------------------------------------------------
// Building blocks

function message(fallback: string, blocks: SlackBlock[]): SlackMessage {
  return {
    text: truncateMrkdwn(mrkdwnText(fallback || DEFAULT_TITLE), FALLBACK_TEXT_MAX),
    blocks: blocks.slice(0, MAX_BLOCKS),
    unfurl_links: false,
    unfurl_media: false,
  };
}

/** Header text is plain_text: shown literally (no mrkdwn, no mentions), emoji codes expanded. */
function header(text: string): SlackBlock {
  const shown = truncatePlain(oneLine(visible(text)), HEADER_TEXT_MAX) || DEFAULT_TITLE;
  return { type: 'header', text: { type: 'plain_text', text: shown, emoji: true } };
}

function section(text: Mrkdwn): SlackBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(text, SECTION_TEXT_MAX) },
  };
}

function context(items: readonly Mrkdwn[]): SlackBlock {
  return {
    type: 'context',
    // A context block takes at most 10 elements.
    elements: items.slice(0, 10).map((text) => ({
      type: 'mrkdwn' as const,
      text: truncateMrkdwn(text, SECTION_TEXT_MAX) || mrkdwn` `,
    })),
  };
}

/**
 * Splits mrkdwn into sections of at most SECTION_TEXT_MAX characters, at paragraph breaks
 * where possible, then at line breaks, then anywhere safe. At most MAX_BODY_SECTIONS are
 * kept; the last one says the rest was cut.
 */
export function bodySections(text: Mrkdwn): SlackBlock[] {
  const trimmed = trimMarkup(text.replace(/\r\n?/g, '\n') as Mrkdwn);
  if (!trimmed) return [];
  const chunks = chunk(trimmed, SECTION_TEXT_MAX);
  if (chunks.length > MAX_BODY_SECTIONS) {
    const kept = chunks.slice(0, MAX_BODY_SECTIONS);
    const note = mrkdwn`\n\n_[message cut: the email copy has the full text]_`;
    const last = kept[MAX_BODY_SECTIONS - 1] ?? mrkdwn``;
    kept[MAX_BODY_SECTIONS - 1] =
      mrkdwn`${truncateMrkdwn(last, SECTION_TEXT_MAX - note.length, '')}${note}`;
    return kept.map(section);
  }
  return chunks.map(section);
}

function chunk(text: Mrkdwn, max: number): Mrkdwn[] {
  const out: Mrkdwn[] = [];
  let current = mrkdwn``;
  const flush = () => {
    if (current.trim()) out.push(trimMarkup(current));
    current = mrkdwn``;
  };
  const add = (piece: Mrkdwn, separator: '\n' | '\n\n') => {
    if (!current) current = piece;
    else if (current.length + separator.length + piece.length <= max) {
      current = joinMrkdwn([current, piece], separator);
    } else {
      flush();
      current = piece;
    }
  };
  for (const paragraph of text.split(/\n{2,}/) as Mrkdwn[]) {
    if (paragraph.length <= max) {
      add(paragraph, '\n\n');
      continue;
    }
    for (const line of paragraph.split('\n') as Mrkdwn[]) {
      let rest = line;
      while (rest.length > max) {
        // Cut where the mrkdwn stays intact; when nothing intact fits (one enormous code
        // span or link), cut anywhere that does not split a character.
        const head = truncateMrkdwn(rest, max, '') || sliceMarkup(rest, 0, cutAt(rest, max).length);
        add(head, '\n');
        flush();
        rest = sliceMarkup(rest, head.length);
      }
      add(rest, '\n');
    }
    flush();
  }
  flush();
  return out;
}

/**
 * Slack's three control characters escaped, line breaks kept (inert.ts: mrkdwnLines).
 * Escaping `<` and `>` keeps text from outside (error bodies, parameter values) from
 * becoming a mention such as <!channel> or a link.
 */
export function escapeMrkdwn(text: string): Mrkdwn {
  return mrkdwnLines(text);
}

/** Cuts plain text to `max` characters without splitting a surrogate pair. */
export function truncatePlain(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  return `${cutAt(text, Math.max(0, max - marker.length))}${marker}`;
}

/**
 * Cuts mrkdwn to `max` characters without splitting a surrogate pair, an escaped entity
 * (&amp;) or a <link|label>, and without leaving an inline code span open. Cutting escaped
 * text never un-escapes it: the result is as inert as the input.
 */
export function truncateMrkdwn<T extends string>(text: T, max: number, marker = '…'): T {
  if (text.length <= max) return text;
  let head = cutAt(text, Math.max(0, max - marker.length));
  head = head.replace(/&[a-z]{0,4}$/, '');
  const open = head.lastIndexOf('<');
  if (open > head.lastIndexOf('>')) head = head.slice(0, open);
  const ticks = head.split('`').length - 1;
  if (ticks % 2 === 1) head = head.slice(0, head.lastIndexOf('`'));
  return `${head}${marker}` as T;
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
