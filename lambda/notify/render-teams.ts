/**
 * Microsoft Teams through a Workflows "When a Teams webhook request is received" flow: an
 * Adaptive Card inside the message/attachments envelope the flow's "Post card" step expects.
 * TextBlocks and facts are Markdown in Teams: every text is escaped (inert.ts), so none can
 * become a link or a heading. The card stays under Teams' size limit; facts that do not fit
 * are counted ("and 75 more accounts: see the email or the JSON"). Pure.
 */
import { visible } from '../common/text.ts';
import { type Content, moreFacts, type Tone } from './content.ts';
import { utf8Bytes } from './format.ts';
import type { Incoming } from './incoming.ts';
import { cutMarkdown, httpsLink, type Markdown, markdownLines, markdownText, md } from './inert.ts';

/**
 * Teams drops a card over about 28 KB without a word (the flow has already answered 202):
 * the whole body posted stays under this many bytes.
 */
export const TEAMS_MAX_BYTES = 28_000;

/** Teams shows a longer title on several lines; one short line reads best in the feed. */
const TITLE_MAX = 200;
/** Text from outside (an alarm reason, a hand-published message) is cut to this. */
const FREE_TEXT_MAX = 3_000;
const DEFAULT_TITLE = 'ngrok balance alert';

type TextColor = 'default' | 'good' | 'warning' | 'attention' | 'accent';

/** The colour of the title per tone: one table, so a new tone fails to compile here. */
const TONE_COLOR: Readonly<Record<Tone, TextColor>> = {
  test: 'accent',
  good: 'good',
  info: 'default',
  config: 'warning',
  warning: 'warning',
  alarm: 'attention',
};

export interface CardFact {
  readonly title: Markdown;
  readonly value: Markdown;
}

export type CardElement =
  | {
      readonly type: 'TextBlock';
      readonly text: Markdown;
      readonly wrap: true;
      readonly weight?: 'Bolder';
      readonly size?: 'Medium' | 'Small';
      readonly color?: TextColor;
      readonly fontType?: 'Monospace';
      readonly isSubtle?: true;
      readonly spacing?: 'None' | 'Medium';
    }
  | {
      readonly type: 'FactSet';
      readonly facts: readonly CardFact[];
    };

export interface AdaptiveCard {
  readonly $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  readonly type: 'AdaptiveCard';
  readonly version: '1.4';
  readonly body: readonly CardElement[];
  readonly actions?: ReadonlyArray<{
    readonly type: 'Action.OpenUrl';
    readonly title: string;
    readonly url: string;
  }>;
  readonly msteams: { readonly width: 'Full' };
}

/** The body a Workflows webhook trigger receives. */
export interface TeamsMessage {
  readonly type: 'message';
  readonly attachments: ReadonlyArray<{
    readonly contentType: 'application/vnd.microsoft.card.adaptive';
    readonly contentUrl: null;
    readonly content: AdaptiveCard;
  }>;
}

/** One card per message, whatever it is: nothing published to the topic is dropped. */
export function renderTeams(incoming: Incoming): TeamsMessage {
  switch (incoming.kind) {
    case 'notification':
      return notificationMessage(incoming.notification.content);
    case 'alarm': {
      const { alarm } = incoming;
      const state = alarm.NewStateValue.toUpperCase().trim();
      const body: CardElement[] = [
        title(`${state}: ${alarm.AlarmName}`, state === 'OK' ? 'good' : 'attention'),
      ];
      if (alarm.AlarmDescription) body.push(text(free(alarm.AlarmDescription)));
      const facts = [
        alarm.NewStateReason && { title: md`Reason`, value: free(alarm.NewStateReason) },
        alarm.OldStateValue && {
          title: md`Previous state`,
          value: markdownText(alarm.OldStateValue),
        },
        alarm.StateChangeTime && { title: md`Changed`, value: markdownText(alarm.StateChangeTime) },
        alarm.Region && { title: md`Region`, value: markdownText(alarm.Region) },
      ].filter((f): f is CardFact => Boolean(f));
      if (facts.length > 0) body.push({ type: 'FactSet', facts });
      return envelope(body, []);
    }
    case 'raw':
      return envelope(
        [
          title(incoming.subject ?? DEFAULT_TITLE, 'default'),
          text(free(incoming.text) || md`(empty message)`),
          {
            ...text(
              md`Not a structured ngrok balance alert notification: shown as it was published.`,
            ),
            isSubtle: true,
            size: 'Small',
          },
        ],
        [],
      );
  }
}

