/**
 * Small text helpers shared by the renderers (notify/) and the local
 * check (cli.ts). Pure.
 */

/** Collapses every run of whitespace (line breaks included) to one space, and trims. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Format characters (Unicode category Cf): the bidirectional controls (U+061C, U+200E/F,
 * U+202A-U+202E, U+2066-U+2069), the zero-width marks (U+200B-U+200D, U+2060), the soft
 * hyphen (U+00AD) and the byte order mark (U+FEFF) among them. They change how text reads
 * without showing: a right-to-left override makes "$05.01" of "$10.50".
 */
const INVISIBLE = /\p{Cf}/gu;

/** Control characters other than tab and line breaks. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** Whether `text` holds a character that `visible` removes. */
export function hasInvisible(text: string): boolean {
  return /\p{Cf}/u.test(text);
}

/**
 * Text as it shows: format characters (bidirectional controls, zero-width marks) and control
 * characters other than tab and line breaks removed. Every renderer applies it to text from
 * outside, plain-text email and subjects included.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, '').replace(CONTROLS, '');
}

/**
 * The first `end` characters of `text`, one fewer when the last of them would be the first
 * half of a surrogate pair, so that a cut never leaves half a character behind.
 */
export function cutAt(text: string, end: number): string {
  const code = text.charCodeAt(end - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? end - 1 : end);
}
