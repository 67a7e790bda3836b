/**
 * Publishing: a notification rendered for every channel and sent to the topic, and the
 * outbox flush that follows every commit: publish what this run holds, then remove what went
 * out and release what did not, in one more conditional write.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '../common/log.ts';
import type { Notification } from '../common/types.ts';
import { renderNotification } from '../notify/render.ts';
import { toSnsPublish } from '../notify/sns.ts';
import { claimedBy, type OutboxEntry, release, removeSent } from '../store/outbox.ts';
import { type RecordStore, update, type Versioned } from '../store/store.ts';

export type Publish = (notification: Notification) => Promise<void>;

export interface SnsPublishDeps {
  readonly sns: Pick<SNSClient, 'send'>;
  readonly topicArn: string;
  readonly log: Logger;
  readonly region?: string;
  readonly functionName?: string;
  /** The abort signal for one call; throws when the invocation has no time left for it. */
  readonly signal?: () => AbortSignal;
}

/** Publishes one notification to the topic, rendered for every protocol. */
export function snsPublisher(deps: SnsPublishDeps): Publish {
  return async (notification) => {
    const rendered = renderNotification(notification, {
      ...(deps.region !== undefined && { region: deps.region }),
      ...(deps.functionName !== undefined && { functionName: deps.functionName }),
    });
    const input = toSnsPublish(rendered, notification.account);
    await deps.sns.send(
      new PublishCommand({ TopicArn: deps.topicArn, ...input }),
      deps.signal ? { abortSignal: deps.signal() } : {},
    );
    deps.log.log('INFO', 'notification published', {
      account: notification.account,
      kind: notification.kind,
      subject: rendered.subject,
    });
  };
}

/** A record with an outbox. */
export interface WithOutbox {
  readonly outbox: readonly OutboxEntry[];
}

export interface FlushResult {
  readonly sent: readonly Notification[];
  /** The first publish error, when a publish failed (the rest were released for the next run). */
  readonly error?: unknown;
}

/**
 * Publishes, in order, the entries `runId` claimed in `committed`, stopping at the first
 * failure; then one conditional write removes what went out and releases the rest. If that
 * write fails, the claims lapse and a later run sends those entries again (at most one
 * repeat), which is why it is safe to throw here.
 */
export async function flushOutbox<T extends WithOutbox>(
  store: RecordStore<unknown>,
  key: string,
  committed: Versioned<unknown>,
  runId: string,
  publish: Publish,
  read: (value: unknown) => T,
): Promise<FlushResult> {
  const mine = claimedBy(read(committed.value).outbox, runId);
  if (mine.length === 0) return { sent: [] };
  const sent = new Set<string>();
  const sentNotifications: Notification[] = [];
  let error: unknown;
  for (const entry of mine) {
    try {
      await publish(entry.notification);
      sent.add(entry.id);
      sentNotifications.push(entry.notification);
    } catch (caught) {
      error = caught;
      break;
    }
  }
  const unsent = new Set(mine.filter((e) => !sent.has(e.id)).map((e) => e.id));
  await update(
    store,
    key,
    (current) => {
      // Only the outbox changes: the rest of the record stays exactly as committed.
      const { outbox } = read(current.value);
      const raw = typeof current.value === 'object' && current.value !== null ? current.value : {};
      return { ...raw, outbox: release(removeSent(outbox, sent, runId), unsent, runId) };
    },
    committed,
  );
  return { sent: sentNotifications, ...(error !== undefined && { error }) };
}
