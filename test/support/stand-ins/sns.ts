/**
 * A fake SNS speaking the AWS Query protocol the SDK's SNSClient uses (POST /, form-encoded
 * `Action=Publish&Version=2010-03-31&...`, XML response). Enforces the subject and message
 * rules SNS applies.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Reply, type SignedScope, StandInServer, signedScope } from './server.ts';

export interface SnsRequest {
  /** The `Action` form field, e.g. `Publish`. */
  readonly action: string;
  readonly topicArn: string | undefined;
  readonly subject: string | undefined;
  readonly message: string | undefined;
  readonly messageStructure: string | undefined;
  /** String message attributes by name. */
  readonly messageAttributes: Readonly<Record<string, string>>;
  /** Every form field as sent. */
  readonly form: Readonly<Record<string, string>>;
  readonly scope: SignedScope;
  readonly at: number;
  /** Whether the fake accepted it (a rejected publish delivers nothing). */
  readonly accepted: boolean;
}

/** SNS rejects a Publish whose message and attributes exceed 256 KiB. */
const SNS_MAX_BYTES = 262_144;

export class FakeSns extends StandInServer {
  readonly requests: SnsRequest[] = [];
  private readonly started = performance.now();
  /** When set, a Publish to any other topic is answered NotFound, as SNS would. */
  readonly topicArn: string | undefined;

  constructor(options: { latencyMs?: number; topicArn?: string } = {}) {
    super(options);
    this.topicArn = options.topicArn;
  }

  /** Publishes SNS accepted, in order. */
  get publishes(): SnsRequest[] {
    return this.requests.filter((r) => r.action === 'Publish' && r.accepted);
  }

  protected handle(req: IncomingMessage, body: string): Reply {
    const form = Object.fromEntries(new URLSearchParams(body));
    const attributes: Record<string, string> = {};
    for (const [key, name] of Object.entries(form)) {
      const match = /^MessageAttributes\.entry\.(\d+)\.Name$/.exec(key);
      if (!match) continue;
      const value = form[`MessageAttributes.entry.${match[1]}.Value.StringValue`];
      if (value !== undefined) attributes[name] = value;
    }
    const action = form.Action ?? '';
    const reply =
      req.method !== 'POST' ||
      !String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
        ? snsError(400, 'InvalidAction', 'expected a form-encoded POST')
        : action === 'Publish'
          ? this.publish(form, attributes)
          : snsError(400, 'InvalidAction', `The action ${action} is not valid for this endpoint.`);
    this.requests.push({
      action,
      topicArn: form.TopicArn,
      subject: form.Subject,
      message: form.Message,
      messageStructure: form.MessageStructure,
      messageAttributes: attributes,
      form,
      scope: signedScope(req),
      at: performance.now() - this.started,
      accepted: reply.status === 200,
    });
    return reply;
  }

  private publish(form: Record<string, string>, attributes: Record<string, string>): Reply {
    const { TopicArn: topicArn, Message: message, Subject: subject } = form;
    if (!topicArn) return snsError(400, 'InvalidParameter', 'Invalid parameter: TopicArn');
    if (this.topicArn !== undefined && topicArn !== this.topicArn) {
      return snsError(404, 'NotFound', 'Topic does not exist', 'Sender');
    }
    if (message === undefined || message === '') {
      return snsError(400, 'InvalidParameter', 'Invalid parameter: Empty message');
    }
    if (subject !== undefined && !/^[\x20-\x7e]{1,99}$/.test(subject)) {
      return snsError(
        400,
        'InvalidParameter',
        'Invalid parameter: Subject must be ASCII text that begins with a letter, number, or punctuation mark; must not include line breaks or control characters; and must be less than 100 characters long.',
      );
    }
    const size =
      Buffer.byteLength(message) +
      Object.entries(attributes).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value) + 6,
        0,
      );
    if (size > SNS_MAX_BYTES) {
      return snsError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
    }
    if (form.MessageStructure === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        return snsError(
          400,
          'InvalidParameter',
          'Invalid parameter: Message Structure - JSON message body failed to parse',
        );
      }
      const entries = typeof parsed === 'object' && parsed !== null ? Object.values(parsed) : [];
      if (typeof (parsed as { default?: unknown } | null)?.default !== 'string') {
        return snsError(
          400,
          'InvalidParameter',
          'Invalid parameter: Message Structure - No default entry in JSON message body',
        );
      }
      if (entries.some((v) => typeof v !== 'string')) {
        return snsError(
          400,
          'InvalidParameter',
          'Invalid parameter: Message Structure - every protocol entry must be a string',
        );
      }
    }
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body:
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
        `<PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
        '</PublishResponse>',
    };
  }
}

function snsError(status: number, code: string, message: string, type = 'Sender'): Reply {
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body:
      '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
      `<Error><Type>${type}</Type><Code>${code}</Code><Message>${escaped}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}
