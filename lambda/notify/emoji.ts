/**
 * The Slack emoji code for each tone, shared by the channels that render in Slack (Amazon Q
 * custom notifications and the Slack webhook), so the two cannot disagree.
 */
import type { Tone } from './content.ts';

export const TONE_EMOJI: Readonly<Record<Tone, string>> = {
  test: ':test_tube:',
  good: ':white_check_mark:',
  info: ':information_source:',
  config: ':gear:',
  warning: ':warning:',
  alarm: ':rotating_light:',
};
