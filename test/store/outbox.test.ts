import { describe, expect, it } from 'vitest';
import type { Notification } from '../../lambda/common/types.ts';
import {
  CLAIM_MS,
  claimedBy,
  claimUnsent,
  enqueue,
  release,
  removeSent,
} from '../../lambda/store/outbox.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const note = (kind: Notification['kind']) => ({ kind, account: 'prod' }) as Notification;
const a = { by: 'run-a', now: NOW };
const b = { by: 'run-b', now: NOW };

describe('the outbox', () => {
  it('enqueues notifications claimed by the run that decided them, with ids unique in the record', () => {
    const first = enqueue([], [note('balance-alert'), note('spike-started')], a);
    const second = enqueue(first, [note('balance-reminder')], a);
    expect(second.map((e) => e.id)).toEqual(['run-a#0', 'run-a#1', 'run-a#2']);
    expect(claimedBy(second, 'run-a')).toHaveLength(3);
  });

  it('never lets a second run claim what another run holds, until the claim lapses', () => {
    const held = enqueue([], [note('balance-alert')], a);
    expect(claimedBy(claimUnsent(held, b), 'run-b')).toEqual([]);
    const lapsed = claimUnsent(held, { by: 'run-b', now: new Date(NOW.getTime() + CLAIM_MS + 1) });
    expect(claimedBy(lapsed, 'run-b').map((e) => e.notification.kind)).toEqual(['balance-alert']);
  });

  it('treats a claim with an unreadable time as lapsed, so no entry is stuck for ever', () => {
    const [entry] = enqueue([], [note('balance-alert')], a);
    const broken = [{ ...entry, claim: { by: 'run-a', until: 'soon' } }] as never;
    expect(claimedBy(claimUnsent(broken, b), 'run-b')).toHaveLength(1);
  });

  it('removes only what the run published and still holds, and releases what it could not publish', () => {
    const outbox = enqueue([], [note('balance-alert'), note('spike-started')], a);
    const [sent, unsent] = outbox.map((e) => e.id) as [string, string];
    // Another run's removal of entries it does not hold does nothing.
    expect(removeSent(outbox, new Set([sent]), 'run-b')).toEqual(outbox);
    const after = release(removeSent(outbox, new Set([sent]), 'run-a'), new Set([unsent]), 'run-a');
    expect(after.map((e) => e.id)).toEqual([unsent]);
    expect(after[0]?.claim).toBeUndefined();
    expect(claimedBy(claimUnsent(after, b), 'run-b')).toHaveLength(1);
  });
});
