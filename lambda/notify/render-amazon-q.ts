/**
 * The Amazon Q Developer in chat applications custom notification, as documented in
 * https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
 * (version "1.0" and source "custom" required; textType "client-markdown" is the only one
 * supported). The tests check every rendered payload against a schema written from that page.
 * Pure.
 */

import { oneLine } from '../common/text.ts';
import type { Content } from './content.ts';
import { accountTag, LABEL_MAX } from './content.ts';
import { TONE_EMOJI } from './emoji.ts';
import { asciiOneLine, truncate } from './format.ts';

/**
 * Our own caps for the chat payload. The Amazon Q documentation gives no length limits that we
 * could find; Slack cuts long messages, so the chat copy stays short and the email and the
 * structured copy carry the full text.
 */
export const CHAT_TITLE_MAX = 150;
export const CHAT_DESCRIPTION_MAX = 3_000;
const CHAT_FREE_TEXT_MAX = 400;
const CHAT_KEYWORD_MAX = 64;
/** The account label in a chat title. */
const CHAT_LABEL_MAX = 60;

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

/** Renders the chat notification; `subject` is the rendered subject, used as the summary. */
export function renderAmazonQ(c: Content, subject: string): AmazonQCustomNotification {
  const problems: string[] = [];
  if (c.problems) {
    problems.push('*Configuration problems (the deployed defaults are in use):*');
    for (const p of c.problems.items) problems.push(`- ${chatSafe(p, CHAT_FREE_TEXT_MAX)}`);
    if (c.problems.hidden > 0) problems.push(`- and ${c.problems.hidden} more`);
  }
  const facts = c.facts
    .filter((f) => f.label !== 'Account')
    .map((f) => `*${f.label}:* ${chatSafe(f.value, CHAT_FREE_TEXT_MAX)}`);
  const description = [chatSafe(c.headline, CHAT_DESCRIPTION_MAX)];
  if (c.problems?.first) description.push('', ...problems, '', ...facts);
  else description.push('', ...facts, ...(problems.length > 0 ? ['', ...problems] : []));
  const nextSteps = c.steps.map((s) => {
    let step = chatSafe(s.text, CHAT_FREE_TEXT_MAX);
    if (s.command) step += ` \`${chatSafe(s.command, CHAT_FREE_TEXT_MAX)}\``;
    if (s.note)
      step += `${step.endsWith(':') ? ' ' : ' - '}${chatSafe(oneLine(s.note), CHAT_FREE_TEXT_MAX)}`;
    return step;
  });
  const title = `${c.title.before}${truncate(c.label, CHAT_LABEL_MAX)}${c.title.after}`;
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: chatSafe(`${TONE_EMOJI[c.tone]} ${oneLine(title)}`, CHAT_TITLE_MAX),
      description: truncate(description.join('\n'), CHAT_DESCRIPTION_MAX),
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
        account: truncate(c.account, LABEL_MAX),
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

/** Text from outside must not become Slack syntax (<!channel>, <url|text>): angle brackets are replaced. */
function chatSafe(text: string, max: number): string {
  return truncate(text.replace(/</g, '‹').replace(/>/g, '›'), max);
}
