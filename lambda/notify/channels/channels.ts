/**
 * The channels a subscriber function can deliver to, each one renderer plus its poster's
 * settings: what its parameter holds, what each permanent failure means, and the posts one
 * message needs. Adding a channel is an entry here, one in the construct's table, and its
 * renderer.
 */
import type { Incoming } from '../incoming.ts';
import { renderDiscord } from '../render-discord.ts';
import { renderPagerDuty } from '../render-pagerduty.ts';
import { renderTeams } from '../render-teams.ts';
import { type PostOptions, type PostResult, postJson } from './post.ts';
import { postToWebhook, redactSecrets } from './webhook.ts';

export const CHANNEL_NAMES = ['pagerduty', 'teams', 'discord', 'webhook'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** PagerDuty's US service region; EU accounts use https://events.eu.pagerduty.com/v2/enqueue. */
export const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** What a post is sent with: the parameter's value and, where there is one, the secret's. */
export interface Target {
  /** A URL, or PagerDuty's routing key. */
  readonly value: string;
  readonly secret?: string;
  /** Where PagerDuty events go (from PAGERDUTY_EVENTS_URL). */
  readonly eventsUrl: string;
}

export type Post = (target: Target, options: PostOptions) => Promise<PostResult>;

export interface ChannelSpec {
  /** How messages name the channel: "PagerDuty", "Teams workflow". */
  readonly label: string;
  /** What the parameter holds, for "The PagerDuty parameter ... does not hold ...". */
  readonly holds: string;
  /** A URL (https, checked) or a key (one word, checked). */
  readonly valueIsUrl: boolean;
  /** The posts one message needs, in order; none when the channel has nothing to say. */
  posts(incoming: Incoming): readonly Post[];
}

const PAGERDUTY_HINTS: Readonly<Record<number, string>> = {
  400: 'PagerDuty refused the event; check that the routing key parameter holds the integration key of an Events API v2 integration',
  404: 'nothing answers at the events URL; check pagerDutyEventsUrl',
};
const TEAMS_HINTS: Readonly<Record<number, string>> = {
  400: 'the workflow refused the card; check that the flow starts with "When a Teams webhook request is received" and posts the card it receives',
  401: 'the workflow URL is no longer accepted (the flow was changed or turned off); copy its URL again and update the parameter',
  403: 'the workflow URL is no longer accepted (the flow was changed or turned off); copy its URL again and update the parameter',
  404: 'the workflow no longer exists; create it again and update the parameter',
};
const DISCORD_HINTS: Readonly<Record<number, string>> = {
  400: 'Discord refused the message itself; this is a bug in the message rendering',
  401: 'Discord refused the webhook token; create a new webhook and update the parameter',
  403: 'the webhook is not allowed to post in its channel; check its permissions',
  404: 'the webhook was deleted; create a new one and update the parameter',
};

/** Posts a JSON body to the URL the parameter holds, never showing it. */
function postToUrl(label: string, who: string, hints: Readonly<Record<number, string>>) {
  return (body: unknown): Post =>
    (target, options) =>
      postJson(
        target.value,
        JSON.stringify(body),
        { label, who, hints, redact: (text) => redactSecrets(text, target.value, undefined) },
        options,
      );
}

export const CHANNELS: Readonly<Record<ChannelName, ChannelSpec>> = {
  pagerduty: {
    label: 'PagerDuty',
    holds: 'the routing key of an Events API v2 integration',
    valueIsUrl: false,
    posts: (incoming) =>
      renderPagerDuty(incoming).map(
        (event): Post =>
          (target, options) =>
            postJson(
              target.eventsUrl,
              JSON.stringify({ routing_key: target.value, ...event }),
              {
                label: 'PagerDuty',
                who: 'PagerDuty',
                hints: PAGERDUTY_HINTS,
                redact: (text) => text.split(target.value).join('[routing key]'),
              },
              options,
            ),
      ),
  },
  teams: {
    label: 'Teams workflow',
    holds: 'the URL of a Teams workflow started by "When a Teams webhook request is received"',
    valueIsUrl: true,
    posts: (incoming) => [postToUrl('Teams workflow', 'Teams', TEAMS_HINTS)(renderTeams(incoming))],
  },
  discord: {
    label: 'Discord webhook',
    holds: 'the URL of a Discord channel webhook',
    valueIsUrl: true,
    posts: (incoming) => [
      postToUrl('Discord webhook', 'Discord', DISCORD_HINTS)(renderDiscord(incoming)),
    ],
  },
  webhook: {
    label: 'Webhook',
    holds: 'the URL of your webhook receiver',
    valueIsUrl: true,
    // The contract is the version 2 JSON, posted exactly as published (and signed as such);
    // alarms and hand-published messages are not in it and reach the other channels.
    posts: (incoming) =>
      incoming.kind === 'notification'
        ? [(target, options) => postToWebhook(target.value, incoming.raw, target.secret, options)]
        : [],
  },
};
