/**
 * Discord through a channel webhook: one embed, its colour from the severity (green once a
 * problem is resolved), within Discord's embed limits. Mentions are switched off, so no
 * text can ping @everyone, and every text is escaped Markdown (inert.ts), so none can become
 * a link, a heading or a code block. Facts that do not fit are counted in a last field
 * ("and 75 more accounts: see the email or the JSON"). Pure.
 */
import { type Content, moreFacts, type Severity } from './content.ts';
import type { Incoming } from './incoming.ts';
import {
  cutMarkdown,
  joinMarkdown,
  type Markdown,
  markdownCodeBlock,
  markdownLines,
  markdownLink,
  markdownText,
  md,
} from './inert.ts';

/** Discord's limits for one embed (characters). */
export const DISCORD_LIMITS = {
  title: 256,
  description: 4_096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1_024,
  footer: 2_048,
  /** Title, description, field names and values, and footer together, in all embeds. */
  total: 6_000,
  /** Embeds in one message (this renderer sends one). */
  embeds: 10,
} as const;

/** The description keeps at least this much when facts compete for the total. */
const DESCRIPTION_RESERVE = 1_500;
/** Room kept for the field that counts the facts left out. */
const MORE_RESERVE = 200;

const SEVERITY_COLOR: Readonly<Record<Severity, number>> = {
  info: 0x3498db,
  warning: 0xf1c40f,
  error: 0xe67e22,
  critical: 0xe74c3c,
};
const RESOLVED_COLOR = 0x2ecc71;
const TEST_COLOR = 0x5865f2;
const DEFAULT_TITLE = 'ngrok balance alert';

export interface DiscordField {
  readonly name: Markdown;
  readonly value: Markdown;
  readonly inline: boolean;
}

export interface DiscordEmbed {
  readonly title: Markdown;
  /** Absent rather than empty: Discord refuses an empty one. */
  readonly description?: Markdown;
  readonly color: number;
  readonly url?: string;
  readonly fields?: readonly DiscordField[];
  readonly footer?: { readonly text: Markdown };
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
      return notificationMessage(c, {
        color: c.test
          ? TEST_COLOR
          : n.event === 'resolve'
            ? RESOLVED_COLOR
            : SEVERITY_COLOR[n.severity],
        timestamp: n.at,
      });
    }
    case 'alarm': {
      const { alarm } = incoming;
      const state = alarm.NewStateValue.toUpperCase();
      return message({
        title: markdownText(`${state}: ${alarm.AlarmName}`),
        description: joinMarkdown(
          [
            alarm.AlarmDescription ? markdownLines(alarm.AlarmDescription) : undefined,
            alarm.NewStateReason
              ? md`**Reason:** ${markdownLines(alarm.NewStateReason)}`
              : undefined,
          ].filter((part): part is Markdown => Boolean(part)),
          '\n\n',
        ),
        color:
          state.trim() === 'OK'
            ? RESOLVED_COLOR
            : state.trim() === 'ALARM'
              ? SEVERITY_COLOR.error
              : SEVERITY_COLOR.info,
        fields: [
          alarm.OldStateValue && {
            name: md`Previous state`,
            value: markdownText(alarm.OldStateValue),
            inline: true,
          },
          alarm.Region && { name: md`Region`, value: markdownText(alarm.Region), inline: true },
        ].filter((f): f is DiscordField => Boolean(f)),
      });
    }
    case 'raw':
      return message({
        title: markdownText(incoming.subject ?? DEFAULT_TITLE),
        description: markdownLines(incoming.text) || md`(empty message)`,
        color: SEVERITY_COLOR.info,
        footer: md`Not a structured ngrok balance alert notification: shown as it was published.`,
      });
  }
}

function notificationDescription(c: Content): Markdown {
  const problems = c.problems
    ? joinMarkdown(
        [
          md`**Settings that could not be used**`,
          ...c.problems.items.map((item) => md`- ${markdownText(item)}`),
          ...(c.problems.hidden > 0
            ? [md`- and ${markdownText(String(c.problems.hidden))} more`]
            : []),
        ],
        '\n',
      )
    : undefined;
  const steps = joinMarkdown(
    [
      md`**${markdownText(c.stepsTitle)}**`,
      ...c.steps.map((s) =>
        joinMarkdown(
          [
            md`- ${markdownText(s.text)}`,
            // A code block copies cleanly; a command that could close it is shown as text.
            s.command && markdownCodeBlock(s.command),
            s.note && md`  ${markdownText(s.note)}`,
          ].filter((part): part is Markdown => Boolean(part)),
          '\n',
        ),
      ),
    ],
    '\n',
  );
  return joinMarkdown(
    [
      markdownText(c.headline),
      c.problems?.first ? problems : undefined,
      steps,
      c.problems?.first ? undefined : problems,
    ].filter((part): part is Markdown => Boolean(part)),
    '\n\n',
  );
}

