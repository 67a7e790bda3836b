/**
 * The PagerDuty, Teams and Discord renderers against every notification kind, CloudWatch
 * alarms and hand-published messages. Snapshots are small projections a person reads (one
 * file per channel); the full body is snapshotted once per channel.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../lambda/common/types.ts';
import { classifyMessage, type Incoming } from '../../lambda/notify/incoming.ts';
import { markdownText } from '../../lambda/notify/inert.ts';
import { renderNotification } from '../../lambda/notify/render.ts';
import {
  DISCORD_LIMITS,
  type DiscordMessage,
  renderDiscord,
} from '../../lambda/notify/render-discord.ts';
import {
  DEDUP_KEY_MAX,
  KIND_HANDLING,
  renderPagerDuty,
  SUMMARY_MAX,
} from '../../lambda/notify/render-pagerduty.ts';
import {
  type CardElement,
  renderTeams,
  type TeamsMessage,
} from '../../lambda/notify/render-teams.ts';
import { base, cases, REGION } from '../support/notification-cases.ts';

/** What the topic delivers to a Lambda subscriber for a notification: the version 2 JSON. */
function incomingOf(n: Notification): Incoming {
  return classifyMessage(JSON.stringify(renderNotification(n, { region: REGION }).structured));
}

const alarm = (state: string) =>
  classifyMessage(
    JSON.stringify({
      AlarmName: 'NgrokBalanceAlert-MonitorErrors',
      AlarmDescription: 'A run of the monitor failed.',
      NewStateValue: state,
      NewStateReason: 'Threshold Crossed: 1 datapoint [1.0] was >= 1.0',
      OldStateValue: state === 'OK' ? 'ALARM' : 'OK',
      StateChangeTime: '2025-06-02T09:00:00.000+0000',
      Region: 'EU (Ireland)',
    }),
    `${state}: "NgrokBalanceAlert-MonitorErrors" in EU (Ireland)`,
  );
const raw = classifyMessage('Deploy finished.\nAll good.', 'A message published by hand');

const others: Record<string, Incoming> = {
  'alarm ALARM': alarm('ALARM'),
  'alarm OK': alarm('OK'),
  'alarm INSUFFICIENT_DATA': alarm('INSUFFICIENT_DATA'),
  'published by hand': raw,
};
const everything: Record<string, Incoming> = {
  ...Object.fromEntries(Object.entries(cases).map(([name, n]) => [name, incomingOf(n)])),
  ...others,
};

/** A longer label and failure than any real one, to push every limit. */
const arbitraryNotification = fc
  .record({
    example: fc.constantFrom(...Object.values(cases)),
    account: fc.string({ minLength: 1, maxLength: 400, unit: 'grapheme' }),
    message: fc.string({ maxLength: 9_000 }),
  })
  .map(
    ({ example, account, message }): Notification => ({
      // Each kind's own example carries what that kind needs (an expiry, a digest, ...).
      ...example,
      account,
      failure: { kind: 'transient', message },
      configProblems: Array.from({ length: 12 }, (_, i) => ({
        parameterName: `/p/${i}`,
        message: message.slice(0, 500) || 'bad',
      })),
    }),
  );

