import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetParameterCommand, type ParameterType, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  NOTIFICATION_KINDS,
  type Notification,
  type NotificationKind,
} from '../lambda/common/types.ts';
import { renderNotification } from '../lambda/notify/render.ts';
import type { NotificationV2 } from '../lambda/notify/render-json.ts';
import {
  bodySections,
  escapeMrkdwn,
  HEADER_TEXT_MAX,
  MAX_BLOCKS,
  MAX_BODY_SECTIONS,
  renderNotificationMessage,
  renderSlackMessage,
  SECTION_TEXT_MAX,
  type SlackMessage,
  truncateMrkdwn,
} from '../lambda/notify/render-slack.ts';
import { toSnsPublish } from '../lambda/notify/sns.ts';
import {
  createHandler,
  type HandlerDeps,
  handler as lambdaHandler,
  postToSlack,
  redactWebhookUrl,
  SlackWebhookError,
  type SnsEvent,
} from '../lambda/slack-webhook.ts';

// ---------------------------------------------------------------------------------------------
// A local stand-in for Slack

const SECRET = 'SECRETTOKEN';
const WEBHOOK_PATH = `/services/T000/B000/${SECRET}`;
const PARAMETER = '/ngrok-balance-alert/slack-webhook-url';

interface Received {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
}

type Reply = (req: IncomingMessage, res: ServerResponse, index: number) => void;

interface FakeSlack {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

const servers: Server[] = [];

async function fakeSlack(reply: Reply): Promise<FakeSlack> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: String(req.headers['content-type'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      reply(req, res, received.length - 1);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    received,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => (s.listening ? closeServer(s) : undefined)));
});

const answer =
  (status: number, body: string, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };

/** Answers from a list, repeating the last entry. */
const sequence =
  (...replies: ((req: IncomingMessage, res: ServerResponse) => void)[]): Reply =>
  (req, res, index) =>
    (replies[Math.min(index, replies.length - 1)] as (typeof replies)[number])(req, res);

/** Never answers: the request hangs until the client gives up. */
const silence: Reply = () => {};

// ---------------------------------------------------------------------------------------------
// Notifications as SNS delivers them to a Lambda subscriber

const base = {
  kind: 'balance-alert',
  account: 'prod',
  level: 'low',
  reason: 'balance',
  previousLevel: 'ok',
  balanceCents: 499,
  thresholds: { thresholdCents: 1000, criticalThresholdCents: 200, recoveryMarginCents: 100 },
  thresholdParameterName: '/ngrok-balance-alert/prod/threshold-cents',
  tokenParameterName: '/ngrok-balance-alert/api-key',
  configProblems: [],
  at: '2025-06-02T09:00:00.000Z',
  // What an expiry warning carries besides the balance; the other kinds ignore it.
  expiry: {
    amountCents: 3000,
    category: 'purchase',
    createdAt: '2024-12-10T08:00:00.000Z',
    expiresAt: '2025-12-10T08:00:00.000Z',
    final: false,
  },
} as Notification;

const KINDS = NOTIFICATION_KINDS;

function notificationOf(kind: NotificationKind, extra: Partial<Notification> = {}): Notification {
  const failing = kind.startsWith('monitor-') && kind !== 'monitor-recovered';
  return {
    ...base,
    kind,
    ...(kind === 'balance-recovered' && { level: 'ok', previousLevel: 'low', balanceCents: 2500 }),
    ...(failing && {
      balanceCents: undefined,
      failure: { kind: 'transient', message: 'GET /credits/balance timed out after 5000 ms' },
      consecutiveFailures: 3,
      since: '2025-06-02T08:00:00.000Z',
    }),
    ...(kind === 'config-problem' && {
      configProblems: [
        {
          parameterName: '/ngrok-balance-alert/prod/threshold-cents',
          message: 'holds "ten dollars", which is not a whole number of cents',
        },
      ],
    }),
    ...extra,
  } as Notification;
}

