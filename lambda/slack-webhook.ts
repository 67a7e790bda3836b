/**
 * Lambda entry point of the Slack webhook subscriber; the code lives with the other
 * notification channels in notify/channels/.
 */
export * from './notify/channels/slack-webhook.ts';
