/**
 * The SNS Subject (also the email subject): printable ASCII on one line, 1..99 characters.
 * The account label is fitted into the content's title, so a long label is cut and the
 * amounts are kept. Pure.
 */
import type { Content } from './content.ts';
import { asciiOneLine } from './format.ts';

/** SNS rejects a Subject of 100 characters or more. */
export const SUBJECT_MAX_LENGTH = 99;

/**
 * Renders the subject line of one notification. Every title leaves room for a label of a few
 * characters (the tests check every kind with labels of any length), so only the label is cut.
 */
export function renderSubject(content: Content): string {
  const { before, after } = content.title;
  const label = asciiOneLine(content.label) || 'unnamed';
  const room = SUBJECT_MAX_LENGTH - asciiOneLine(before + after).length;
  const fitted = label.length <= room ? label : `${label.slice(0, room - 3).trimEnd()}...`;
  return asciiOneLine(`${before}${fitted}${after}`);
}
