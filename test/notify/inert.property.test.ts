/**
 * Text from outside cannot speak for the monitor. Any string over a hostile alphabet, placed
 * in every field that holds outside text, in every kind of notification, reaches every
 * channel as the characters it is: a CommonMark parser finds in the Teams, Discord and
 * Amazon Q copies no link, image, heading, list, code, HTML or emphasis that the same
 * notification with a harmless placeholder does not have; Slack gets no link or mention of
 * its own; no channel gets a bidirectional control or an invisible character.
 */
import { fc, test } from '@fast-check/vitest';
import { type Node, Parser } from 'commonmark';
import { describe, expect, it } from 'vitest';
import { hasInvisible } from '../../lambda/common/text.ts';
import type { Notification } from '../../lambda/common/types.ts';
import { classifyMessage } from '../../lambda/notify/incoming.ts';
import {
  chatText,
  type Markdown,
  type Mrkdwn,
  markdownText,
  md,
  mrkdwn,
  mrkdwnText,
  untrusted,
} from '../../lambda/notify/inert.ts';
import { renderNotification } from '../../lambda/notify/render.ts';
import { renderDiscord } from '../../lambda/notify/render-discord.ts';
import { renderPagerDuty } from '../../lambda/notify/render-pagerduty.ts';
import { renderSlackMessage, type SlackMessage } from '../../lambda/notify/render-slack.ts';
import { renderTeams } from '../../lambda/notify/render-teams.ts';
import { toSnsPublish } from '../../lambda/notify/sns.ts';
import { cases, REGION, THRESHOLD_PARAM } from '../support/notification-cases.ts';

/** Fixed, so that `npm test` is the same run every time. */
const SEED = 20_261_207;
const RUNS = 400;

const HOSTILE_PIECES = [
  '[',
  ']',
  '(',
  ')',
  '#',
  '*',
  '_',
  '`',
  '~',
  '>',
  '<',
  '|',
  '-',
  '+',
  '=',
  '!',
  '&',
  '@',
  '\\',
  ':',
  '.',
  ' ',
  '    ',
  '\t',
  '\n',
  '\r\n',
  '\n\n',
  '\u2028',
  '\u202e',
  '\u202d',
  '\u2066',
  '\u2069',
  '\u200b',
  '\u200f',
  '\u061c',
  '\ufeff',
  '\u00ad',
  '1',
  '9',
  'a',
  'Z',
  'http://',
  'https://evil.example/pay',
  'www.evil.example',
  'everyone',
  '@everyone',
  '@here',
  '<!channel>',
  '<@U123>',
  '<https://evil.example|top up here>',
  '[billing](https://evil.example/pay)',
  '![x](https://evil.example/x.png)',
  '[x]: https://evil.example',
  '```',
  '~~~',
  '***',
  '___',
  '# ',
  '## ',
  '- ',
  '* ',
  '1. ',
  '2) ',
  '> ',
  '---',
  '===',
  '|---|',
  '&lt;',
  '&#91;',
  '<b>',
  '<at>',
  '||',
  '-# ',
  '<t:1:R>',
];

const hostile = fc
  .array(fc.constantFrom(...HOSTILE_PIECES), { minLength: 1, maxLength: 30 })
  .map((pieces) => pieces.join(''));

/** The same shape in harmless letters: what can be cut is cut alike, blank stays blank. */
function placeholder(text: string): string {
  return text.replace(/\p{Cf}/gu, '').replace(/\S/gu, 'x');
}

/** The notification with `text` in every field that holds text from outside the monitor. */
function withOutsideText(n: Notification, text: string): Notification {
  const forecast = n.forecast && {
    ...n.forecast,
    topSpenders: n.forecast.topSpenders.map((s) => ({ ...s, accessKey: text, name: text })),
  };
  return {
    ...n,
    ...(forecast && { forecast }),
    forecastNote: text,
    failure: { kind: n.failure?.kind ?? 'transient', message: text },
    configProblems: [
      { parameterName: THRESHOLD_PARAM, message: text },
      ...n.configProblems.map((p) => ({ ...p, message: text })),
    ],
    ...(n.spike && {
      spike: {
        ...n.spike,
        driversNote: text,
        drivers: n.spike.drivers.map((d) => ({ ...d, accessKey: text, name: text })),
      },
    }),
    ...(n.topUp && {
      topUp: { ...n.topUp, purchaseId: text, failureCode: text, failureMessage: text },
    }),
    topUpStatus: text,
    // The checkout page's URL comes from ngrok: placed whole when it is plain https, else dropped.
    ...(n.payLink && { payLink: { ...n.payLink, url: `${n.payLink.url}${text}` } }),
    ...(n.snooze && { snooze: { ...n.snooze, note: text } }),
    ...(n.digest && {
      digest: {
        ...n.digest,
        accounts: n.digest.accounts.map((a) => ({
          ...a,
          snooze: { until: '2025-06-04T09:00:00.000Z', note: text },
          ...(a.forecast && {
            forecast: {
              ...a.forecast,
              topSpenders: a.forecast.topSpenders.map((s) => ({ ...s, name: text })),
            },
          }),
        })),
      },
    }),
  };
}

