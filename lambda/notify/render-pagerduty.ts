/**
 * PagerDuty Events API v2: what each message does to the incident it is about. One incident
 * per account and problem, keyed by the content's `dedupKey`: a problem opens it (`trigger`),
 * a worse level re-triggers the same key with the higher severity, and recovery resolves
 * it. Pure: the routing key is added by the poster, so nothing here ever holds it.
 *
 * Not incidents, so PagerDuty gets nothing for them: reminders (PagerDuty's own escalation
 * policy re-notifies, and a re-trigger would reopen an incident someone resolved by hand),
 * configuration problems (the monitor keeps alerting with the deployed defaults; the other
 * channels say what to fix) and messages published by hand. A test is a trigger followed at
 * once by a resolve on the test's own key, so it proves that the integration pages and
 * never leaves an incident open, nor touches a real one.
 */
import { oneLine, visible } from '../common/text.ts';
import type { NotificationKind } from '../common/types.ts';
import { type Content, moreFacts, type Severity } from './content.ts';
import { truncate, utf8Bytes } from './format.ts';
import type { Incoming } from './incoming.ts';
import { httpsLink } from './inert.ts';
import type { NotificationV2 } from './render-json.ts';

/** PagerDuty cuts a longer summary; cutting it here keeps the end marker ours. */
export const SUMMARY_MAX = 1_024;
/** PagerDuty rejects a longer dedup_key. */
export const DEDUP_KEY_MAX = 255;
/** PagerDuty rejects an event body over 512 KB; the routing key and some slack are left. */
export const EVENT_MAX_BYTES = 512_000 - 1_000;

export type PagerDutyAction = 'trigger' | 'resolve';

/** One event, without the routing key (the poster adds it). */
export interface PagerDutyEvent {
  readonly event_action: PagerDutyAction;
  readonly dedup_key: string;
  /** Only on a trigger. */
  readonly payload?: {
    readonly summary: string;
    readonly source: string;
    readonly severity: Severity;
    readonly timestamp?: string;
    readonly component?: string;
    readonly group?: string;
    readonly class?: string;
    readonly custom_details?: Readonly<Record<string, unknown>>;
  };
  readonly links?: ReadonlyArray<{ readonly href: string; readonly text: string }>;
  readonly client?: string;
  readonly client_url?: string;
}

/** What PagerDuty gets for each notification kind. */
type Handling = 'trigger' | 'resolve' | 'nothing' | 'test';

export const KIND_HANDLING: Readonly<Record<NotificationKind, Handling>> = {
  'balance-alert': 'trigger',
  'balance-reminder': 'nothing',
  // Still a problem, now a smaller one: the same incident, with the lower severity logged.
  'balance-improved': 'trigger',
  'balance-recovered': 'resolve',
  'monitor-failing': 'trigger',
  'monitor-reminder': 'nothing',
  'monitor-recovered': 'resolve',
  'config-problem': 'nothing',
  test: 'test',
  // Auto top-up has its own incident per account: one that needs a person opens it, a
  // purchase that went through resolves it; news that needs nobody stays out of PagerDuty.
  'top-up-failed': 'trigger',
  'top-up-action-required': 'trigger',
  'top-up-stopped': 'trigger',
  'top-up-succeeded': 'resolve',
  'top-up-started': 'nothing',
  'top-up-pending-long': 'nothing',
  'top-up-capped': 'nothing',
  'top-up-dry-run': 'nothing',
  // News for the team, never an incident.
  'snooze-set': 'nothing',
  'snooze-ended': 'nothing',
  'weekly-digest': 'nothing',
  'credit-expiry': 'nothing',
  // A spike is an incident of its own (dedup key .../spike): it can start and end while the
  // balance is fine. Its reminders page nobody, as the balance's do not.
  'spike-started': 'trigger',
  'spike-reminder': 'nothing',
  'spike-ended': 'resolve',
};

const CLIENT = 'ngrok balance alert';

