/**
 * What one SNS message delivered to a channel subscriber is: one of the monitor's
 * notifications (the version 2 JSON, as the topic delivers it to Lambda), a CloudWatch alarm
 * state change (the stack's own alarms notify the same topic), or anything else someone
 * published by hand. Each channel renders from this; none parses another channel's text.
 * Pure.
 */
import { oneLine } from '../common/text.ts';
import type { NotificationV2 } from './render-json.ts';
import { type AlarmNotification, asAlarm, asNotificationV2 } from './render-slack.ts';

export type Incoming =
  | {
      readonly kind: 'notification';
      readonly notification: NotificationV2;
      /** The message exactly as published: what the generic webhook posts and signs. */
      readonly raw: string;
    }
  | { readonly kind: 'alarm'; readonly alarm: AlarmNotification; readonly subject?: string }
  | { readonly kind: 'raw'; readonly text: string; readonly subject?: string };

/** Classifies one SNS message; `subject` is the SNS Subject when the publisher set one. */
export function classifyMessage(message: string, subject?: string | null): Incoming {
  const json = parseJson(message);
  const notification = asNotificationV2(json);
  if (notification) return { kind: 'notification', notification, raw: message };
  const title = subject ? oneLine(subject) : undefined;
  const alarm = asAlarm(json);
  if (alarm) return { kind: 'alarm', alarm, ...(title && { subject: title }) };
  return { kind: 'raw', text: message, ...(title && { subject: title }) };
}

/** Fields safe to log about a message: never its text, which a publisher may have filled. */
export function incomingFields(incoming: Incoming): Record<string, string | boolean> {
  switch (incoming.kind) {
    case 'notification':
      return {
        notificationKind: incoming.notification.kind,
        account: incoming.notification.account.slice(0, 200),
        test: incoming.notification.test,
      };
    case 'alarm':
      return { alarmState: incoming.alarm.NewStateValue.slice(0, 40) };
    case 'raw':
      return {};
  }
}

/** The JSON value of a message, or undefined; the shape checks come after. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