/** Every copy of one notification, as the topic delivers it to each channel. */
function deliver(n: Notification) {
  const r = renderNotification(n, { region: REGION, functionName: 'ngrok-balance-monitor' });
  const publish = toSnsPublish(r, n.account);
  const message = JSON.parse(publish.Message) as Record<string, string>;
  const lambda = message.lambda ?? '';
  const incoming = classifyMessage(lambda, publish.Subject);
  const chat = JSON.parse(message.default ?? '{}') as typeof r.chat;
  const discord = renderDiscord(incoming);
  const teams = renderTeams(incoming);
  const slack = renderSlackMessage(lambda, publish.Subject).message;
  const pagerDuty = renderPagerDuty(incoming);
  return {
    publish,
    discord,
    teams,
    chat,
    slack,
    pagerDuty,
    /** Each Markdown text a channel renders, by where it is. */
    markdown: {
      ...Object.fromEntries(
        discord.embeds.flatMap((e, i) => [
          [`discord ${i} title`, e.title],
          [`discord ${i} description`, e.description ?? ''],
          [`discord ${i} footer`, e.footer?.text ?? ''],
          ...(e.fields ?? []).flatMap((f, k) => [
            [`discord ${i} field ${k} name`, f.name],
            [`discord ${i} field ${k} value`, f.value],
          ]),
        ]),
      ),
      ...Object.fromEntries(
        (teams.attachments[0]?.content.body ?? []).flatMap((e, i) =>
          e.type === 'TextBlock'
            ? [[`teams ${i}`, e.text]]
            : e.facts.flatMap((f, k) => [
                [`teams ${i} fact ${k} title`, f.title],
                [`teams ${i} fact ${k} value`, f.value],
              ]),
        ),
      ),
      'amazon-q title': chat.content.title,
      'amazon-q description': chat.content.description,
      ...Object.fromEntries(
        (chat.content.nextSteps ?? []).map((s, i) => [`amazon-q next step ${i}`, s]),
      ),
    } as Record<string, string>,
  };
}

const parser = new Parser();

/** What a Markdown text makes: the count of each kind of node, and every link's address. */
function structure(markdown: string): { counts: Map<string, number>; links: string[] } {
  const counts = new Map<string, number>();
  const links: string[] = [];
  const walker = parser.parse(markdown).walker();
  for (let event = walker.next(); event; event = walker.next()) {
    if (!event.entering) continue;
    const node: Node = event.node;
    if (['document', 'paragraph', 'text', 'softbreak', 'linebreak'].includes(node.type)) continue;
    counts.set(node.type, (counts.get(node.type) ?? 0) + 1);
    if (node.type === 'link' || node.type === 'image') links.push(node.destination ?? '');
  }
  return { counts, links };
}

/** What `hostile` makes that `benign` does not: empty when the outside text stayed text. */
function madeByOutsideText(hostile: string, benign: string): string[] {
  const h = structure(hostile);
  const b = structure(benign);
  const extra = [...h.counts].flatMap(([type, count]) =>
    count > (b.counts.get(type) ?? 0) ? [`${count - (b.counts.get(type) ?? 0)} ${type}`] : [],
  );
  const links = h.links.filter((url) => !b.links.includes(url)).map((url) => `link to ${url}`);
  return [...extra, ...links];
}

function slackTexts(m: SlackMessage): string[] {
  return [
    m.text,
    ...m.blocks.flatMap((b) =>
      b.type === 'section'
        ? [b.text.text]
        : b.type === 'context'
          ? b.elements.map((e) => e.text)
          : [],
    ),
  ];
}

/** Slack's control sequences: links <url|label>, mentions <!channel> <@U123>, anything in <>. */
function slackSequences(m: SlackMessage): string[] {
  return slackTexts(m).flatMap((text) => text.match(/<[^>]*>?/g) ?? []);
}