/** The events for one message, in the order they must be sent; often none. */
export function renderPagerDuty(incoming: Incoming): PagerDutyEvent[] {
  switch (incoming.kind) {
    case 'notification':
      return notificationEvents(incoming.notification);
    case 'alarm': {
      // The stack's own alarms (a failed run, a channel's failures queue) are incidents too,
      // one per alarm name.
      const { alarm } = incoming;
      const key = dedupKey(`ngrok-balance-alert/alarm/${oneLine(alarm.AlarmName)}`);
      const state = alarm.NewStateValue.toUpperCase();
      if (state === 'OK') return [{ event_action: 'resolve', dedup_key: key }];
      if (state !== 'ALARM') return [];
      return [
        {
          event_action: 'trigger',
          dedup_key: key,
          payload: {
            summary: summary(incoming.subject ?? `ALARM: ${alarm.AlarmName}`),
            source: visible(`CloudWatch alarm ${oneLine(alarm.AlarmName)}`).slice(0, 255),
            severity: 'error',
            component: 'ngrok balance monitor',
            class: 'cloudwatch-alarm',
            ...(alarm.StateChangeTime && { timestamp: toIso(alarm.StateChangeTime) }),
            custom_details: {
              ...(alarm.AlarmDescription && { description: visible(alarm.AlarmDescription) }),
              ...(alarm.NewStateReason && { reason: visible(alarm.NewStateReason) }),
              ...(alarm.Region && { region: visible(alarm.Region) }),
            },
          },
          client: CLIENT,
        },
      ];
    }
    case 'raw':
      return [];
  }
}

function notificationEvents(n: NotificationV2): PagerDutyEvent[] {
  const key = dedupKey(n.dedupKey);
  switch (KIND_HANDLING[n.kind]) {
    case 'nothing':
      return [];
    case 'resolve':
      return [{ event_action: 'resolve', dedup_key: key }];
    case 'trigger':
      return [trigger(n, key)];
    case 'test':
      return [trigger(n, key), { event_action: 'resolve', dedup_key: key }];
  }
}

function trigger(n: NotificationV2, key: string): PagerDutyEvent {
  const c = n.content;
  const event = (shown: number): PagerDutyEvent => {
    const more = moreFacts(c, shown);
    return {
      event_action: 'trigger',
      dedup_key: key,
      payload: {
        summary: summary(n.subject),
        // The label is at most LABEL_MAX (200) characters: within PagerDuty's 255.
        source: visible(`ngrok account ${c.label}`).slice(0, 255),
        // The content's severity is PagerDuty's scale: low → warning, critical → error,
        // empty → critical, the monitor failing → error; a test is info.
        severity: n.severity,
        timestamp: n.at,
        component: n.kind.startsWith('monitor-')
          ? 'ngrok balance monitor'
          : 'ngrok AI Gateway credits',
        group: visible(n.account),
        class: n.kind,
        // Plain text: PagerDuty shows custom details as they are.
        custom_details: {
          headline: visible(c.headline),
          ...Object.fromEntries(
            c.facts.slice(0, shown).map((f) => [visible(f.label), visible(f.value)]),
          ),
          ...(more && { 'Not shown here': more }),
          [visible(c.stepsTitle)]: c.steps.map((s) =>
            visible([s.text, s.command, s.note].filter((part) => part !== undefined).join('\n')),
          ),
          ...(c.problems && { 'Settings not used': c.problems.items.map((p) => visible(p)) }),
        },
      },
      links: [...payLinks(c), ...c.links].map((l) => ({ href: l.url, text: l.label })),
      client: CLIENT,
    };
  };
  // Only a content far larger than any SNS message could pass the limit; facts go first.
  let shown = c.facts.length;
  let e = event(shown);
  while (shown > 0 && utf8Bytes(JSON.stringify(e)) > EVENT_MAX_BYTES) {
    shown = Math.floor(shown / 2);
    e = event(shown);
  }
  return e;
}

/** "Buy $X now" first when the alert has a checkout page whose URL is still https. */
function payLinks(c: Content): Content['links'] {
  const url = httpsLink(c.payLink?.url);
  return c.payLink && url !== undefined ? [{ label: visible(c.payLink.label), url }] : [];
}

function summary(text: string): string {
  return truncate(oneLine(visible(text)), SUMMARY_MAX);
}

function dedupKey(key: string): string {
  return key.slice(0, DEDUP_KEY_MAX);
}

/** CloudWatch writes "2025-06-02T09:00:00.000+0000" (which Date.parse reads); PagerDuty wants ISO 8601. */
function toIso(time: string): string | undefined {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
