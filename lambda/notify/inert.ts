/**
 * Inert text: the one place where text for people becomes each format's markup. Text from
 * outside the monitor (access key names, ngrok's decline messages, HTTP error bodies, snooze
 * notes, parameter values quoted in configuration problems) must read as the characters it
 * is, never as a link, a heading, a list, a code block or a mention.
 *
 * The types carry the rule. The content model's text is `UntrustedText`: cleaned of
 * invisible characters, but not markup. A renderer's output fields are `Markdown` or
 * `Mrkdwn`, which only two things make: a neutralizer below (`markdownText`, `chatText`,
 * `mrkdwnText`), or a tagged template (`md`, `mrkdwn`) whose literal parts are the
 * renderer's own source and whose placeholders must already be markup. So a renderer cannot
 * place content text without passing it through its format's neutralizer: it does not
 * compile. Plain-text formats (email, subjects, PagerDuty, JSON) get `visible` text.
 * Pure.
 */
import { cutAt, oneLine, visible } from '../common/text.ts';

declare const untrustedBrand: unique symbol;
declare const markdownBrand: unique symbol;
declare const mrkdwnBrand: unique symbol;

/**
 * Text for people that may hold text from outside the monitor. Invisible and control
 * characters are removed; markup characters are not: a renderer places it only through its
 * format's neutralizer.
 */
export type UntrustedText = string & { readonly [untrustedBrand]: true };

/** CommonMark as Teams (Adaptive Card TextBlock), Discord and Amazon Q render it. */
export type Markdown = string & { readonly [markdownBrand]: true };

/** Slack's mrkdwn. */
export type Mrkdwn = string & { readonly [mrkdwnBrand]: true };

/** Marks text as possibly from outside, removing what would change how it reads unseen. */
export function untrusted(text: string): UntrustedText {
  return visible(text) as UntrustedText;
}

// ---------------------------------------------------------------------------------------------
// Markdown (Teams, Discord, Amazon Q)

/**
 * Characters with a meaning anywhere in a line: escapes, code, emphasis, links and images,
 * HTML and autolinks, tables, strikethrough and spoilers. An `_` between two letters or digits
 * can neither start nor end emphasis (in CommonMark or in Discord), and an `&` that does not start
 * an entity is only an ampersand: both are left as they are, so commands and names such as
 * NGROK_API_KEY copy cleanly.
 */
const MARKDOWN_INLINE = /[\\`*[\]<>|~]|&(?=#?[0-9A-Za-z]+;)|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])/g;

/**
 * Text as one line of CommonMark that reads as itself: line breaks collapsed (so nothing
 * starts a line of its own), inline syntax escaped with backslashes, and what could open a
 * block at the start of a line (a heading, a list item, a quote, a setext underline)
 * escaped too.
 */
export function markdownText(text: string): Markdown {
  return escapeMarkdownLine(oneLine(visible(text)));
}

/**
 * Markdown for Amazon Q, whose chat apps may read Slack syntax as well: `<` and `>` become
 * look-alikes (‹ ›), so nothing can become `<!channel>` or `<url|text>` on the way.
 */
export function chatText(text: string): Markdown {
  return markdownText(text.replace(/</g, '‹').replace(/>/g, '›'));
}

function escapeMarkdownLine(line: string): Markdown {
  return line
    .replace(MARKDOWN_INLINE, '\\$&')
    .replace(/^[-+=#]/, '\\$&')
    .replace(/^(\d+)([.)])/, '$1\\$2') as Markdown;
}

/**
 * Text of several lines (a message published by hand, an alarm's reason): each line escaped
 * as `markdownText` escapes one, so that no line opens a block; blank lines kept as paragraph
 * breaks.
 */
export function markdownLines(text: string): Markdown {
  return visible(text)
    .split(/\r\n|\r|\n/)
    .map((line) => escapeMarkdownLine(line.replace(/\s+/g, ' ').trim()))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim() as Markdown;
}

/** A command as a fenced code block; as escaped text when it could close the fence. */
export function markdownCodeBlock(command: string): Markdown {
  const line = oneLine(visible(command));
  return line.includes('`') ? markdownText(line) : (`\`\`\`\n${line}\n\`\`\`` as Markdown);
}

/** A command as inline code; as escaped text when it holds a backtick. */
export function markdownCodeSpan(command: string, text = markdownText): Markdown {
  const line = oneLine(visible(command));
  return line.includes('`') ? text(line) : (`\`${line}\`` as Markdown);
}

/** Markup written in a renderer's source; every placeholder must already be Markdown. */
export function md(strings: TemplateStringsArray, ...values: readonly Markdown[]): Markdown {
  return interleave(strings, values) as Markdown;
}