describe('text from outside', () => {
  test.prop([fc.constantFrom(...Object.keys(cases)), hostile], { seed: SEED, numRuns: RUNS })(
    'stays text in every channel, whatever it holds and wherever it is placed',
    (name, text) => {
      const n = cases[name] as Notification;
      const attacked = deliver(withOutsideText(n, text));
      const harmless = deliver(withOutsideText(n, placeholder(text)));

      // Markdown channels: nothing the template did not make.
      const made = Object.entries(attacked.markdown).flatMap(([where, markdown]) =>
        madeByOutsideText(markdown, harmless.markdown[where] ?? '').map(
          (what) => `${where}: ${what}`,
        ),
      );
      expect(made).toEqual([]);

      // Slack: no link or mention but the template's own.
      expect(slackSequences(attacked.slack)).toEqual(slackSequences(harmless.slack));
      expect(slackTexts(attacked.slack).join('\n')).not.toMatch(/<!|<@|<#/);

      // Discord pings nobody.
      expect(attacked.discord.allowed_mentions).toEqual({ parse: [] });

      // No channel shows a character that changes how text reads unseen.
      const everything = [
        attacked.publish.Subject,
        attacked.publish.Message,
        ...Object.values(JSON.parse(attacked.publish.Message) as Record<string, string>),
        JSON.stringify(attacked.discord),
        JSON.stringify(attacked.teams),
        JSON.stringify(attacked.slack),
        JSON.stringify(attacked.pagerDuty),
      ];
      for (const output of everything) expect(hasInvisible(output)).toBe(false);
    },
  );
});

describe('the attacks from issue 20', () => {
  const phishing = '[billing](https://evil.example/pay)';
  const heading = '\n# URGENT: rotate your key at [app.ngrok.ai](https://evil.example/login)\n';
  const reversed = 'paid \u202e05.01$ \u202c';

  it('shows an access key named as a link as its name, on every channel', () => {
    const spike = cases['spike-started'] as Notification;
    const d = deliver(withOutsideText(spike, phishing));
    for (const [where, markdown] of Object.entries(d.markdown)) {
      expect(structure(markdown).links, where).not.toContain('https://evil.example/pay');
    }
    expect(JSON.stringify(d.slack)).not.toContain('<https://evil');
    expect(d.discord.embeds[0].description).toContain(markdownText(phishing));
  });

  it('keeps an error body with line breaks, Markdown and U+202E on one plain line', () => {
    const failing = cases['monitor-failing'] as Notification;
    const d = deliver(withOutsideText(failing, `${heading}${reversed}`));
    for (const [where, markdown] of Object.entries(d.markdown)) {
      const { counts, links } = structure(markdown);
      expect(counts.get('heading') ?? 0, where).toBe(0);
      expect(links, where).not.toContain('https://evil.example/login');
    }
    expect(d.publish.Message).not.toContain('\u202e');
    expect(d.publish.Message).toContain('paid 05.01$');
  });

  it('keeps the snooze command in its code block whatever the note holds', () => {
    const snoozed = cases['snooze-set'] as Notification;
    const note = 'see ``` below ``` and ```';
    const d = deliver(withOutsideText(snoozed, note));
    const walker = parser.parse(d.discord.embeds[0].description ?? '').walker();
    const code: string[] = [];
    for (let event = walker.next(); event; event = walker.next()) {
      if (event.entering && event.node.type === 'code_block') code.push(event.node.literal ?? '');
    }
    expect(code).toHaveLength(1);
    expect(code[0]).toMatch(/^aws lambda invoke /);
  });

  it('escapes Slack, Markdown and chat Markdown each in its own way', () => {
    expect(mrkdwnText('<!channel> & <https://evil|top up>')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil|top up&gt;',
    );
    expect(markdownText('# [a](b) *c* `d` NGROK_API_KEY')).toBe(
      '\\# \\[a\\](b) \\*c\\* \\`d\\` NGROK_API_KEY',
    );
    expect(chatText('<!here> [a](b)')).toBe('‹!here› \\[a\\](b)');
    expect(markdownText('1. one\n- two')).toBe('1\\. one - two');
  });
});

describe('the types', () => {
  it('refuse to compile a renderer that places content text without its neutralizer', () => {
    const text = untrusted('[billing](https://evil.example/pay)');
    // @ts-expect-error: content text is not Markdown until markdownText escapes it
    const placed: Markdown = text;
    // @ts-expect-error: every placeholder of a Markdown template must already be Markdown
    const templated = md`**${text}**`;
    // @ts-expect-error: the same for Slack's mrkdwn
    const slack: Mrkdwn = mrkdwn`*${text}*`;
    const escaped: Markdown = md`**${markdownText(text)}**`;
    expect([placed, templated, slack]).toHaveLength(3);
    expect(escaped).toBe('**\\[billing\\](https://evil.example/pay)**');
  });
});
