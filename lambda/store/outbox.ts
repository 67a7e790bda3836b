/**
 * The outbox: notifications a run decided, committed in the same conditional write as the
 * state change that goes with them, then published, then removed. Pure functions over a
 * record's list; the run loop does the writes.
 *
 * - An entry is claimed by the run that publishes it (`claim.by`) until `claim.until`.
 *   A racing run leaves a claimed entry alone, so it is never published by two runs at once.
 * - A publish that fails releases the claim: the next run sends the entry.
 * - A run that dies after publishing and before removing leaves its claim to lapse: the next
 *   run after `until` publishes the entry again (at most one repeat per lapse).
 */
import type { Notification } from '../common/types.ts';

/**
 * How long a claim holds. A run lasts at most the function's 90 s timeout
 * (MONITOR_TIMEOUT_SECONDS); 16 minutes also covers two runs whose clocks differ by up to ten
 * minutes, so a live claim never looks lapsed to a racing run.
 */
export const CLAIM_MS = 16 * 60_000;

export interface OutboxEntry {
  /** Unique within the record: the run's id and a counter. */
  readonly id: string;
  readonly notification: Notification;
  readonly claim?: { readonly by: string; readonly until: string };
}

export interface Claim {
  /** The claiming run's id. */
  readonly by: string;
  readonly now: Date;
}

/** Appends notifications, already claimed by the run that decided them. */
export function enqueue(
  outbox: readonly OutboxEntry[],
  notifications: readonly Notification[],
  claim: Claim,
): OutboxEntry[] {
  const until = new Date(claim.now.getTime() + CLAIM_MS).toISOString();
  const taken = new Set(outbox.map((e) => e.id));
  const added: OutboxEntry[] = [];
  let n = 0;
  for (const notification of notifications) {
    let id: string;
    do id = `${claim.by}#${n++}`;
    while (taken.has(id));
    added.push({ id, notification, claim: { by: claim.by, until } });
  }
  return [...outbox, ...added];
}

/** Claims every entry nobody holds (never claimed, released, or whose claim lapsed). */
export function claimUnsent(outbox: readonly OutboxEntry[], claim: Claim): OutboxEntry[] {
  const until = new Date(claim.now.getTime() + CLAIM_MS).toISOString();
  return outbox.map((e) =>
    heldByOther(e, claim)
      ? e
      : e.claim?.by === claim.by
        ? e
        : { ...e, claim: { by: claim.by, until } },
  );
}

/** The entries this run holds, in the order they were decided. */
export function claimedBy(outbox: readonly OutboxEntry[], by: string): OutboxEntry[] {
  return outbox.filter((e) => e.claim?.by === by);
}

/** Removes the entries this run published (only while it still holds them). */
export function removeSent(
  outbox: readonly OutboxEntry[],
  sent: ReadonlySet<string>,
  by: string,
): OutboxEntry[] {
  return outbox.filter((e) => !(sent.has(e.id) && e.claim?.by === by));
}

/** Lets go of entries this run could not publish, so the next run sends them. */
export function release(
  outbox: readonly OutboxEntry[],
  ids: ReadonlySet<string>,
  by: string,
): OutboxEntry[] {
  return outbox.map((e) => {
    if (!ids.has(e.id) || e.claim?.by !== by) return e;
    const { claim: _released, ...rest } = e;
    return rest;
  });
}

function heldByOther(entry: OutboxEntry, claim: Claim): boolean {
  return (
    entry.claim !== undefined &&
    entry.claim.by !== claim.by &&
    Date.parse(entry.claim.until) > claim.now.getTime()
  );
}
