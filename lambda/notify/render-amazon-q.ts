/**
 * The Amazon Q Developer in chat applications custom notification, as documented in
 * https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
 * (version "1.0" and source "custom" required; textType "client-markdown" is the only one
 * supported). The tests check every rendered payload against a schema written from that page.
 * Pure.
 */

import { visible } from '../common/text.ts';
import { accountTag, type Content, LABEL_MAX, moreFacts } from './content.ts';
import { TONE_EMOJI } from './emoji.ts';
import { asciiOneLine, truncate } from './format.ts';
import {
  chatText,
  cutMarkdown,
  joinMarkdown,
  type Markdown,
  markdownCodeSpan,
  markdownLink,
  md,
} from './inert.ts';

/**
 * Our own caps for the chat payload. The Amazon Q documentation gives no length limits that we
 * could find; Slack cuts long messages, so the chat copy stays short and the email and the
 * structured copy carry the full text.
 */
export const CHAT_TITLE_MAX = 150;
export const CHAT_DESCRIPTION_MAX = 3_000;
const CHAT_FREE_TEXT_MAX = 400;
/** The headline leaves room for the facts. */
const CHAT_HEADLINE_MAX = 1_200;
/** Room kept for the line that counts the facts left out. */
const CHAT_MORE_RESERVE = 120;
const CHAT_KEYWORD_MAX = 64;
/** The account label in a chat title. */
const CHAT_LABEL_MAX = 60;

export interface AmazonQCustomNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: Markdown;
    readonly description: Markdown;
    readonly nextSteps?: readonly Markdown[];
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

/** Renders the chat notification; `subject` is the rendered subject, used as the summary. */
export function renderAmazonQ(c: Content, subject: string): AmazonQCustomNotification {
  const problems: Markdown[] = [];
  if (c.problems) {
    problems.push(md`*Configuration problems (the deployed defaults are in use):*`);
    for (const p of c.problems.items) problems.push(md`- ${chat(p, CHAT_FREE_TEXT_MAX)}`);
    if (c.problems.hidden > 0) problems.push(md`- and ${chatText(String(c.problems.hidden))} more`);
  }
  // The checkout page as a Markdown link under the headline (its URL checked again, since a
  // custom notification has no button of its own). Never cut: the facts make room for it.
  const payLink = c.payLink && markdownLink('Open the checkout page', c.payLink.url, chatText);
  const pay = c.payLink && payLink ? [md`*${chatText(c.payLink.label)}:* ${payLink}`] : [];
  const headline = chat(
    c.headline,
    Math.min(CHAT_HEADLINE_MAX, CHAT_DESCRIPTION_MAX - sizeOf(pay) - CHAT_MORE_RESERVE),
  );
  const facts = factLines(
    c,
    CHAT_DESCRIPTION_MAX - headline.length - sizeOf(problems) - sizeOf(pay) - 8,
  );
  const description = [headline, ...pay];
  if (c.problems?.first) description.push(md``, ...problems, md``, ...facts);
  else description.push(md``, ...facts, ...(problems.length > 0 ? [md``, ...problems] : []));
  const nextSteps = c.steps.map((s) => {
    let step = chat(s.text, CHAT_FREE_TEXT_MAX);
    if (s.command) step = md`${step} ${markdownCodeSpan(s.command, chatText)}`;
    if (s.note) {
      const note = chat(s.note, CHAT_FREE_TEXT_MAX);
      step = step.endsWith(':') ? md`${step} ${note}` : md`${step} - ${note}`;
    }
    return step;
  });
  const title = `${c.title.before}${truncate(c.label, CHAT_LABEL_MAX)}${c.title.after}`;
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: chat(`${TONE_EMOJI[c.tone]} ${title}`, CHAT_TITLE_MAX),
      description: cutMarkdown(joinMarkdown(description, '\n'), CHAT_DESCRIPTION_MAX),
      nextSteps,
      keywords: [
        c.test
          ? 'TEST'
          : c.kind === 'monitor-failing' || c.kind === 'monitor-reminder'
            ? 'monitor'
            : c.level,
        c.kind,
        truncate(asciiOneLine(c.account) || 'unnamed', CHAT_KEYWORD_MAX),
      ],
    },
    metadata: {
      // One chat thread per account: the account part of the dedup key.
      threadId: `ngrok-balance-alert-${accountTag(c.account)}`,
      summary: subject,
      eventType: `ngrok-balance-alert-${c.kind}`,
      relatedResources: [...c.links.slice(0, 1).map((l) => l.url), c.thresholdParameterName],
      additionalContext: {
        account: truncate(visible(c.account), LABEL_MAX),
        kind: c.kind,
        level: c.level,
        reason: c.reason,
        ...(c.amounts.balance && { balance: c.amounts.balance }),
        threshold: c.amounts.warning,
        at: c.at,
      },
    },
  };
}

/** Text as chat Markdown (inert.ts), cut to `max` characters. */
function chat(text: string, max: number): Markdown {
  return cutMarkdown(chatText(text), max);
}

/**
 * The facts as lines, as many as fit in `room` characters (the digest's accounts can be a
 * hundred), the rest counted in a last line.
 */
function factLines(c: Content, room: number): Markdown[] {
  // The digest's facts are its accounts, any of which may be called "Account".
  const facts = c.factsAre ? c.facts : c.facts.filter((f) => f.label !== 'Account');
  const lines: Markdown[] = [];
  let left = room - CHAT_MORE_RESERVE;
  for (const f of facts) {
    const line = md`*${chatText(f.label)}:* ${chat(f.value, CHAT_FREE_TEXT_MAX)}`;
    if (line.length + 1 > left) break;
    lines.push(line);
    left -= line.length + 1;
  }
  const more = moreFacts(c, c.facts.length - (facts.length - lines.length));
  if (more) lines.push(md`_${chatText(more)}_`);
  return lines;
}

function sizeOf(lines: readonly Markdown[]): number {
  return lines.reduce((sum, line) => sum + line.length + 1, 0);
}
