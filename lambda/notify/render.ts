/**
 * Renders one notification for every format the SNS topic carries, from one content, within
 * the SNS size limit: free text from outside is cut harder until the whole message fits, and
 * a weekly digest too long for it lists fewer accounts and says how many it left out.
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
    if (fits(rendered)) return rendered;
  }
  const accounts = n.digest?.accounts.length ?? 0;
  if (accounts > 0) return fewerDigestAccounts(n, accounts, options);
  // Only an absurdly long account label gets here; the smallest rendering is the best we have.
  return rendered as RenderedNotification;
}

function fits(r: RenderedNotification): boolean {
  return utf8Bytes(snsMessage(r)) <= MESSAGE_BUDGET_BYTES;
}

/**
 * The weekly digest with as many accounts as fit the SNS limit, found by bisection; every
 * copy, the email and the JSON included, says how many it leaves out.
 */
function fewerDigestAccounts(
  n: Notification,
  accounts: number,
  options: RenderOptions,
): RenderedNotification {
  const cap = FREE_TEXT_CAPS[1];
  const withAccounts = (shown: number) => renderWithCap(n, cap, options, shown);
  let fitting = withAccounts(0);
  let fits0 = 0;
  let tooMany = accounts;
  while (tooMany - fits0 > 1) {
    const mid = Math.floor((fits0 + tooMany) / 2);
    const r = withAccounts(mid);
    if (fits(r)) {
      fits0 = mid;
      fitting = r;
    } else {
      tooMany = mid;
    }
  }
  return fitting;
}

function renderWithCap(
  n: Notification,
  cap: number,
  options: RenderOptions,
  digestAccounts?: number,
): RenderedNotification {
  const content = buildContent(n, {
    freeTextCap: cap,
    ...(digestAccounts !== undefined && { digestAccounts }),
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
