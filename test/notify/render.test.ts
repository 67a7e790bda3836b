import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { NOTIFICATION_KINDS, type Notification } from '../../lambda/common/types.ts';
import { renderNotification as renderIn } from '../../lambda/notify/render.ts';
import {
  type AmazonQCustomNotification,
  CHAT_DESCRIPTION_MAX,
  CHAT_TITLE_MAX,
} from '../../lambda/notify/render-amazon-q.ts';
import type { NotificationV2 } from '../../lambda/notify/render-json.ts';
import { renderNotificationMessage } from '../../lambda/notify/render-slack.ts';
import { SNS_MAX_BYTES, toSnsPublish } from '../../lambda/notify/sns.ts';
import { base, cases, REGION, THRESHOLD_PARAM } from '../support/notification-cases.ts';
import { validateNotificationV2 } from '../support/notification-schema.ts';

const schema = JSON.parse(
  readFileSync(
    new URL('../fixtures/amazon-q-custom-notification.schema.json', import.meta.url),
    'utf8',
  ),
);
const validateChat = new Ajv({ allErrors: true, strict: true }).compile(schema);

function expectValidChat(chat: unknown): void {
  const ok = validateChat(chat);
  expect(validateChat.errors ?? [], JSON.stringify(chat)).toEqual([]);
  expect(ok).toBe(true);
}

const ALL_KINDS = NOTIFICATION_KINDS;

/** The function's name, as Lambda sets AWS_LAMBDA_FUNCTION_NAME. */
const FUNCTION_NAME = 'NgrokBalanceAlert-Monitor1A2B3C';
const renderNotification = (n: Notification) =>
  renderIn(n, { region: REGION, functionName: FUNCTION_NAME });

function expectValidV2(value: unknown): void {
  const ok = validateNotificationV2(value);
  expect(validateNotificationV2.errors ?? [], JSON.stringify(value)).toEqual([]);
  expect(ok).toBe(true);
}

const allNotifications = Object.values(cases);