/** What a Lambda subscriber receives: the `lambda` member of the MessageStructure json. */
function lambdaMessageOf(n: Notification): string {
  const publish = toSnsPublish(renderNotification(n), n.account);
  return (JSON.parse(publish.Message) as { lambda: string }).lambda;
}

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:alerts';

function snsEvent(message: string, subject: string | null = 'subject'): SnsEvent {
  return { Records: [{ Sns: { MessageId: 'm-1', Message: message, Subject: subject } }] };
}

// ---------------------------------------------------------------------------------------------
// Checks on a Block Kit payload

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Problems Slack would reject (or that would look broken); empty when the message is fine. */
function blockKitProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  /** mrkdwn texts (the fallback text is parsed as mrkdwn too); plain_text is shown literally. */
  const texts: string[] = [message.text];
  const plain: string[] = [];
  if (!message.text) problems.push('empty fallback text');
  if (message.blocks.length === 0) problems.push('no blocks');
  if (message.blocks.length > MAX_BLOCKS) problems.push(`${message.blocks.length} blocks`);
  for (const [i, block] of message.blocks.entries()) {
    switch (block.type) {
      case 'header':
        plain.push(block.text.text);
        if (block.text.type !== 'plain_text') problems.push(`header ${i} is not plain_text`);
        if (block.text.text.length > HEADER_TEXT_MAX || block.text.text.length === 0) {
          problems.push(`header ${i} has ${block.text.text.length} characters`);
        }
        break;
      case 'section':
        texts.push(block.text.text);
        if (block.text.text.length > SECTION_TEXT_MAX || block.text.text.trim().length === 0) {
          problems.push(`section ${i} has ${block.text.text.length} characters`);
        }
        break;
      case 'context':
        if (block.elements.length === 0 || block.elements.length > 10) {
          problems.push(`context ${i} has ${block.elements.length} elements`);
        }
        for (const e of block.elements) {
          texts.push(e.text);
          if (e.text.length > SECTION_TEXT_MAX || e.text.length === 0) {
            problems.push(`context ${i} element has ${e.text.length} characters`);
          }
        }
        break;
      case 'divider':
        break;
    }
  }
  for (const text of [...texts, ...plain]) {
    if (LONE_SURROGATE.test(text)) problems.push('a text splits a surrogate pair');
  }
  for (const text of texts) {
    // Anything Slack would parse as a mention or link must come from the renderer itself.
    if (/<(?!https:\/\/app\.ngrok\.ai\/credits\|Top up credits>)/.test(text)) {
      problems.push(`unescaped "<" in ${JSON.stringify(text.slice(0, 80))}`);
    }
    if (/&(?!amp;|lt;|gt;)/.test(text)) {
      problems.push(`unescaped "&" in ${JSON.stringify(text.slice(0, 80))}`);
    }
    if (text.replace(/<https:[^<>]*>/g, '').includes('>')) {
      problems.push(`unescaped ">" in ${JSON.stringify(text.slice(0, 80))}`);
    }
  }
  return problems;
}

function allText(message: SlackMessage): string {
  return JSON.stringify(message);
}

// ---------------------------------------------------------------------------------------------
// Rendering

