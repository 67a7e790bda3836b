/**
 * Renders one notification for every format the SNS topic carries, from one content, within
 * the SNS size limit: free text from outside is cut harder until the whole message fits.
 * Pure: no AWS SDK, no clock, no I/O.
 */
import type { Notification } from '../common/types.ts';
import { buildContent, type Content } from './content.ts';
import { utf8Bytes } from './format.ts';
import { type AmazonQCustomNotification, renderAmazonQ } from './render-amazon-q.ts';
import { renderEmail } from './render-email.ts';
import { type NotificationV2, renderJson } from './render-json.ts';
import { renderSubject } from './render-subject.ts';
import { MESSAGE_BUDGET_BYTES, snsMessage } from './sns.ts';

/** Free text that comes from outside (error bodies, parameter values) is cut to this first. */
const FREE_TEXT_CAPS = [4_000, 1_000, 200, 40] as const;

export interface RenderOptions {
  /** The AWS region the stack runs in, named in every command. */
  readonly region?: string;
  /** The monitor function's name, for the snooze commands. */
  readonly functionName?: string;
}

export interface RenderedNotification {
  readonly content: Content;
  /** SNS Subject: printable ASCII, one line, 1..99 characters. */
  readonly subject: string;
  /** Plain text for email: what happened and what to do. */
  readonly text: string;
  readonly chat: AmazonQCustomNotification;
  readonly structured: NotificationV2;
}

/** Renders one notification in every format, within the SNS size limit. */
export function renderNotification(
  n: Notification,
  options: RenderOptions = {},
): RenderedNotification {
  let rendered: RenderedNotification | undefined;
  for (const cap of FREE_TEXT_CAPS) {
    rendered = renderWithCap(n, cap, options);
    if (utf8Bytes(snsMessage(rendered)) <= MESSAGE_BUDGET_BYTES) return rendered;
  }
  // Only an absurdly long account label gets here; the smallest rendering is the best we have.
  return rendered as RenderedNotification;
}

function renderWithCap(n: Notification, cap: number, options: RenderOptions): RenderedNotification {
  const content = buildContent(n, {
    freeTextCap: cap,
    ...(options.region !== undefined && { region: options.region }),
    ...(options.functionName !== undefined && { functionName: options.functionName }),
  });
  const subject = renderSubject(content);
  const text = renderEmail(content);
  return {
    content,
    subject,
    text,
    chat: renderAmazonQ(content, subject),
    structured: renderJson(n, content, { subject, text }, cap),
  };
}
