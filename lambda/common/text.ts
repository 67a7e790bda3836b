/**
 * Small text helpers shared by the renderers (notify/) and the local
 * check (cli.ts). Pure.
 */

/** Collapses every run of whitespace (line breaks included) to one space, and trims. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The first `end` characters of `text`, one fewer when the last of them would be the first
 * half of a surrogate pair, so that a cut never leaves half a character behind.
 */
export function cutAt(text: string, end: number): string {
  const code = text.charCodeAt(end - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? end - 1 : end);
}