/** What markup is joined with: line and paragraph breaks, never text. */
type Separator = '\n' | '\n\n' | ' ';

/** Joins Markdown with a line or paragraph break. */
export function joinMarkdown(parts: readonly Markdown[], separator: Separator): Markdown {
  return parts.join(separator) as Markdown;
}

/**
 * Cuts Markdown to `max` characters, ending with `marker`: never in the middle of a
 * character or right after an escaping backslash, and never inside a code block it opened.
 */
export function cutMarkdown(text: Markdown, max: number, marker = '…'): Markdown {
  if (text.length <= max) return text;
  if (max <= marker.length) return '' as Markdown;
  let head = cutAt(text, max - marker.length);
  // An odd run of backslashes at the end would escape the marker (or whatever follows).
  const slashes = /\\+$/.exec(head)?.[0].length ?? 0;
  if (slashes % 2 === 1) head = head.slice(0, -1);
  // An unclosed fence would turn the rest of the message into code.
  const fences = head.split('```').length - 1;
  if (fences % 2 === 1) head = head.slice(0, head.lastIndexOf('```'));
  return `${head.trimEnd()}${marker}` as Markdown;
}

// ---------------------------------------------------------------------------------------------
// Slack mrkdwn

/**
 * Slack's three control characters escaped. Without a raw `<` no text can become a mention
 * (<!channel>, <@U123>) or a link whose label hides its address (<https://evil|top up>).
 * Slack has no escape for `*`, `_`, `~` or a backtick: those can only style text.
 */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text as one line of mrkdwn that reads as itself. */
export function mrkdwnText(text: string): Mrkdwn {
  return escapeMrkdwn(oneLine(visible(text))) as Mrkdwn;
}

/** Text of several lines (a message published by hand, an alarm's description) as mrkdwn. */
export function mrkdwnLines(text: string): Mrkdwn {
  return escapeMrkdwn(visible(text)) as Mrkdwn;
}

/** Markup written in a renderer's source; every placeholder must already be mrkdwn. */
export function mrkdwn(strings: TemplateStringsArray, ...values: readonly Mrkdwn[]): Mrkdwn {
  return interleave(strings, values) as Mrkdwn;
}

/** Joins mrkdwn with a line or paragraph break. */
export function joinMrkdwn(parts: readonly Mrkdwn[], separator: Separator): Mrkdwn {
  return parts.join(separator) as Mrkdwn;
}

/**
 * A piece of already-escaped markup: a slice cannot un-escape anything, it can at worst cut
 * an entity or a link of the renderer's own in two (the cutting functions avoid that).
 */
export function sliceMarkup<T extends Markdown | Mrkdwn>(text: T, start: number, end?: number): T {
  return text.slice(start, end) as T;
}

/** Markup trimmed of surrounding whitespace. */
export function trimMarkup<T extends Markdown | Mrkdwn>(text: T): T {
  return text.trim() as T;
}

// ---------------------------------------------------------------------------------------------
// Links from outside

/** The longest link placed (the JSON contract's limit for the pay link). */
export const LINK_URL_MAX = 2_048;

/**
 * A URL from outside (the checkout page ngrok returned) as it may be placed in any format, or
 * undefined when it may not: https only, parsed as a URL with a host and no user name or
 * password, at most LINK_URL_MAX characters, and made only of characters that end no link in
 * any format (no space, quote, bracket, parenthesis, `<`, `>`, `|`, `*` or backtick). A URL
 * that fails is dropped, never repaired: the caller shows the credits page instead.
 */
export function httpsLink(url: unknown): string | undefined {
  if (typeof url !== 'string' || url.length > LINK_URL_MAX) return undefined;
  if (!/^https:\/\/[A-Za-z0-9\-._~:/?#@!$&+,;=%]+$/.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' || parsed.hostname === '') return undefined;
    if (parsed.username !== '' || parsed.password !== '') return undefined;
  } catch {
    return undefined;
  }
  return url;
}

/**
 * A Markdown link `[label](url)` (Discord, Teams, Amazon Q): the label escaped as text, the URL
 * only when `httpsLink` accepts it (none of its characters can end the link); undefined else.
 */
export function markdownLink(
  label: string,
  url: unknown,
  text = markdownText,
): Markdown | undefined {
  const href = httpsLink(url);
  return href === undefined ? undefined : (`[${text(label)}](${href})` as Markdown);
}

// ---------------------------------------------------------------------------------------------
// Plain text (email, subjects, PagerDuty, JSON)

/** Plain text keeps its line breaks; only what does not show is removed. */
export function plainText(text: string): string {
  return visible(text);
}

function interleave(strings: TemplateStringsArray, values: readonly string[]): string {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += `${values[i]}${strings[i + 1] ?? ''}`;
  return out;
}
