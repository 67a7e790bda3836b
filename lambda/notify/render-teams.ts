/**
 * Microsoft Teams through a Workflows "When a Teams webhook request is received" flow: an
 * Adaptive Card inside the message/attachments envelope the flow's "Post card" step expects.
 * Pure.
 */
import { oneLine } from '../common/text.ts';
import type { Content, Tone } from './content.ts';
import type { Incoming } from './incoming.ts';
import { truncatePlain } from './render-slack.ts';

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

export type CardElement =
  | {
      readonly type: 'TextBlock';
      readonly text: string;
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
      readonly facts: ReadonlyArray<{ readonly title: string; readonly value: string }>;
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
    case 'notification': {
      const c = incoming.notification.content;
      return envelope(notificationBody(c), c.links);
    }
    case 'alarm': {
      const { alarm } = incoming;
      const state = oneLine(alarm.NewStateValue).toUpperCase();
      const body: CardElement[] = [
        title(`${state}: ${oneLine(alarm.AlarmName)}`, state === 'OK' ? 'good' : 'attention'),
      ];
      if (alarm.AlarmDescription) body.push(text(free(alarm.AlarmDescription)));
      const facts = [
        alarm.NewStateReason && { title: 'Reason', value: free(alarm.NewStateReason) },
        alarm.OldStateValue && { title: 'Previous state', value: oneLine(alarm.OldStateValue) },
        alarm.StateChangeTime && { title: 'Changed', value: oneLine(alarm.StateChangeTime) },
        alarm.Region && { title: 'Region', value: oneLine(alarm.Region) },
      ].filter((f): f is { title: string; value: string } => Boolean(f));
      if (facts.length > 0) body.push({ type: 'FactSet', facts });
      return envelope(body, []);
    }
    case 'raw':
      return envelope(
        [
          title(incoming.subject ?? DEFAULT_TITLE, 'default'),
          text(free(incoming.text) || '(empty message)'),
          {
            ...text(
              'Not a structured ngrok balance alert notification: shown as it was published.',
            ),
            isSubtle: true,
            size: 'Small',
          },
        ],
        [],
      );
  }
}

function notificationBody(c: Content): CardElement[] {
  const body: CardElement[] = [
    title(`${c.title.before}${c.label}${c.title.after}`, TONE_COLOR[c.tone]),
    text(c.headline),
  ];
  const problems = c.problems && problemBlocks(c.problems);
  if (problems && c.problems?.first) body.push(...problems);
  body.push({
    type: 'FactSet',
    facts: c.facts.map((f) => ({ title: f.label, value: f.value })),
  });
  body.push({ ...text(c.stepsTitle), weight: 'Bolder', spacing: 'Medium' });
  for (const step of c.steps) {
    body.push(text(`- ${step.text}`));
    if (step.command) {
      body.push({ ...text(step.command), fontType: 'Monospace', spacing: 'None' });
    }
    if (step.note) body.push({ ...text(step.note), isSubtle: true, spacing: 'None' });
  }
  if (problems && !c.problems?.first) body.push(...problems);
  body.push({ ...text(c.footer), isSubtle: true, size: 'Small' });
  return body;
}

function problemBlocks(p: NonNullable<Content['problems']>): CardElement[] {
  return [
    { ...text('Settings that could not be used'), weight: 'Bolder', spacing: 'Medium' },
    ...p.items.map((item) => text(`- ${item}`)),
    ...(p.hidden > 0 ? [text(`- and ${p.hidden} more`)] : []),
  ];
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
    text: truncatePlain(oneLine(value) || DEFAULT_TITLE, TITLE_MAX),
    wrap: true,
    weight: 'Bolder',
    size: 'Medium',
    color,
  };
}

function text(value: string): Extract<CardElement, { type: 'TextBlock' }> {
  return { type: 'TextBlock', text: value, wrap: true };
}

function free(value: string): string {
  return truncatePlain(value.trim(), FREE_TEXT_MAX);
}