/**
 * The card of one notification with as many facts as fit under TEAMS_MAX_BYTES, the rest
 * counted in a last fact. Found by bisection: the card grows with each fact shown.
 */
function notificationMessage(c: Content): TeamsMessage {
  const withFacts = (shown: number) => envelope(notificationBody(c, shown), actionsOf(c));
  const full = withFacts(c.facts.length);
  if (utf8Bytes(JSON.stringify(full)) <= TEAMS_MAX_BYTES) return full;
  let fits = 0;
  let tooMany = c.facts.length;
  while (tooMany - fits > 1) {
    const mid = Math.floor((fits + tooMany) / 2);
    if (utf8Bytes(JSON.stringify(withFacts(mid))) <= TEAMS_MAX_BYTES) fits = mid;
    else tooMany = mid;
  }
  return withFacts(fits);
}

function notificationBody(c: Content, shown: number): CardElement[] {
  const body: CardElement[] = [
    title(`${c.title.before}${c.label}${c.title.after}`, TONE_COLOR[c.tone]),
    text(markdownText(c.headline)),
  ];
  const problems = c.problems && problemBlocks(c.problems);
  if (problems && c.problems?.first) body.push(...problems);
  const facts: CardFact[] = c.facts
    .slice(0, shown)
    .map((f) => ({ title: markdownText(f.label), value: markdownText(f.value) }));
  const more = moreFacts(c, shown);
  if (more) facts.push({ title: md`Not shown here`, value: markdownText(more) });
  body.push({ type: 'FactSet', facts });
  body.push({ ...text(markdownText(c.stepsTitle)), weight: 'Bolder', spacing: 'Medium' });
  for (const step of c.steps) {
    body.push(text(md`- ${markdownText(step.text)}`));
    if (step.command) {
      // A TextBlock is Markdown even in a monospace font: the command is escaped like text.
      body.push({ ...text(markdownText(step.command)), fontType: 'Monospace', spacing: 'None' });
    }
    if (step.note) {
      body.push({ ...text(markdownText(step.note)), isSubtle: true, spacing: 'None' });
    }
  }
  if (problems && !c.problems?.first) body.push(...problems);
  body.push({ ...text(markdownText(c.footer)), isSubtle: true, size: 'Small' });
  return body;
}

function problemBlocks(p: NonNullable<Content['problems']>): CardElement[] {
  return [
    { ...text(md`Settings that could not be used`), weight: 'Bolder', spacing: 'Medium' },
    ...p.items.map((item) => text(md`- ${markdownText(item)}`)),
    ...(p.hidden > 0 ? [text(md`- and ${markdownText(String(p.hidden))} more`)] : []),
  ];
}

/**
 * The card's buttons: "Buy $X now" first when the alert has a checkout page (its URL checked
 * again here, since the content arrives as JSON), then the links every notification has.
 */
function actionsOf(c: Content): Content['links'] {
  const url = httpsLink(c.payLink?.url);
  const pay = c.payLink && url !== undefined ? [{ label: visible(c.payLink.label), url }] : [];
  return [...pay, ...c.links];
}

function envelope(body: CardElement[], links: Content['links']): TeamsMessage {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(links.length > 0 && {
            actions: links.map((l) => ({ type: 'Action.OpenUrl', title: l.label, url: l.url })),
          }),
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}

function title(value: string, color: TextColor): CardElement {
  return {
    type: 'TextBlock',
    text: cutMarkdown(markdownText(value) || markdownText(DEFAULT_TITLE), TITLE_MAX),
    wrap: true,
    weight: 'Bolder',
    size: 'Medium',
    color,
  };
}

function text(value: Markdown): Extract<CardElement, { type: 'TextBlock' }> {
  return { type: 'TextBlock', text: value, wrap: true };
}

/** Text from outside of several lines; Markdown needs a blank line to break one. */
function free(value: string): Markdown {
  return cutMarkdown(markdownLines(value.replace(/\r\n?|\n/g, '\n\n')), FREE_TEXT_MAX);
}
