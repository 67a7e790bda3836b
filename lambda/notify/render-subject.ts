/**
 * The SNS Subject (also the email subject): printable ASCII on one line, 1..99 characters.
 * The account label is fitted into the content's title, so a long label is cut and the
 * amounts are kept. Pure.
 */
import type { Content } from './content.ts';
import { asciiOneLine } from './format.ts';

/** SNS rejects a Subject of 100 characters or more. */
export const SUBJECT_MAX_LENGTH = 99;

/** Renders the subject line of one notification. */
export function renderSubject(content: Content): string {
  const { before, after } = content.title;
  const label = asciiOneLine(content.label) || 'unnamed';
  const room = SUBJECT_MAX_LENGTH - asciiOneLine(before + after).length;
  const fitted =
    label.length <= room ? label : room >= 4 ? `${label.slice(0, room - 3).trimEnd()}...` : '';
  const subject = asciiOneLine(`${before}${fitted}${after}`);
  return subject.length <= SUBJECT_MAX_LENGTH
    ? subject
    : `${subject.slice(0, SUBJECT_MAX_LENGTH - 3)}...`;
}