describe('renderNotification', () => {
  it('has a readable case for every notification kind', () => {
    expect(new Set(allNotifications.map((n) => n.kind))).toEqual(new Set(ALL_KINDS));
  });

  describe.each(Object.entries(cases))('%s', (name, n) => {
    // Rendered per test, not at collection time, so mutation testing can tell tests apart.
    let r: ReturnType<typeof renderNotification>;
    beforeEach(() => {
      r = renderNotification(n);
    });

    it('renders the email (subject and text) as a person reads it', async () => {
      await expect(`Subject: ${r.subject}\n\n${r.text}`).toMatchFileSnapshot(
        `./__snapshots__/${name}.email.txt`,
      );
    });

    it('renders the chat notification', async () => {
      await expect(`${JSON.stringify(r.chat, null, 2)}\n`).toMatchFileSnapshot(
        `./__snapshots__/${name}.chat.json`,
      );
    });

    it('renders the structured notification', async () => {
      // The text is the email snapshot and the content is what every other snapshot shows.
      const shown = { ...r.structured, text: '(the email text)', content: '(the content)' };
      await expect(`${JSON.stringify(shown, null, 2)}\n`).toMatchFileSnapshot(
        `./__snapshots__/${name}.structured.json`,
      );
    });

    it('renders the Slack Block Kit message from the structured copy', async () => {
      const slack = renderNotificationMessage(r.structured);
      await expect(`${JSON.stringify(slack, null, 2)}\n`).toMatchFileSnapshot(
        `./__snapshots__/${name}.slack.json`,
      );
    });

    it('produces a chat payload that matches the Amazon Q custom notification schema', () => {
      expectValidChat(r.chat);
    });

    it('produces a structured copy that matches the version 2 JSON Schema', () => {
      expectValidV2(JSON.parse(JSON.stringify(r.structured)));
    });

    it('names the region in every command it prints', () => {
      // Prepare
      const commands = r.content.steps.flatMap((s) => (s.command ? [s.command] : []));
      const awsLines = r.text.split('\n').filter((line) => /\baws \w/.test(line));

      // Assess
      for (const line of awsLines) expect(line).toContain(` --region ${REGION} `);
      for (const command of commands) expect(r.text).toContain(`\n    ${command}\n`);
    });

    it('says everything needed to act: account, top-up link, threshold command', () => {
      expect(r.text).toContain(n.account);
      expect(r.text).toContain('https://app.ngrok.ai/credits');
      if (n.kind.startsWith('spike-')) {
        // A spike is about spend, not the threshold: its fix is a key and its settings.
        expect(r.text).toContain('spikeFactor');
      }
      // Failures, top-ups, spikes, snooze confirmations, the digest and expiry warnings are
      // not about the threshold.
      const aboutThreshold =
        ![
          'monitor-failing',
          'monitor-reminder',
          'snooze-set',
          'snooze-ended',
          'weekly-digest',
          'credit-expiry',
        ].includes(n.kind) &&
        !n.kind.startsWith('top-up-') &&
        !n.kind.startsWith('spike-');
      if (aboutThreshold) {
        expect(r.text).toContain(
          `aws ssm put-parameter --region ${REGION} --name ${THRESHOLD_PARAM} --type String ` +
            `--value ${n.kind === 'config-problem' ? 'CENTS' : '1000'} --overwrite`,
        );
        expect(r.text).toContain('Warning threshold: $10.00');
        expect(r.text).toContain('Critical threshold: $2.00');
      }
    });

    it('keeps the structured copy in step with the email', () => {
      expect(r.structured.subject).toBe(r.subject);
      expect(r.structured.text).toBe(r.text);
      expect(r.structured.kind).toBe(n.kind);
      expect(r.structured.test).toBe(n.kind === 'test');
      expect(r.structured.links[0]).toEqual({
        label: 'Top up credits',
        url: 'https://app.ngrok.ai/credits',
      });
    });
  });

  it('ends every balance alert and reminder with the command that snoozes it for a day', () => {
    for (const n of [base, cases['balance-reminder'] as Notification]) {
      const steps = renderNotification(n).content.steps;
      expect(steps.at(-1)?.command).toBe(
        `aws lambda invoke --region ${REGION} --function-name ${FUNCTION_NAME} ` +
          '--cli-binary-format raw-in-base64-out ' +
          `--payload '{"snooze":{"account":"prod","for":"24h"}}' /dev/stdout`,
      );
    }
    expect(renderNotification(cases['balance-recovered'] as Notification).text).not.toContain(
      'snooze',
    );
  });

  it('names the level, the balance and the thresholds of a low-balance alert', () => {
    const r = renderNotification(base);
    expect(r.subject).toBe('ngrok credits low (prod): $4.99 left, threshold $10.00');
    expect(r.text).toContain('\nBalance: $4.99\n');
    expect(r.text).toContain('\nLevel: low (below the warning threshold)\n');
  });

  it('uses stronger words for critical and empty', () => {
    expect(renderNotification(cases['balance-alert-critical'] as Notification).subject).toBe(
      'ngrok credits critical (prod): $1.50 left, critical threshold $2.00',
    );
    const empty = renderNotification(cases['balance-alert-empty'] as Notification);
    expect(empty.subject).toContain('EMPTY');
    expect(empty.text).toContain('EMPTY: AI Gateway requests are being rejected');
  });

  it('words a runway alert by when the credits run out, not by the threshold', () => {
    const r = renderNotification(cases['balance-alert-runway'] as Notification);
    expect(r.subject).toBe('ngrok credits run out in about 1.9 days (prod): $25.00 left');
    expect(r.text).toContain('even though the balance ($25.00) is above the warning threshold');
    expect(r.text).toContain('about 1.9 days at $13.16/day (usage over the last 7 days)');
  });

  it('lists up to three top spenders with their share', () => {
    const r = renderNotification(base);
    expect(r.text).toContain(
      'ak_2abcDEF123 $12.40 (62%), ak_2ghiJKL456 $5.60 (28%), ak_2mnoPQR789 $2.00 (10%)',
    );
  });

  it('shows why there is no forecast when there is none', () => {
    const r = renderNotification(cases['balance-alert-no-forecast'] as Notification);
    expect(r.text).toContain(
      'forecast unavailable: the usage overview returned no data for the last 7 days',
    );
  });

  it('shows negative balances with a minus sign before the dollar sign', () => {
    const r = renderNotification(cases['balance-alert-empty'] as Notification);
    expect(r.subject).toContain('-$1.25');
    expect(r.text).toContain('-$1.25');
    expect(r.structured.balanceCents).toBe(-125);
  });

  it('says when a reminder started', () => {
    const r = renderNotification(cases['balance-reminder'] as Notification);
    expect(r.subject.startsWith('Reminder: ')).toBe(true);
    expect(r.text).toContain('since 2025-06-01 15:00 UTC');
  });

  it('tells how to replace a rejected API key, and that the last known level is not confirmed', () => {
    const r = renderNotification({
      ...(cases['monitor-failing-auth'] as Notification),
      level: 'low',
      balanceCents: 700,
    });
    expect(r.text).toContain('cannot read the balance');
    expect(r.text).toContain('401/403');
    expect(r.text).toContain('https://app.ngrok.ai');
    expect(r.text).toContain('--type SecureString');
    expect(r.text).toContain('the last known level (low, $7.00) is not confirmed');
    expect(r.text).toContain('Level: low (last known, not confirmed)');
  });

  it('claims no last known level when no balance was ever read (a first run, the local check)', () => {
    const { balanceCents: _never, ...auth } = cases['monitor-failing-auth'] as Notification;
    const r = renderNotification({ ...auth, level: 'ok' });
    expect(r.text).toContain(
      'Until the monitor can read it, the balance and its level are unknown.',
    );
    expect(r.text).toMatch(/^Level: unknown$/m);
    expect(r.text).not.toContain('last known');
  });

  it('stores a key from a prompt through stdin, never as an argument', () => {
    // Prepare
    const n = cases['monitor-failing-auth'] as Notification;

    // Act
    const command = renderNotification(n).content.steps.find((s) => s.command)?.command;

    // Assess
    expect(command).toBe(
      `read -rs NGROK_API_KEY && printf '%s' "$NGROK_API_KEY" | aws ssm put-parameter ` +
        `--region ${REGION} --name /ngrok-balance-alert/api-key --type SecureString ` +
        '--value file:///dev/stdin --overwrite',
    );
    expect(command).not.toMatch(/--value "?\$/);
  });

  it('shows a placeholder region when none is known, never a bare command', () => {
    const text = renderIn(base).text;
    expect(text).toContain('aws ssm put-parameter --region YOUR_REGION --name');
  });

  it('shows the missing-key message, and the command that creates the parameter', () => {
    const n = cases['monitor-failing-missing-key'] as Notification;
    const { text } = renderNotification(n);
    expect(text).toContain(n.failure?.message);
    expect(text).toContain(
      `aws ssm put-parameter --region ${REGION} --name /ngrok-balance-alert/api-key --type SecureString --value file:///dev/stdin`,
    );
  });

  it('keeps commands copyable in chat: no angle brackets replaced inside them', () => {
    for (const n of allNotifications) {
      for (const step of renderNotification(n).chat.content.nextSteps ?? []) {
        const command = /`([^`]*)`/.exec(step)?.[1];
        if (command) expect(command).not.toMatch(/[‹›]/);
      }
    }
  });

  it('counts consecutive transient failures and says the monitor keeps retrying', () => {
    const r = renderNotification(cases['monitor-failing'] as Notification);
    expect(r.text).toContain('for 4 consecutive checks since 2025-06-02 06:00 UTC');
    expect(r.text).toContain('it will keep retrying');
  });

  it('lists configuration problems after the steps of an alert, and counts the ones not shown', () => {
    // Prepare
    const configProblems = Array.from({ length: 12 }, (_, i) => ({
      parameterName: `/p/${i}`,
      message: `problem ${i}`,
    }));

    // Act
    const { text } = renderNotification({ ...base, configProblems });

    // Assess
    expect(text).toContain(
      '\n\nConfiguration problems (the deployed defaults are in use until they are fixed):\n' +
        '- problem 0\n',
    );
    expect(text.indexOf('Configuration problems')).toBeGreaterThan(text.indexOf('What to do:'));
    expect(text).toContain('- problem 9\n- and 2 more\n');
    expect(text).not.toContain('problem 10');
  });

  it('lists every configuration problem', () => {
    const n = cases['config-problem'] as Notification;
    const r = renderNotification(n);
    expect(r.text).toContain(n.configProblems[0]?.message);
    expect(r.chat.content.description).toContain('ten dollars');
  });

  it('marks a test clearly and says no action is needed', () => {
    const r = renderNotification(cases.test as Notification);
    expect(r.subject.startsWith('[TEST]')).toBe(true);
    expect(r.text).toContain('No action is needed');
    expect(r.text).toContain('proves that this channel receives');
    expect(r.chat.content.keywords).toContain('TEST');
  });

  it('threads chat notifications per account', () => {
    const r = renderNotification(base);
    expect(r.chat.metadata.threadId).toBe('ngrok-balance-alert-prod');
    const other = renderNotification({ ...base, account: 'Production — Zürich 🚀' });
    expect(other.chat.metadata.threadId).toMatch(
      /^ngrok-balance-alert-Production-Zurich-[0-9a-f]{8}$/,
    );
  });

  it('keeps the chat title and description within our own caps', () => {
    const long = 'x'.repeat(10_000);
    const r = renderNotification({
      ...cases['monitor-failing'],
      account: long,
      failure: { kind: 'transient', message: long },
    } as Notification);
    expect(r.chat.content.title.length).toBeLessThanOrEqual(CHAT_TITLE_MAX);
    expect(r.chat.content.description.length).toBeLessThanOrEqual(CHAT_DESCRIPTION_MAX);
    expectValidChat(r.chat);
  });

  it('does not let outside text turn into Slack mentions or links in chat', () => {
    const r = renderNotification({
      ...cases['monitor-failing'],
      failure: { kind: 'transient', message: 'upstream said <!channel> <https://evil|click>' },
    } as Notification);
    expect(r.chat.content.description).not.toMatch(/[<>]/);
    expect(r.text).toContain('<!channel>');
  });
});

describe('renderNotification subject', () => {
  it('cuts a 300-character account label and keeps the amounts', () => {
    const r = renderNotification({ ...base, account: 'a'.repeat(300) });
    expect(r.subject.length).toBeLessThan(100);
    expect(r.subject).toMatch(/^ngrok credits low \(a+\.\.\.\): \$4\.99 left, threshold \$10\.00$/);
  });

  it('transliterates a non-ASCII account label to one ASCII line', () => {
    const r = renderNotification({ ...base, account: 'Production — Zürich 🚀\n  line two' });
    expect(r.subject).toBe(
      'ngrok credits low (Production - Zurich line two): $4.99 left, threshold $10.00',
    );
    expect(r.chat.content.title).toContain('Production — Zürich 🚀 line two');
  });

  it('cuts a long label at a word without leaving a space before the ellipsis', () => {
    for (const account of [`x${' y'.repeat(200)}`, `xx${' y'.repeat(200)}`]) {
      const { subject } = renderNotification({ ...base, account });
      expect(subject).toMatch(/y\.\.\.\): \$4\.99 left, threshold \$10\.00$/);
      expect(subject.length).toBeGreaterThanOrEqual(97);
    }
  });

  it('is never empty, even for an account label with nothing printable', () => {
    const r = renderNotification({ ...base, account: '🚀🚀\n\t' });
    expect(r.subject).toBe('ngrok credits low (unnamed): $4.99 left, threshold $10.00');
  });

  it('is printable ASCII on one line, 1 to 99 characters, for any account label', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.string({ unit: 'grapheme', maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 400 }),
        ),
        fc.constantFrom(...allNotifications),
        (account, n) => {
          const { subject } = renderNotification({ ...n, account });
          expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
          expect(subject.length).toBeGreaterThanOrEqual(1);
          expect(subject.length).toBeLessThanOrEqual(99);
        },
      ),
      { seed: 20_261_207 },
    );
  });
});

describe('toSnsPublish', () => {
  const parse = (n: Notification) => {
    const publish = toSnsPublish(renderNotification(n), n.account);
    return { publish, message: JSON.parse(publish.Message) as Record<string, string> };
  };

  it('builds one json-structured publish with a message for every protocol', () => {
    const r = renderNotification(base);
    const { publish, message } = parse(base);
    expect(publish.Subject).toBe(r.subject);
    expect(publish.MessageStructure).toBe('json');
    expect(publish.MessageAttributes).toEqual({
      account: { DataType: 'String', StringValue: 'prod' },
    });
    expect(Object.keys(message).sort()).toEqual(
      ['default', 'email', 'email-json', 'https', 'lambda', 'sqs'].sort(),
    );
    expect(message.email).toBe(r.text);
  });

  it('puts the chat notification, as a JSON string, in default and https', () => {
    const { message } = parse(base);
    const chat = JSON.parse(message.default as string) as AmazonQCustomNotification;
    expectValidChat(chat);
    expect(JSON.parse(message.https as string)).toEqual(chat);
  });

  it('puts the structured notification in lambda, sqs and email-json', () => {
    const { message } = parse(base);
    const structured = JSON.parse(message.lambda as string) as NotificationV2;
    expect(structured.version).toBe(2);
    expectValidV2(structured);
    expect(JSON.parse(message.sqs as string)).toEqual(structured);
    expect(JSON.parse(message['email-json'] as string)).toEqual(structured);
  });

  it('stays under 256 KiB with a huge failure message', () => {
    const huge = 'GET /credits failed: "\\\n\u0001🚀é '.repeat(40_000);
    const n: Notification = {
      ...(cases['monitor-failing'] as Notification),
      failure: { kind: 'transient', message: huge },
      configProblems: Array.from({ length: 50 }, (_, i) => ({
        parameterName: `/p/${i}`,
        message: huge,
      })),
    };
    const r = renderNotification(n);
    const publish = toSnsPublish(r, n.account);
    expect(Buffer.byteLength(publish.Message, 'utf8')).toBeLessThan(SNS_MAX_BYTES);
    expect(r.text).toContain('truncated');
    expect(r.text.split('\n')[0]).toContain('it will keep retrying');
    expect(r.text).not.toContain('\u0001');
    expect(r.structured.failure?.kind).toBe('transient');
    expectValidChat(JSON.parse(JSON.parse(publish.Message).default));
  });

  it('shows the wire format of a publish', async () => {
    await expect(
      `${JSON.stringify(toSnsPublish(renderNotification(base), 'prod'), null, 2)}\n`,
    ).toMatchFileSnapshot('./__snapshots__/sns-publish.json');
  });
});
