/**
 * Discord through a channel webhook: one embed, its colour from the severity (green once a
 * problem is resolved), within Discord's embed limits. Mentions are switched off, so no
 * text can ping @everyone. Pure.
 */
import { oneLine } from '../common/text.ts';
import type { Content, Severity } from './content.ts';
import type { Incoming } from './incoming.ts';
import { truncatePlain } from './render-slack.ts';

/** Discord's limits for one embed (characters). */
export const DISCORD_LIMITS = {
  title: 256,
  description: 4_096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1_024,
  footer: 2_048,
  /** Title, description, field names and values, and footer together. */
  total: 6_000,
} as const;

const SEVERITY_COLOR: Readonly<Record<Severity, number>> = {
  info: 0x3498db,
  warning: 0xf1c40f,
  error: 0xe67e22,
  critical: 0xe74c3c,
};
const RESOLVED_COLOR = 0x2ecc71;
const TEST_COLOR = 0x5865f2;
const DEFAULT_TITLE = 'ngrok balance alert';

export interface DiscordEmbed {
  readonly title: string;
  /** Absent rather than empty: Discord refuses an empty one. */
  readonly description?: string;
  readonly color: number;
  readonly url?: string;
  readonly fields?: ReadonlyArray<{
    readonly name: string;
    readonly value: string;
    readonly inline: boolean;
  }>;
  readonly footer?: { readonly text: string };
  readonly timestamp?: string;
}

/** The body of an Execute Webhook POST. */
export interface DiscordMessage {
  readonly username: string;
  readonly embeds: readonly [DiscordEmbed];
  readonly allowed_mentions: { readonly parse: readonly [] };
}

/** One embed per message, whatever it is: nothing published to the topic is dropped. */
export function renderDiscord(incoming: Incoming): DiscordMessage {
  switch (incoming.kind) {
    case 'notification': {
      const n = incoming.notification;
      const c = n.content;
      return message({
        title: `${c.title.before}${c.label}${c.title.after}`,
        description: notificationDescription(c),
        color: c.test
          ? TEST_COLOR
          : n.event === 'resolve'
            ? RESOLVED_COLOR
            : SEVERITY_COLOR[n.severity],
        ...(c.links[0] && { url: c.links[0].url }),
        fields: c.facts
          .filter((f) => f.label !== 'Account')
          .map((f) => ({ name: f.label, value: f.value, inline: f.value.length <= 40 })),
        footer: c.footer,
        timestamp: n.at,
      });
    }
    case 'alarm': {
      const { alarm } = incoming;
      const state = oneLine(alarm.NewStateValue).toUpperCase();
      return message({
        title: `${state}: ${oneLine(alarm.AlarmName)}`,
        description: [
          alarm.AlarmDescription,
          alarm.NewStateReason && `**Reason:** ${alarm.NewStateReason}`,
        ]
          .filter(Boolean)
          .join('\n\n'),
        color:
          state === 'OK'
            ? RESOLVED_COLOR
            : state === 'ALARM'
              ? SEVERITY_COLOR.error
              : SEVERITY_COLOR.info,
        fields: [
          alarm.OldStateValue && {
            name: 'Previous state',
            value: alarm.OldStateValue,
            inline: true,
          },
          alarm.Region && { name: 'Region', value: alarm.Region, inline: true },
        ].filter((f): f is { name: string; value: string; inline: boolean } => Boolean(f)),
      });
    }
    case 'raw':
      return message({
        title: incoming.subject ?? DEFAULT_TITLE,
        description: incoming.text.trim() || '(empty message)',
        color: SEVERITY_COLOR.info,
        footer: 'Not a structured ngrok balance alert notification: shown as it was published.',
      });
  }
}

function notificationDescription(c: Content): string {
  const problems = c.problems
    ? [
        '**Settings that could not be used**',
        ...c.problems.items.map((item) => `- ${item}`),
        ...(c.problems.hidden > 0 ? [`- and ${c.problems.hidden} more`] : []),
      ].join('\n')
    : '';
  const steps = [
    `**${c.stepsTitle}**`,
    ...c.steps.map((s) =>
      [
        `- ${s.text}`,
        // A code block copies cleanly; a backtick run in a command cannot close it early.
        s.command && `\`\`\`\n${s.command.replace(/```/g, '`\u200b``')}\n\`\`\``,
        s.note && `  ${s.note}`,
      ]
        .filter(Boolean)
        .join('\n'),
    ),
  ].join('\n');
  return [c.headline, c.problems?.first ? problems : '', steps, c.problems?.first ? '' : problems]
    .filter(Boolean)
    .join('\n\n');
}

/** Fits every part to its limit, then the whole embed to the total, shortening the description. */
function message(e: {
  title: string;
  description: string;
  color: number;
  url?: string;
  fields?: ReadonlyArray<{ name: string; value: string; inline: boolean }>;
  footer?: string;
  timestamp?: string;
}): DiscordMessage {
  const L = DISCORD_LIMITS;
  const title = truncatePlain(oneLine(e.title) || DEFAULT_TITLE, L.title);
  const fields = (e.fields ?? []).slice(0, L.fields).map((f) => ({
    name: truncatePlain(oneLine(f.name), L.fieldName),
    value: truncatePlain(f.value, L.fieldValue),
    inline: f.inline,
  }));
  const footer = e.footer === undefined ? undefined : truncatePlain(e.footer, L.footer);
  const others =
    title.length +
    (footer?.length ?? 0) +
    fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
  const description = truncatePlain(e.description, Math.min(L.description, L.total - others));
  return {
    username: 'ngrok balance alert',
    embeds: [
      {
        title,
        ...(description && { description }),
        color: e.color,
        ...(e.url !== undefined && { url: e.url }),
        ...(fields.length > 0 && { fields }),
        ...(footer !== undefined && { footer: { text: footer } }),
        ...(e.timestamp !== undefined && { timestamp: e.timestamp }),
      },
    ],
    allowed_mentions: { parse: [] },
  };
}
