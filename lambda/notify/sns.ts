/**
 * The SNS envelope: one publish per notification with MessageStructure json, a message per
 * protocol. Pure.
 */
import type { AmazonQCustomNotification } from './render-amazon-q.ts';
import type { NotificationV2 } from './render-json.ts';

/** SNS rejects a Publish whose message (with its attributes) exceeds 256 KiB. */
export const SNS_MAX_BYTES = 262_144;
/** What the Message may use; the rest is left for the attributes and the Subject. */
export const MESSAGE_BUDGET_BYTES = SNS_MAX_BYTES - 4_096;

export interface SnsPublishFields {
  readonly Subject: string;
  readonly Message: string;
  readonly MessageStructure: 'json';
  readonly MessageAttributes: {
    readonly account: { readonly DataType: 'String'; readonly StringValue: string };
  };
}

/** The formats the envelope carries. */
export interface SnsFormats {
  readonly subject: string;
  readonly text: string;
  readonly chat: AmazonQCustomNotification;
  readonly structured: NotificationV2;
}

/** Builds the SNS Publish input fields for one rendered notification. */
export function toSnsPublish(r: SnsFormats, account: string): SnsPublishFields {
  return {
    Subject: r.subject,
    Message: snsMessage(r),
    MessageStructure: 'json',
    MessageAttributes: { account: { DataType: 'String', StringValue: account } },
  };
}

/**
 * The per-protocol message. Amazon Q requires `default` (it subscribes over https) and drops
 * anything it cannot parse, so `default` and `https` carry the chat notification. Lambda
 * subscribers (the Slack webhook among them), SQS and email-json get the version 2 JSON.
 */
export function snsMessage(r: SnsFormats): string {
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