/**
 * The embed of one notification. The facts become fields in order, as many as fit beside
 * the description (which keeps at least DESCRIPTION_RESERVE characters); the rest are
 * counted in a last field, so nothing is left out without a word.
 */
function notificationMessage(
  c: Content,
  style: { readonly color: number; readonly timestamp: string },
): DiscordMessage {
  const L = DISCORD_LIMITS;
  const title = fitTitle(markdownText(`${c.title.before}${c.label}${c.title.after}`));
  const footer = cutMarkdown(markdownText(c.footer), L.footer);
  // Webhook embeds have no buttons: the checkout page is a link in the first field, kept
  // before any fact, or at the head of the description when it is too long for a field (its
  // URL checked again here, since the content arrives as JSON).
  const payLink = c.payLink && markdownLink('Open the checkout page', c.payLink.url);
  const payLabel = c.payLink && cutMarkdown(markdownText(c.payLink.label), L.fieldName);
  const payField: DiscordField | undefined =
    payLink && payLabel && payLink.length <= L.fieldValue
      ? { name: payLabel, value: payLink, inline: false }
      : undefined;
  const payLine = payLink && payLabel && !payField ? md`**${payLabel}:** ${payLink}` : undefined;
  const description = cutMarkdown(
    payLine
      ? joinMarkdown([payLine, notificationDescription(c)], '\n\n')
      : notificationDescription(c),
    L.description,
  );
  // The digest's facts are its accounts, any of which may be called "Account".
  const facts = c.factsAre ? c.facts : c.facts.filter((f) => f.label !== 'Account');
  let room =
    L.total -
    title.length -
    footer.length -
    Math.min(description.length, DESCRIPTION_RESERVE) -
    (payField ? payField.name.length + payField.value.length : 0);
  const fields: DiscordField[] = payField ? [payField] : [];
  for (const [i, f] of facts.entries()) {
    const field = {
      name: cutMarkdown(markdownText(f.label), L.fieldName) || md`(none)`,
      value: cutMarkdown(markdownText(f.value), L.fieldValue) || md`(none)`,
      inline: f.value.length <= 40,
    };
    const size = field.name.length + field.value.length;
    const last = i === facts.length - 1 && !c.factsOmitted;
    // The last fact may take the room and the slot kept for the count of those left out.
    const limit = last ? room : room - MORE_RESERVE;
    if (fields.length >= (last ? L.fields : L.fields - 1) || size > limit) break;
    fields.push(field);
    room -= size;
  }
  const more = moreFacts(c, c.facts.length - (facts.length - fields.length));
  if (more) {
    fields.push({
      name: md`Not shown here`,
      value: cutMarkdown(markdownText(more), Math.min(L.fieldValue, MORE_RESERVE - 20)),
      inline: false,
    });
  }
  return message({
    title,
    description,
    color: style.color,
    ...(c.links[0] && { url: c.links[0].url }),
    fields,
    footer,
    timestamp: style.timestamp,
  });
}

function fitTitle(title: Markdown): Markdown {
  return cutMarkdown(title, DISCORD_LIMITS.title) || md`${markdownText(DEFAULT_TITLE)}`;
}

/** Fits every part to its limit, then the whole embed to the total, shortening the description. */
function message(e: {
  title: Markdown;
  description: Markdown;
  color: number;
  url?: string;
  fields?: readonly DiscordField[];
  footer?: Markdown;
  timestamp?: string;
}): DiscordMessage {
  const L = DISCORD_LIMITS;
  const title = fitTitle(e.title);
  const fields = (e.fields ?? []).slice(0, L.fields).map((f) => ({
    name: cutMarkdown(f.name, L.fieldName),
    value: cutMarkdown(f.value, L.fieldValue),
    inline: f.inline,
  }));
  const footer = e.footer === undefined ? undefined : cutMarkdown(e.footer, L.footer);
  const others =
    title.length +
    (footer?.length ?? 0) +
    fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
  const description = cutMarkdown(e.description, Math.min(L.description, L.total - others));
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