describe('renderPagerDuty', () => {
  it('says for every kind what PagerDuty gets (the table in the README)', async () => {
    // Prepare
    const shown = Object.fromEntries(
      Object.entries(everything).map(([name, incoming]) => [
        name,
        renderPagerDuty(incoming).map((e) =>
          [e.event_action, e.dedup_key, e.payload && `${e.payload.severity}: ${e.payload.summary}`]
            .filter(Boolean)
            .join(' | '),
        ),
      ]),
    );

    // Assess
    await expect(`${JSON.stringify(shown, null, 2)}\n`).toMatchFileSnapshot(
      './__snapshots__/channels/pagerduty.json',
    );
  });

  it('sends a trigger with the facts, the steps and the top-up link', async () => {
    const [event] = renderPagerDuty(incomingOf(cases['balance-alert'] as Notification));
    await expect(`${JSON.stringify(event, null, 2)}\n`).toMatchFileSnapshot(
      './__snapshots__/channels/pagerduty-trigger.json',
    );
    expect(event?.links).toEqual([
      { href: 'https://app.ngrok.ai/credits', text: 'Top up credits' },
    ]);
    expect(event?.payload?.custom_details).toMatchObject({
      Balance: '$4.99',
      Level: expect.any(String),
    });
  });

  it('opens, escalates and resolves one incident: low → critical → recovered', () => {
    // Prepare
    const low = cases['balance-alert'] as Notification;
    const critical = cases['balance-alert-critical'] as Notification;
    const recovered = cases['balance-recovered'] as Notification;

    // Act
    const events = [low, critical, recovered].flatMap((n) => renderPagerDuty(incomingOf(n)));

    // Assess
    expect(events.map((e) => [e.event_action, e.dedup_key, e.payload?.severity])).toEqual([
      ['trigger', 'ngrok-balance-alert/prod/balance', 'warning'],
      ['trigger', 'ngrok-balance-alert/prod/balance', 'error'],
      ['resolve', 'ngrok-balance-alert/prod/balance', undefined],
    ]);
  });

  it('maps empty to critical and a monitor failure to error, on a key of its own', () => {
    const [empty] = renderPagerDuty(incomingOf(cases['balance-alert-empty'] as Notification));
    const [failing] = renderPagerDuty(incomingOf(cases['monitor-failing'] as Notification));
    const [back] = renderPagerDuty(incomingOf(cases['monitor-recovered'] as Notification));
    expect(empty?.payload?.severity).toBe('critical');
    expect(failing).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'ngrok-balance-alert/prod/monitor',
      payload: { severity: 'error' },
    });
    expect(back).toEqual({
      event_action: 'resolve',
      dedup_key: 'ngrok-balance-alert/prod/monitor',
    });
  });

  it('sends nothing for reminders and configuration problems', () => {
    for (const name of ['balance-reminder', 'monitor-reminder', 'config-problem']) {
      expect(renderPagerDuty(incomingOf(cases[name] as Notification)), name).toEqual([]);
    }
  });

  it('pages for a test and resolves it at once, on a key no real incident has', () => {
    // Act
    const events = renderPagerDuty(incomingOf(cases.test as Notification));

    // Assess
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(events[0]?.dedup_key).toBe(events[1]?.dedup_key);
    expect(events[0]?.dedup_key).toBe('ngrok-balance-alert/prod/test/2025-06-02T09:00:00.000Z');
    expect(events[0]?.payload?.summary).toMatch(/^\[TEST\] /);
  });

  it('opens an incident per alarm and resolves it when the alarm is OK', () => {
    const [opened] = renderPagerDuty(alarm('ALARM'));
    const [closed] = renderPagerDuty(alarm('OK'));
    expect(opened).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'ngrok-balance-alert/alarm/NgrokBalanceAlert-MonitorErrors',
      payload: { severity: 'error', timestamp: '2025-06-02T09:00:00.000Z' },
    });
    expect(closed).toEqual({ event_action: 'resolve', dedup_key: opened?.dedup_key });
    expect(renderPagerDuty(alarm('INSUFFICIENT_DATA'))).toEqual([]);
    expect(renderPagerDuty(raw)).toEqual([]);
  });

  it('describes an alarm: its source, class, reason and region', () => {
    const [event] = renderPagerDuty(alarm('ALARM'));
    expect(event).toEqual({
      event_action: 'trigger',
      dedup_key: 'ngrok-balance-alert/alarm/NgrokBalanceAlert-MonitorErrors',
      payload: {
        summary: 'ALARM: "NgrokBalanceAlert-MonitorErrors" in EU (Ireland)',
        source: 'CloudWatch alarm NgrokBalanceAlert-MonitorErrors',
        severity: 'error',
        component: 'ngrok balance monitor',
        class: 'cloudwatch-alarm',
        timestamp: '2025-06-02T09:00:00.000Z',
        custom_details: {
          description: 'A run of the monitor failed.',
          reason: 'Threshold Crossed: 1 datapoint [1.0] was >= 1.0',
          region: 'EU (Ireland)',
        },
      },
      client: 'ngrok balance alert',
    });
  });

  it('names a bare alarm without a subject, time or details', () => {
    const bare = classifyMessage(
      JSON.stringify({ AlarmName: 'bare', NewStateValue: 'alarm', StateChangeTime: 'soon' }),
    );
    const [event] = renderPagerDuty(bare);
    expect(event?.payload).toEqual({
      summary: 'ALARM: bare',
      source: 'CloudWatch alarm bare',
      severity: 'error',
      component: 'ngrok balance monitor',
      class: 'cloudwatch-alarm',
      custom_details: {},
    });
  });

  it('keeps a long alarm name within the source and dedup_key limits', () => {
    const name = 'A'.repeat(255);
    const [event] = renderPagerDuty(
      classifyMessage(JSON.stringify({ AlarmName: name, NewStateValue: 'ALARM' })),
    );
    expect(event?.dedup_key).toBe(`ngrok-balance-alert/alarm/${name}`.slice(0, DEDUP_KEY_MAX));
    expect(event?.payload?.source).toBe(`CloudWatch alarm ${name}`.slice(0, 255));
  });

  it('tells the balance and the monitor apart in component, group and class', () => {
    const [balance] = renderPagerDuty(incomingOf(cases['balance-alert'] as Notification));
    const [monitor] = renderPagerDuty(incomingOf(cases['monitor-failing'] as Notification));
    expect(balance?.payload).toMatchObject({
      source: 'ngrok account prod',
      component: 'ngrok AI Gateway credits',
      group: 'prod',
      class: 'balance-alert',
      timestamp: '2025-06-02T09:00:00.000Z',
    });
    expect(monitor?.payload).toMatchObject({
      component: 'ngrok balance monitor',
      class: 'monitor-failing',
    });
    expect(balance?.client).toBe('ngrok balance alert');
  });

  it('lists the settings that could not be used in a problem that has them', () => {
    const n = {
      ...(cases['balance-alert'] as Notification),
      configProblems: [{ parameterName: '/p', message: 'bad value' }],
    };
    const [event] = renderPagerDuty(incomingOf(n));
    expect(event?.payload?.custom_details?.['Settings not used']).toEqual(['bad value']);
  });

  it('handles every kind', () => {
    expect(Object.keys(KIND_HANDLING).sort()).toEqual(
      [...new Set(Object.values(cases).map((n) => n.kind))].sort(),
    );
  });

  it('keeps the summary and dedup key within PagerDuty limits for any label', () => {
    fc.assert(
      fc.property(arbitraryNotification, (n) => {
        for (const e of renderPagerDuty(incomingOf(n))) {
          expect(e.dedup_key.length).toBeLessThanOrEqual(DEDUP_KEY_MAX);
          expect(e.payload?.summary.length ?? 0).toBeLessThanOrEqual(SUMMARY_MAX);
          expect(e.payload?.source.length ?? 0).toBeLessThanOrEqual(255);
        }
      }),
      { numRuns: 50, seed: 20_261_207 },
    );
  });
});

