/**
 * The email body: plain text, what happened and what to do, with each command on its own
 * indented line so it can be copied. Pure.
 */
import { type Content, moreFacts } from './content.ts';
import { indent } from './format.ts';
import { plainText } from './inert.ts';

/**
 * Renders the plain-text body of one notification. Plain text needs no escaping; what does
 * not show (bidirectional controls, zero-width marks) is removed.
 */
export function renderEmail(content: Content): string {
  return plainText(emailLines(content));
}

function emailLines(content: Content): string {
  const lines: string[] = [content.headline];
  const problems = problemLines(content);
  if (content.problems?.first) lines.push('', ...problems);
  lines.push('', ...content.facts.map((f) => `${f.label}: ${f.value}`));
  const more = moreFacts(content, content.facts.length);
  if (more) lines.push(`(${more})`);
  // The URL passed httpsLink (inert.ts) when the content was built.
  const pay = content.payLink;
  if (pay) lines.push('', `${pay.label}: ${pay.url}`, indent(pay.note, '    '));
  lines.push('', `${content.stepsTitle}:`);
  for (const step of content.steps) {
    lines.push(`- ${step.text}`);
    if (step.command) lines.push(`    ${step.command}`);
    if (step.note) lines.push(indent(step.note, '    '));
  }
  if (content.problems && !content.problems.first) lines.push('', ...problems);
  lines.push('', content.footer);
  return `${lines.join('\n')}\n`;
}

function problemLines(content: Content): string[] {
  if (!content.problems) return [];
  const { items, hidden } = content.problems;
  return [
    'Configuration problems (the deployed defaults are in use until they are fixed):',
    ...items.map((p) => `- ${indent(p, '  ').trimStart()}`),
    ...(hidden > 0 ? [`- and ${hidden} more`] : []),
  ];
}
