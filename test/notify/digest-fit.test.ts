/**
 * The weekly digest at the most accounts a deployment allows (100), each with the longest
 * name the configuration allows, the longest access key names and snooze notes: every
 * channel gets a message within its own limits, and says how many accounts it left out.
 */
import { describe, expect, it } from 'vitest';
import type { Forecast, Notification } from '../../lambda/common/types.ts';
import { SETTINGS, TEXT_FORMS } from '../../lambda/config/contract.ts';
import { utf8Bytes } from '../../lambda/notify/format.ts';
import { classifyMessage } from '../../lambda/notify/incoming.ts';
import { renderNotification } from '../../lambda/notify/render.ts';
import { DISCORD_LIMITS, renderDiscord } from '../../lambda/notify/render-discord.ts';
import { EVENT_MAX_BYTES, renderPagerDuty } from '../../lambda/notify/render-pagerduty.ts';
import {
  MAX_BLOCKS,
  MESSAGE_TEXT_MAX,
  renderSlackMessage,
  SECTION_TEXT_MAX,
  type SlackMessage,
} from '../../lambda/notify/render-slack.ts';
import { renderTeams, TEAMS_MAX_BYTES } from '../../lambda/notify/render-teams.ts';
import { SNS_MAX_BYTES, toSnsPublish } from '../../lambda/notify/sns.ts';
import { MAX_NAME_CHARS } from '../../lambda/watches/access-key-names.ts';
import { buildDigest } from '../../lambda/watches/digest.ts';
import { MAX_NOTE_CHARS } from '../../lambda/watches/snooze.ts';
import { base } from '../support/notification-cases.ts';

const ACCOUNTS = SETTINGS.accounts.maxItems;
const LABEL_CHARS = 48;

/** The i-th account's name: 48 characters, the most the accountName form allows. */
function longName(i: number): string {
  const name = `a${String(i).padStart(3, '0')}${'_-'.repeat(LABEL_CHARS)}`.slice(0, LABEL_CHARS);
  if (!TEXT_FORMS.accountName.test(name)) throw new Error(`not an account name: ${name}`);
  return name;
}

/** Text of exactly `length` characters that escapes to the most in every format. */
function hostileText(length: number, seed: string): string {
  return `${seed} "[x](y)" <&> \\*_\`~|#`.repeat(length).slice(0, length);
}

/** Text of exactly `length` characters as people write it. */
function plainTextForTests(length: number, seed: string): string {
  return `${seed} batch worker for the nightly reports `.repeat(length).slice(0, length);
}

const forecast: Forecast = {
  source: 'usage',
  dailySpendCents: 123_456,
  windowDays: 7,
  runwayDays: 1.61,
  topSpenders: [0, 1, 2].map((k) => ({
    accessKey: `ak_2${'A'.repeat(24)}${k}`,
    costCents: 1_234_567,
    share: 0.333,
  })),
};

/** The digest of `count` accounts, as the run loop builds it (names from each cache). */
function bigDigest(
  count: number,
  longText = hostileText,
  sizes = { keyName: MAX_NAME_CHARS, note: MAX_NOTE_CHARS },
): Notification {
  const now = new Date('2025-06-02T09:00:00.000Z');
  const digest = buildDigest(
    { digest: 'weekly', digestDay: 'monday', digestHourUtc: 9 },
    Array.from({ length: count }, (_, i) => ({
      account: longName(i),
      level: (['ok', 'low', 'critical', 'empty'] as const)[i % 4] ?? 'ok',
      balanceCents: -1_234_567,
      closed: {
        week: '2025-05-26',
        startCents: 1_234_567,
        lastCents: -1_234_567,
        spentCents: 1_234_567,
        addedCents: 1_234_567,
        alerts: 123,
        topUps: 45,
      },
      forecast,
      keyNames: {
        fetchedAt: now.toISOString(),
        names: Object.fromEntries(
          forecast.topSpenders.map((s, k) => [s.accessKey, longText(sizes.keyName, `key${k}`)]),
        ),
      },
      ...(sizes.note > 0 && {
        snooze: { until: '2025-06-04T09:00:00.000Z', note: longText(sizes.note, `note${i}`) },
      }),
    })),
    now,
  );
  return {
    ...base,
    kind: 'weekly-digest',
    account: 'ngrok-balance-alert',
    forecast: undefined,
    balanceCents: undefined,
    digest,
  };
}

