/**
 * Wording shared by the content builder and the renderers: amounts of time, runways, shares,
 * times of day, and the text hygiene every channel needs (cutting, printable ASCII). The
 * forecast returns numbers; how they read is decided here. Pure.
 */
import { formatCents } from '../common/money.ts';
import { cutAt, oneLine, visible } from '../common/text.ts';
import type { Forecast, Level } from '../common/types.ts';

/** Runways this long are shown as "more than 10 years". */
const MAX_SHOWN_RUNWAY_DAYS = 3650;

/**
 * Describes a forecast in one phrase for a notification, e.g.
 * "about 1.9 days at $3.10/day (usage over the last 7.5 days)". It names the source so a
 * reader can tell a measured balance decline from billed usage.
 */
export function formatRunway(forecast: Forecast): string {
  const { dailySpendCents: rate, runwayDays } = forecast;
  const source = forecast.source === 'usage' ? 'usage' : 'balance history';
  const basis = `${source} over the last ${formatWindow(forecast.windowDays)}`;
  const spending = Number.isFinite(rate) && rate > 0;
  if (runwayDays === 0) {
    return spending ? `out of credit (spending ${formatRate(rate)}, ${basis})` : 'out of credit';
  }
  if (runwayDays === null || !spending || !Number.isFinite(runwayDays)) {
    return `no recent spend (${basis})`;
  }
  return `${formatRunwayDays(runwayDays)} at ${formatRate(rate)} (${basis})`;
}

/**
 * "about 1.9 days" under ten days, whole days above ("about 1,234 days"): more precision than
 * the rate has is noise. Shared with the notification subject, so the subject and the text
 * round alike.
 */
export function formatRunwayDays(days: number): string {
  if (days < 0.1) {
    return 'less than 0.1 days';
  }
  if (days >= MAX_SHOWN_RUNWAY_DAYS) {
    // A trickle of spend gives runways of centuries; a number that large says nothing more.
    return 'more than 10 years';
  }
  const shown = days < 10 ? trimZero(days.toFixed(1)) : groupThousands(Math.round(days));
  return `about ${shown} ${shown === '1' ? 'day' : 'days'}`;
}

/** The span a rate was measured over: "7.5 days", "2 days", or "day" (as in "the last day"). */
export function formatWindow(days: number): string {
  const shown = trimZero(days.toFixed(1));
  return shown === '1' ? 'day' : `${shown} days`;
}

/** A top spender's share of the spend: "65%", or "<1%" for a share that rounds to nothing. */
export function formatShare(share: number): string {
  const pct = Math.round(share * 100);
  return pct === 0 && share > 0 ? '<1%' : `${pct}%`;
}

function formatRate(dailySpendCents: number): string {
  // Below half a cent formatCents would print "$0.00/day", which reads as no spend.
  return dailySpendCents < 0.5 ? 'less than $0.01/day' : `${formatCents(dailySpendCents)}/day`;
}

function trimZero(fixed: string): string {
  return fixed.endsWith('.0') ? fixed.slice(0, -2) : fixed;
}

function groupThousands(whole: number): string {
  return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * "about 1.9 days", worded as the runway in the text, for the headline and the subject;
 * undefined when there is no forecast or nothing is being spent.
 */
export function runwayDays(f: Forecast | undefined): string | undefined {
  if (!f || f.runwayDays === null || !Number.isFinite(f.runwayDays) || f.runwayDays <= 0) {
    return undefined;
  }
  return formatRunwayDays(f.runwayDays);
}

/** "2025-06-01 14:05 UTC"; the raw text when it is not a date. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return truncate(oneLine(iso), 40);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The level as a word in a sentence; EMPTY is shouted. */
export function levelWord(level: Level): string {
  return level === 'empty' ? 'EMPTY' : level;
}

/** An amount as the whole cents a threshold parameter holds. */
export function wholeCents(cents: number): string {
  return String(Math.max(0, Math.round(cents)));
}

/** A finite amount (an absent or unreadable one is shown as unknown). */
export function isAmount(x: number | undefined): x is number {
  return x !== undefined && Number.isFinite(x);
}

/** "The credits…" → "the credits…", for a sentence that follows "Reminder: ". */
export function lowerFirstWord(sentence: string): string {
  return sentence.replace(/^(The|At) /, (word) => word.toLowerCase());
}

/** Indents every line of `text` by `by`. */
export function indent(text: string, by: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `${by}${line}`)
    .join('\n');
}

/**
 * Outside text for people: control characters (other than line breaks and tabs) and
 * invisible format characters (bidirectional controls, zero-width marks) removed, trimmed, cut.
 */
export function printable(text: string, max: number): string {
  // Cut first: the text may be megabytes long, and only `max` characters of it are shown.
  const head = text.length > max ? cutAt(text, max) : text;
  const clean = visible(head).trim();
  return text.length > max ? truncate(clean, max, text.length) : clean;
}

const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'Th',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2026': '...',
  '\u20ac': 'EUR',
  '\u00a3': 'GBP',
};

/** Printable ASCII on one line: accents dropped (ü → u), known symbols spelled out, the rest removed. */
export function asciiOneLine(s: string): string {
  const spelled = s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]/gu, (ch) => TRANSLITERATIONS[ch] ?? (/\s/u.test(ch) ? ' ' : ''));
  return spelled.replace(/\s+/g, ' ').trim();
}

/**
 * Cuts text to `max` characters (never splitting a surrogate pair), saying how long it was.
 * `total` is the original length when `text` has already been cut.
 */
export function truncate(text: string, max: number, total = text.length): string {
  if (total <= max && text.length <= max) return text;
  const marker = `... [truncated, ${total} characters in all]`;
  if (max <= marker.length) return cutAt(text, max);
  return `${cutAt(text, Math.min(text.length, max - marker.length))}${marker}`;
}

/** Size of `s` in UTF-8, the unit SNS limits. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** 32-bit FNV-1a as 8 hex digits: a short, stable tag for an arbitrary string. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