describe('Block Kit rendering', () => {
  it.each(KINDS)('renders a valid message for a %s notification', (kind) => {
    const rendered = renderSlackMessage(lambdaMessageOf(notificationOf(kind)), 'ignored');
    expect(rendered.kind).toBe('notification');
    expect(blockKitProblems(rendered.message)).toEqual([]);
    const [header] = rendered.message.blocks;
    expect(header?.type).toBe('header');
    // The fallback is the subject, so that notifications and previews read well.
    const structured = JSON.parse(lambdaMessageOf(notificationOf(kind))) as NotificationV2;
    expect(rendered.message.text).toBe(escapeMrkdwn(structured.subject));
    expect(allText(rendered.message)).toContain('<https://app.ngrok.ai/credits|Top up credits>');
    const context = rendered.message.blocks.find((b) => b.type === 'context');
    expect(JSON.stringify(context)).toContain('*Account:* prod');
    expect(JSON.stringify(context)).toContain(`*Level:* ${structured.level}`);
  });

  it('marks a test notification visibly', () => {
    const { message } = renderSlackMessage(lambdaMessageOf(notificationOf('test')));
    expect(message.text).toMatch(/^\[TEST\]/);
    const [header, banner] = message.blocks;
    expect(header).toMatchObject({
      type: 'header',
      text: { text: expect.stringMatching(/^:test_tube: \[TEST\]/) },
    });
    expect(banner).toMatchObject({
      type: 'section',
      text: { text: expect.stringContaining('This is a test notification') },
    });
    expect(allText(message)).toContain('(test)');
  });

  it('marks a structured copy flagged as a test even when its subject is not', () => {
    const structured = JSON.parse(
      lambdaMessageOf(notificationOf('balance-alert')),
    ) as NotificationV2;
    const message = renderNotificationMessage({ ...structured, test: true });
    expect(message.text.startsWith('[TEST] ')).toBe(true);
    expect(message.blocks[0]).toMatchObject({ text: { text: expect.stringContaining('[TEST] ') } });
  });

  it('does not mark an ordinary alert as a test', () => {
    const { message } = renderSlackMessage(lambdaMessageOf(notificationOf('balance-alert')));
    expect(allText(message)).not.toMatch(/\[TEST\]|test notification|\(test\)/i);
    expect(message.blocks[0]).toMatchObject({
      text: { text: expect.stringMatching(/^:warning: /) },
    });
  });

  it('escapes text from outside so that it cannot mention the channel or inject links', () => {
    const n = notificationOf('monitor-failing', {
      failure: {
        kind: 'transient',
        message: 'upstream said <!channel> & <https://evil.example|click>',
      },
    });
    const { message } = renderSlackMessage(lambdaMessageOf(n));
    expect(blockKitProblems(message)).toEqual([]);
    expect(allText(message)).not.toContain('<!channel>');
    expect(allText(message)).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
  });

  it('shows commands as inline code and other indented lines as text', () => {
    const { message } = renderSlackMessage(lambdaMessageOf(notificationOf('balance-alert')));
    const body = message.blocks.find((b) => b.type === 'section');
    const codeSpans = JSON.stringify(body).match(/`[^`]*`/g) ?? [];
    expect(codeSpans.length).toBeGreaterThan(0);
    for (const span of codeSpans) expect(span).toMatch(/^`aws /);
    expect(allText(message)).toMatch(
      /`aws ssm put-parameter --region \S+ --name \/ngrok-balance-alert\/prod\/threshold-cents[^`]*`/,
    );
  });

  it('shows the key-storing command as code, like every other command', () => {
    // Prepare
    const n = notificationOf('monitor-failing', { failure: { kind: 'auth', message: '401' } });

    // Act
    const { message } = renderSlackMessage(lambdaMessageOf(n));

    // Assess
    expect(allText(message)).toMatch(/`read -rs NGROK_API_KEY &amp;&amp; printf [^`]*`/);
  });

  it('renders from the content it carries, not from the email text', () => {
    // Prepare
    const structured = JSON.parse(
      lambdaMessageOf(notificationOf('balance-alert')),
    ) as NotificationV2;

    // Act
    const message = renderNotificationMessage({ ...structured, text: 'nothing to see here' });

    // Assess
    expect(allText(message)).toContain(structured.content.headline);
    expect(allText(message)).not.toContain('nothing to see here');
  });

  it('posts a version 1 message from before an upgrade as received, with its subject', () => {
    // Prepare
    const v1 = JSON.stringify({
      schema: 'ngrok-balance-alert.notification.v1',
      kind: 'balance-alert',
      account: 'prod',
      level: 'low',
      subject: 'ngrok credits low (prod)',
      text: 'The balance is low.',
    });

    // Act
    const rendered = renderSlackMessage(v1, 'ngrok credits low (prod)');

    // Assess
    expect(rendered.kind).toBe('raw');
    expect(rendered.message.text).toBe('ngrok credits low (prod)');
    expect(blockKitProblems(rendered.message)).toEqual([]);
  });

  it('splits a long body into sections of at most 3000 characters and cuts beyond the cap', () => {
    const paragraph = `${'word '.repeat(500)}\n`;
    const long = Array.from({ length: 40 }, () => paragraph).join('\n');
    const sections = bodySections(escapeMrkdwn(long));
    expect(sections.length).toBe(MAX_BODY_SECTIONS);
    for (const s of sections) {
      expect(s.type).toBe('section');
      if (s.type === 'section') expect(s.text.text.length).toBeLessThanOrEqual(SECTION_TEXT_MAX);
    }
    const last = sections.at(-1);
    expect(last?.type === 'section' && last.text.text).toContain('message cut');
  });

  it('cuts a single enormous line, even one inside a code span, without looping', () => {
    const sections = bodySections(escapeMrkdwn(`    \`${'x'.repeat(10_000)}\``));
    expect(sections.length).toBe(MAX_BODY_SECTIONS);
  });

  it('never cuts inside an escaped entity, a link or a surrogate pair', () => {
    expect(truncateMrkdwn(`${'a'.repeat(8)}&amp;b`, 11)).toBe(`${'a'.repeat(8)}…`);
    expect(truncateMrkdwn(`aa <https://x.example|label> b`, 12)).toBe('aa …');
    expect(truncateMrkdwn(`${'a'.repeat(9)}😀😀`, 11)).toBe(`${'a'.repeat(9)}…`);
  });

  it('keeps every limit for arbitrary subjects, texts and account labels', () => {
    const structured = JSON.parse(
      lambdaMessageOf(notificationOf('balance-alert')),
    ) as NotificationV2;
    // Text built from the pieces that matter: escapes, links, code spans, emoji, long runs.
    const pieces = [
      '&',
      '<',
      '>',
      '`',
      '*',
      '_',
      '\n',
      '\n\n',
      '    ',
      '- ',
      '😀',
      'é',
      'word ',
      'x'.repeat(700),
    ];
    const text = (maxLength: number) =>
      fc.oneof(
        fc.string({ unit: 'grapheme' }),
        fc
          .array(fc.constantFrom(...pieces), { maxLength, size: 'max' })
          .map((parts) => parts.join('')),
      );
    fc.assert(
      fc.property(text(80), text(400), text(60), fc.boolean(), (subject, text, account, test) => {
        const content = {
          ...structured.content,
          test,
          account,
          label: account,
          headline: text,
          title: { before: subject, after: subject },
          facts: [{ label: subject, value: text }],
          steps: [{ text: subject, command: text, note: text }],
          problems: { items: [text], hidden: 0, first: test },
        };
        // As it arrives over the wire: JSON, whatever the types say.
        const message = renderNotificationMessage({
          ...structured,
          test,
          content,
        } as unknown as NotificationV2);
        expect(blockKitProblems(message)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('posts a message that is not ours as plain text rather than dropping it', () => {
    const rendered = renderSlackMessage('Hello from the console <!here> & co', 'Manual test');
    expect(rendered.kind).toBe('raw');
    expect(blockKitProblems(rendered.message)).toEqual([]);
    expect(rendered.message.text).toBe('Manual test');
    expect(allText(rendered.message)).toContain('Hello from the console &lt;!here&gt; &amp; co');
  });

  it('treats JSON that is not our schema as raw text', () => {
    const rendered = renderSlackMessage(
      '{"schema":"something-else","subject":"x","text":"y"}',
      null,
    );
    expect(rendered.kind).toBe('raw');
    expect(blockKitProblems(rendered.message)).toEqual([]);
  });

  it('renders an empty message without an empty block', () => {
    const rendered = renderSlackMessage('', undefined);
    expect(blockKitProblems(rendered.message)).toEqual([]);
  });

  it('renders CloudWatch alarm notifications from the same topic', () => {
    const alarm = {
      AlarmName: 'NgrokBalanceAlert-SlackWebhookFailuresQueued',
      AlarmDescription: 'An alert could not be posted to Slack',
      NewStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed: 1 datapoint [1.0] was >= the threshold (1.0).',
      OldStateValue: 'OK',
      StateChangeTime: '2025-06-02T09:05:00.000+0000',
      Region: 'EU (Ireland)',
    };
    const rendered = renderSlackMessage(JSON.stringify(alarm), 'ALARM: "x" in EU (Ireland)');
    expect(rendered.kind).toBe('alarm');
    expect(blockKitProblems(rendered.message)).toEqual([]);
    expect(rendered.message.blocks[0]).toMatchObject({
      text: { text: ':rotating_light: ALARM: NgrokBalanceAlert-SlackWebhookFailuresQueued' },
    });
    expect(allText(rendered.message)).toContain('*Reason:* Threshold Crossed');
  });
});

// ---------------------------------------------------------------------------------------------
// Posting

describe('postToSlack', () => {
  const message = renderSlackMessage(lambdaMessageOf(notificationOf('balance-alert'))).message;
  let sleeps: number[];
  const options = (extra: Partial<Parameters<typeof postToSlack>[2]> = {}) => ({
    deadline: Date.now() + 10_000,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    attemptTimeoutMs: 2_000,
    ...extra,
  });

  beforeEach(() => {
    sleeps = [];
  });

  it('posts the Block Kit JSON once on 200 "ok"', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    await expect(postToSlack(slack.url, message, options())).resolves.toEqual({
      status: 200,
      attempts: 1,
    });
    expect(slack.received).toHaveLength(1);
    const [request] = slack.received;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(WEBHOOK_PATH);
    expect(request?.contentType).toMatch(/^application\/json/);
    const body = JSON.parse(request?.body ?? '') as SlackMessage;
    expect(body.text).toBeTruthy();
    expect(blockKitProblems(body)).toEqual([]);
    expect(sleeps).toEqual([]);
  });

  it.each([
    [400, 'invalid_payload', /rendering/],
    [403, 'action_prohibited', /not allowed to post/],
    [404, 'channel_not_found', /no longer exists/],
    [410, 'channel_is_archived', /archived/],
  ])('does not retry HTTP %i %s', async (status, code, hint) => {
    const slack = await fakeSlack(answer(status, code));
    const error = await postToSlack(slack.url, message, options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackWebhookError);
    const e = error as SlackWebhookError;
    expect(e).toMatchObject({ status, slackError: code, retryable: false, attempts: 1 });
    expect(e.message).toContain(`HTTP ${status} ${code}`);
    expect(e.message).toMatch(hint);
    expect(slack.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('waits as long as Retry-After asks on 429, then succeeds', async () => {
    const slack = await fakeSlack(
      sequence(answer(429, 'rate_limited', { 'retry-after': '1' }), answer(200, 'ok')),
    );
    await expect(postToSlack(slack.url, message, options())).resolves.toEqual({
      status: 200,
      attempts: 2,
    });
    expect(slack.received).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1_000);
  });

  it('retries a 5xx with backoff, then succeeds', async () => {
    const slack = await fakeSlack(sequence(answer(500, 'rollup_error'), answer(200, 'ok')));
    await expect(postToSlack(slack.url, message, options())).resolves.toEqual({
      status: 200,
      attempts: 2,
    });
    expect(sleeps).toEqual([250]); // random 0.5 x base 500 ms
  });

  it('gives up after a bounded number of attempts when Slack keeps failing', async () => {
    const slack = await fakeSlack(answer(503, 'service_unavailable'));
    const error = (await postToSlack(slack.url, message, options()).catch(
      (e: unknown) => e,
    )) as SlackWebhookError;
    expect(error).toBeInstanceOf(SlackWebhookError);
    expect(error).toMatchObject({ status: 503, retryable: true, attempts: 4 });
    expect(error.message).toMatch(/HTTP 503 .*after 4 attempts/);
    expect(slack.received).toHaveLength(4);
    // Capped exponential backoff with jitter: 0.5 x min(4000, 500 x 2^n).
    expect(sleeps).toEqual([250, 500, 1_000]);
  });

  it('gives up inside the budget when Slack never answers', async () => {
    const slack = await fakeSlack(silence);
    const started = Date.now();
    const error = (await postToSlack(
      slack.url,
      message,
      options({ deadline: started + 1_200, attemptTimeoutMs: 300 }),
    ).catch((e: unknown) => e)) as SlackWebhookError;
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(SlackWebhookError);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/did not answer within 300 ms/);
    expect(elapsed).toBeLessThan(1_200 + 250);
    expect(slack.received.length).toBeGreaterThanOrEqual(1);
    expect(slack.received.length).toBeLessThanOrEqual(4);
  });

  it('fails at once when Retry-After asks for longer than the time left', async () => {
    const slack = await fakeSlack(answer(429, 'rate_limited', { 'retry-after': '30' }));
    const error = (await postToSlack(slack.url, message, options()).catch(
      (e: unknown) => e,
    )) as SlackWebhookError;
    expect(error.message).toMatch(/no time left to retry \(Slack asked to wait 30000 ms\)/);
    expect(slack.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries network errors and reports them without the URL', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    await slack.close();
    const error = (await postToSlack(slack.url, message, options()).catch(
      (e: unknown) => e,
    )) as SlackWebhookError;
    expect(error).toBeInstanceOf(SlackWebhookError);
    expect(error.attempts).toBe(4);
    expect(error.message).toMatch(/request failed/);
    expect(error.message).not.toContain(SECRET);
  });

  it('does not follow redirects', async () => {
    const slack = await fakeSlack(answer(302, '', { location: 'http://127.0.0.1:9/elsewhere' }));
    const error = (await postToSlack(slack.url, message, options()).catch(
      (e: unknown) => e,
    )) as SlackWebhookError;
    expect(error).toMatchObject({ status: 302, retryable: false });
    expect(slack.received).toHaveLength(1);
  });

  it('does not start when no time is left', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    await expect(
      postToSlack(slack.url, message, options({ deadline: Date.now() })),
    ).rejects.toThrow(/not attempted/);
    expect(slack.received).toHaveLength(0);
  });

  it('redacts webhook URLs and paths from any text', () => {
    const url = `https://hooks.slack.com${WEBHOOK_PATH}`;
    expect(redactWebhookUrl(`failed ${url} and ${WEBHOOK_PATH}`, url)).not.toContain(SECRET);
    expect(redactWebhookUrl(`see https://hooks.slack.com/services/TX/BY/zzz`)).toBe(
      'see https://hooks.slack.com/services/[redacted]',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Handler

describe('handler', () => {
  const ssmMock = mockClient(SSMClient);
  afterAll(() => ssmMock.restore());
  let logs: string[];

  const deps = (extra: Partial<HandlerDeps> = {}): HandlerDeps => ({
    ssm: new SSMClient({ region: 'eu-west-1' }),
    parameterName: PARAMETER,
    log: {
      log: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })),
      raw: (document) => logs.push(JSON.stringify(document)),
    },
    sleep: async () => {},
    random: () => 0.5,
    attemptTimeoutMs: 500,
    ...extra,
  });

  const withUrl = (url: string, type: ParameterType = 'SecureString') =>
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Name: PARAMETER, Type: type, Value: url } });

  beforeEach(() => {
    ssmMock.reset();
    logs = [];
  });

  it('refuses a record from another topic: logged, nothing posted, nothing read', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    withUrl(slack.url);
    const handle = createHandler(deps({ topicArn: TOPIC_ARN }));
    const message = lambdaMessageOf(notificationOf('balance-alert'));
    const other = `${TOPIC_ARN}-other`;
    await handle({ Records: [{ Sns: { TopicArn: other, MessageId: 'm-9', Message: message } }] });
    await handle(snsEvent(message)); // no TopicArn at all
    expect(slack.received).toEqual([]);
    expect(ssmMock.commandCalls(GetParameterCommand)).toHaveLength(0);
    const refusals = logs.filter((l) => l.includes('not from the alert topic'));
    expect(refusals).toHaveLength(2);
    expect(JSON.parse(refusals[0] ?? '{}')).toMatchObject({
      level: 'WARN',
      messageId: 'm-9',
      topicArn: other,
      expectedTopicArn: TOPIC_ARN,
    });
    await handle({ Records: [{ Sns: { TopicArn: TOPIC_ARN, MessageId: 'm', Message: message } }] });
    expect(slack.received).toHaveLength(1);
  });

  it('reads the parameter once per container, with decryption', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    withUrl(slack.url);
    const handle = createHandler(deps());
    const event = snsEvent(lambdaMessageOf(notificationOf('balance-alert')));
    await handle(event);
    await handle(event);
    expect(slack.received).toHaveLength(2);
    const calls = ssmMock.commandCalls(GetParameterCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ Name: PARAMETER, WithDecryption: true });
    expect(logs.filter((l) => l.includes('Posted to Slack'))).toHaveLength(2);
    expect(logs[0]).toContain('"notificationKind":"balance-alert"');
  });

  it('posts a test notification marked as a test', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    withUrl(slack.url);
    await createHandler(deps())(snsEvent(lambdaMessageOf(notificationOf('test'))));
    const body = JSON.parse(slack.received[0]?.body ?? '') as SlackMessage;
    expect(body.text).toMatch(/^\[TEST\]/);
    expect(JSON.stringify(body.blocks)).toContain('This is a test notification');
    expect(blockKitProblems(body)).toEqual([]);
  });

  it('posts a message that is not ours as it was published', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    withUrl(slack.url);
    await createHandler(deps())(snsEvent('plain words from the console', 'Hello'));
    const body = JSON.parse(slack.received[0]?.body ?? '') as SlackMessage;
    expect(body.text).toBe('Hello');
    expect(JSON.stringify(body.blocks)).toContain('plain words from the console');
  });

  it('fails the invocation on a permanent error and reads the parameter again next time', async () => {
    const slack = await fakeSlack(sequence(answer(404, 'channel_not_found'), answer(200, 'ok')));
    withUrl(slack.url);
    const handle = createHandler(deps());
    const event = snsEvent(lambdaMessageOf(notificationOf('balance-alert')));
    await expect(handle(event)).rejects.toThrow(/HTTP 404 channel_not_found/);
    await handle(event);
    expect(ssmMock.commandCalls(GetParameterCommand)).toHaveLength(2);
    const failure = logs.find((l) => l.includes('Could not post to Slack')) ?? '';
    expect(JSON.parse(failure)).toMatchObject({
      level: 'ERROR',
      status: 404,
      slackError: 'channel_not_found',
      retryable: false,
      parameterName: PARAMETER,
    });
  });

  it('does not cache a failed parameter read', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    ssmMock
      .on(GetParameterCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ Parameter: { Type: 'SecureString', Value: slack.url } });
    const handle = createHandler(deps());
    const event = snsEvent('x');
    await expect(handle(event)).rejects.toThrow(
      `Could not read the Slack webhook parameter ${PARAMETER}: ThrottlingException`,
    );
    await handle(event);
    expect(ssmMock.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('explains a missing parameter', async () => {
    ssmMock
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    await expect(createHandler(deps())(snsEvent('x'))).rejects.toThrow(
      `The Slack webhook parameter ${PARAMETER} does not exist`,
    );
  });

  it('rejects a parameter that does not hold an https URL, without echoing it', async () => {
    withUrl(`http://hooks.slack.example${WEBHOOK_PATH}`);
    const error = (await createHandler(deps())(snsEvent('x')).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/does not hold an https URL/);
    expect(error.message).not.toContain(SECRET);
  });

  it('warns once when the parameter is not a SecureString', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    withUrl(slack.url, 'String');
    const handle = createHandler(deps());
    await handle(snsEvent('a'));
    await handle(snsEvent('b'));
    expect(logs.filter((l) => l.includes('not a SecureString'))).toHaveLength(1);
  });

  it('stays inside the time the Lambda context has left', async () => {
    const slack = await fakeSlack(silence);
    withUrl(slack.url);
    const started = Date.now();
    const handle = createHandler(deps({ attemptTimeoutMs: 5_000, reserveMs: 200 }));
    await expect(handle(snsEvent('x'), { getRemainingTimeInMillis: () => 1_000 })).rejects.toThrow(
      /did not answer/,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('never writes the webhook URL to stdout, stderr, logs or errors', async () => {
    const captured: string[] = [];
    const capture = (chunk: unknown) => {
      captured.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const errors: unknown[] = [];
    try {
      const scenarios: Reply[] = [
        answer(404, 'channel_not_found'),
        answer(400, `invalid_payload ${WEBHOOK_PATH}`),
        answer(503, `upstream ${WEBHOOK_PATH} failed`),
        silence,
        answer(200, 'ok'),
      ];
      for (const reply of scenarios) {
        const slack = await fakeSlack(reply);
        ssmMock.reset();
        withUrl(slack.url);
        // The default logger writes to stdout, as in Lambda.
        const handle = createHandler({ ...deps(), log: undefined });
        await handle(snsEvent(lambdaMessageOf(notificationOf('balance-alert')))).catch(
          (e: unknown) => errors.push(e),
        );
      }
      const refused = await fakeSlack(answer(200, 'ok'));
      await refused.close();
      ssmMock.reset();
      withUrl(refused.url);
      await createHandler({ ...deps(), log: undefined })(snsEvent('x')).catch((e: unknown) =>
        errors.push(e),
      );
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(errors).toHaveLength(5);
    expect(captured.some((line) => line.includes('Could not post to Slack'))).toBe(true);
    const everything = [
      ...captured,
      ...errors.map((e) => (e instanceof Error ? `${e.message}\n${e.stack}` : String(e))),
      ...errors.map((e) => JSON.stringify(e)),
    ].join('\n');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('/services/T000');
    expect(everything).toMatch(/\[webhook path\]|\[redacted\]/);
  });

  it('the Lambda entry point reads the parameter named in the environment', async () => {
    const slack = await fakeSlack(answer(200, 'ok'));
    withUrl(slack.url);
    const previous = process.env.WEBHOOK_PARAMETER_NAME;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      delete process.env.WEBHOOK_PARAMETER_NAME;
      await expect(lambdaHandler(snsEvent('x'))).rejects.toThrow(
        /WEBHOOK_PARAMETER_NAME is not set/,
      );
      process.env.WEBHOOK_PARAMETER_NAME = PARAMETER;
      await expect(lambdaHandler(snsEvent('x'))).rejects.toThrow(/SUBSCRIBED_TOPIC_ARN is not set/);
      process.env.SUBSCRIBED_TOPIC_ARN = TOPIC_ARN;
      const fromTopic = (message: string): SnsEvent => ({
        Records: [{ Sns: { TopicArn: TOPIC_ARN, MessageId: 'm', Message: message } }],
      });
      await lambdaHandler(fromTopic('x'), { getRemainingTimeInMillis: () => 30_000 });
      await lambdaHandler(fromTopic('y'), { getRemainingTimeInMillis: () => 30_000 });
    } finally {
      out.mockRestore();
      if (previous === undefined) delete process.env.WEBHOOK_PARAMETER_NAME;
      else process.env.WEBHOOK_PARAMETER_NAME = previous;
      delete process.env.SUBSCRIBED_TOPIC_ARN;
    }
    expect(slack.received).toHaveLength(2);
    expect(ssmMock.commandCalls(GetParameterCommand)).toHaveLength(1);
  });
});