function slackText(m: SlackMessage): string[] {
  return [
    m.text,
    ...m.blocks.flatMap((b): string[] =>
      b.type === 'header' || b.type === 'section'
        ? [b.text.text]
        : b.type === 'context'
          ? b.elements.map((e) => e.text)
          : [],
    ),
  ];
}

/** "and 75 more accounts" → 75; undefined when the text names no such count. */
function moreCount(text: string): number | undefined {
  const m = /and (\d+) more accounts?/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** How many of the accounts a text names. */
function named(text: string, count: number): number {
  return Array.from({ length: count }, (_, i) => longName(i)).filter((name) =>
    text.includes(name.slice(0, 4)),
  ).length;
}

/** Every channel's copy of one digest, as the topic delivers it. */
function deliver(n: Notification) {
  const r = renderNotification(n, { region: 'eu-west-1', functionName: 'monitor' });
  const publish = toSnsPublish(r, n.account);
  const message = JSON.parse(publish.Message) as Record<string, string>;
  const lambda = message.lambda ?? '';
  const incoming = classifyMessage(lambda, publish.Subject);
  return {
    r,
    publish,
    incoming,
    lambda,
    chat: JSON.parse(message.default ?? '{}') as typeof r.chat,
    discord: renderDiscord(incoming),
    teams: renderTeams(incoming),
    slack: renderSlackMessage(lambda, publish.Subject).message,
  };
}

const SCENARIOS = {
  // Access key names and snooze notes as long as they can be, of characters that escape to
  // the most: the whole list does not fit the SNS limit, and every copy says so.
  'the longest names, key names and notes, all of markup characters': bigDigest(ACCOUNTS),
  'the longest names, key names and notes as people write them': bigDigest(
    ACCOUNTS,
    plainTextForTests,
  ),
  'the longest account names, short key names and no notes': bigDigest(
    ACCOUNTS,
    plainTextForTests,
    { keyName: 12, note: 0 },
  ),
};

describe.each(Object.entries(SCENARIOS))('the weekly digest of 100 accounts: %s', (_name, n) => {
  const d = deliver(n);
  const inCopies = d.r.content.facts.length;

  it('fits the whole SNS publish, every protocol variant together, in 256 KiB', () => {
    const bytes =
      utf8Bytes(d.publish.Message) + utf8Bytes(d.publish.Subject) + utf8Bytes(n.account) + 64;
    expect(bytes).toBeLessThanOrEqual(SNS_MAX_BYTES);
  });

  it('names access keys by their cached names, as the alerts do', () => {
    expect(d.r.text).toContain('key0');
    expect(d.r.text).not.toContain('ak_2AAAA');
  });

  it('lists in the email and the JSON every account that fits, and counts the rest', () => {
    const left = ACCOUNTS - inCopies;
    expect(d.r.content.factsOmitted ?? 0).toBe(left);
    expect(d.r.structured.content.facts).toHaveLength(inCopies);
    expect(named(d.r.text, ACCOUNTS)).toBe(inCopies);
    expect(moreCount(d.r.text)).toBe(left > 0 ? left : undefined);
    if (left > 0) expect(d.r.text).toContain('not listed');
  });

  it('fits Discord: 6,000 in all, 25 fields, 4,096 description, 256 title, 1,024 a field', () => {
    expect(d.discord.embeds.length).toBeLessThanOrEqual(10);
    expect(DISCORD_LIMITS.embeds).toBe(10);
    expect(d.discord.allowed_mentions).toEqual({ parse: [] });
    let total = 0;
    for (const e of d.discord.embeds) {
      expect(e.title.length).toBeLessThanOrEqual(256);
      expect(e.description?.length ?? 0).toBeLessThanOrEqual(4_096);
      expect(e.fields?.length ?? 0).toBeLessThanOrEqual(25);
      for (const f of e.fields ?? []) {
        expect(f.name.length).toBeLessThanOrEqual(256);
        expect(f.value.length).toBeLessThanOrEqual(1_024);
      }
      total +=
        e.title.length +
        (e.description?.length ?? 0) +
        (e.footer?.text.length ?? 0) +
        (e.fields ?? []).reduce((sum, f) => sum + f.name.length + f.value.length, 0);
    }
    expect(total).toBeLessThanOrEqual(6_000);
    const fields = d.discord.embeds[0].fields ?? [];
    expect(moreCount(fields.at(-1)?.value ?? '')).toBe(ACCOUNTS - (fields.length - 1));
  });

  it('fits Teams: the card within 28 KB', () => {
    expect(utf8Bytes(JSON.stringify(d.teams))).toBeLessThanOrEqual(28_000);
    expect(TEAMS_MAX_BYTES).toBeLessThanOrEqual(28_000);
    const facts =
      d.teams.attachments[0]?.content.body.flatMap((e) => (e.type === 'FactSet' ? e.facts : [])) ??
      [];
    expect(moreCount(facts.at(-1)?.value ?? '')).toBe(ACCOUNTS - (facts.length - 1));
  });

  it('fits Slack: 50 blocks, 3,000 a section, well under 13,000 in all', () => {
    const texts = slackText(d.slack);
    expect(d.slack.blocks.length).toBeLessThanOrEqual(50);
    expect(MAX_BLOCKS).toBe(50);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(SECTION_TEXT_MAX);
    expect(SECTION_TEXT_MAX).toBe(3_000);
    const all = texts.join('\n');
    expect(all.length).toBeLessThanOrEqual(MESSAGE_TEXT_MAX);
    expect(MESSAGE_TEXT_MAX).toBeLessThanOrEqual(12_000);
    expect(moreCount(all)).toBe(ACCOUNTS - named(all, ACCOUNTS));
  });

  it('fits Amazon Q: the description within its 3,000 characters', () => {
    const description = d.chat.content.description;
    expect(description.length).toBeLessThanOrEqual(3_000);
    expect(moreCount(description)).toBe(ACCOUNTS - named(description, ACCOUNTS));
  });

  it('sends PagerDuty nothing (a digest is never an incident), and no event passes 512 KB', () => {
    expect(renderPagerDuty(d.incoming)).toEqual([]);
    // The same content as an incident: the largest event a published message can make.
    const forged = classifyMessage(d.lambda.replaceAll('"kind":"weekly-digest"', '"kind":"test"'));
    const events = renderPagerDuty(forged);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(utf8Bytes(JSON.stringify({ routing_key: 'R'.repeat(32), ...e }))).toBeLessThanOrEqual(
        512_000,
      );
    }
    expect(EVENT_MAX_BYTES).toBeLessThanOrEqual(512_000);
  });
});

describe('the weekly digest of 100 accounts with the longest names and little else', () => {
  it('lists every account in the email and the JSON', () => {
    const n = bigDigest(ACCOUNTS, plainTextForTests, { keyName: 12, note: 0 });
    const lean: Notification = {
      ...n,
      digest: n.digest && {
        ...n.digest,
        accounts: n.digest.accounts.map(({ forecast: _, ...a }) => a),
      },
    };
    const d = deliver(lean);
    expect(d.r.content.factsOmitted).toBeUndefined();
    expect(named(d.r.text, ACCOUNTS)).toBe(ACCOUNTS);
    expect(d.r.structured.content.facts).toHaveLength(ACCOUNTS);
    // The chat channels still cannot show them all, and say where they are.
    expect(d.discord.embeds[0].fields?.at(-1)?.value).toMatch(
      /^and \d+ more accounts: see the email or the JSON$/,
    );
  });
});