/** The card as a person reads it: one line per block. */
function readTeams(message: TeamsMessage): string[] {
  const card = message.attachments[0]?.content;
  const line = (e: CardElement): string[] => {
    if (e.type === 'FactSet') return e.facts.map((f) => `  ${f.title}: ${f.value}`);
    if (e.size === 'Medium') return [`# ${e.text} [${e.color}]`];
    if (e.fontType === 'Monospace') return [`    ${e.text}`];
    const bold = e.weight ? '**' : '';
    return [`${e.isSubtle ? '(subtle) ' : ''}${bold}${e.text}${bold}`];
  };
  return [
    ...(card?.body ?? []).flatMap(line),
    ...(card?.actions ?? []).map((a) => `[${a.title}](${a.url})`),
  ];
}

describe('renderTeams', () => {
  it('renders every message as a readable card', async () => {
    const shown = Object.entries(everything)
      .map(([name, incoming]) => `=== ${name}\n${readTeams(renderTeams(incoming)).join('\n')}`)
      .join('\n\n');
    await expect(`${shown}\n`).toMatchFileSnapshot('./__snapshots__/channels/teams.txt');
  });

  it('wraps an Adaptive Card in the message/attachments envelope Workflows expects', async () => {
    const message = renderTeams(incomingOf(cases['balance-alert'] as Notification));
    expect(message).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: { type: 'AdaptiveCard', version: '1.4' },
        },
      ],
    });
    await expect(`${JSON.stringify(message, null, 2)}\n`).toMatchFileSnapshot(
      './__snapshots__/channels/teams-balance-alert.json',
    );
  });

  it.each(Object.entries(cases))('shows every command of %s in monospace', (_name, n) => {
    const r = renderNotification(n, { region: REGION });
    const body = renderTeams(incomingOf(n)).attachments[0]?.content.body ?? [];
    const mono = body.flatMap((e) =>
      e.type === 'TextBlock' && e.fontType === 'Monospace' ? [e.text] : [],
    );
    // A TextBlock is Markdown even in monospace: the command is escaped as text is.
    expect(mono).toEqual(
      r.content.steps.flatMap((s) => (s.command ? [markdownText(s.command)] : [])),
    );
  });
});

/** The embed as a person reads it. */
function readDiscord(message: DiscordMessage): string {
  const [e] = message.embeds;
  return [
    `# ${e.title}  (#${e.color.toString(16).padStart(6, '0')})${e.url ? ` -> ${e.url}` : ''}`,
    e.description ?? '',
    ...(e.fields ?? []).map((f) => `  ${f.name}: ${f.value}${f.inline ? '' : '  (full width)'}`),
    ...(e.footer ? [`-- ${e.footer.text}`] : []),
  ].join('\n');
}

function embedSize(message: DiscordMessage): number {
  const [e] = message.embeds;
  return (
    e.title.length +
    (e.description?.length ?? 0) +
    (e.footer?.text.length ?? 0) +
    (e.fields ?? []).reduce((sum, f) => sum + f.name.length + f.value.length, 0)
  );
}

describe('renderDiscord', () => {
  it('renders every message as a readable embed', async () => {
    const shown = Object.entries(everything)
      .map(([name, incoming]) => `=== ${name}\n${readDiscord(renderDiscord(incoming))}`)
      .join('\n\n');
    await expect(`${shown}\n`).toMatchFileSnapshot('./__snapshots__/channels/discord.txt');
  });

  it('colours the embed by severity, green once resolved', () => {
    const color = (name: string) =>
      renderDiscord(incomingOf(cases[name] as Notification)).embeds[0].color;
    expect(color('balance-alert')).toBe(0xf1c40f);
    expect(color('balance-alert-critical')).toBe(0xe67e22);
    expect(color('balance-alert-empty')).toBe(0xe74c3c);
    expect(color('balance-recovered')).toBe(0x2ecc71);
    expect(new Set(Object.keys(cases).map(color)).size).toBeGreaterThanOrEqual(5);
  });

  it('switches mentions off, so no text can ping anybody', () => {
    const message = renderDiscord(incomingOf({ ...base, account: '@everyone' }));
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });

  it('stays within Discord embed limits for any label and failure text', () => {
    fc.assert(
      fc.property(arbitraryNotification, (n) => {
        const message = renderDiscord(incomingOf(n));
        const [e] = message.embeds;
        expect(e.title.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
        expect(e.description?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.description);
        expect(e.fields?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
        for (const f of e.fields ?? []) {
          expect(f.name.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldName);
          expect(f.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
        }
        expect(embedSize(message)).toBeLessThanOrEqual(DISCORD_LIMITS.total);
      }),
      { numRuns: 50, seed: 20_261_207 },
    );
  });
});
