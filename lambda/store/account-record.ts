/**
 * What the store keeps per account, in one versioned item so that one conditional write
 * commits a state change together with the notifications it decided: the alert state
 * (every watch's slice), auto top-up's purchase intents, and the unsent notifications.
 */
import type { TopUpState } from '../watches/top-up/decide.ts';
import type { OutboxEntry } from './outbox.ts';
import { type AlertState, isTopUpState, readState } from './state.ts';
import type { RecordStore } from './store.ts';

export interface AccountRecord {
  /** The watches' state; absent before the first run (or after the record was lost). */
  readonly alert?: Omit<AlertState, 'topUp'>;
  /** Auto top-up's part: purchase intents and what ngrok said about them. */
  readonly topUp?: TopUpState;
  /** Notifications decided and not yet published. */
  readonly outbox: readonly OutboxEntry[];
}

/** The store key of an account's record. */
export function accountKey(account: string): string {
  return `account#${account}`;
}

/**
 * Reads a stored record. The alert state and the top-up state are checked part by part
 * (state.ts): a part that fails is dropped and treated as lost, which only ever makes the
 * monitor more careful (it alerts again, holds purchases back). Unsent notifications that
 * do not have the shape of one are dropped and named in `problems`.
 */
export function readAccountRecord(
  value: unknown,
  now?: Date,
): { record: AccountRecord; problems: string[] } {
  const problems: string[] = [];
  if (value === undefined) return { record: { outbox: [] }, problems };
  if (typeof value !== 'object' || value === null) {
    return { record: { outbox: [] }, problems: ['the saved record is not an object'] };
  }
  const raw = value as Record<string, unknown>;
  const alert = raw.alert === undefined ? { state: undefined } : readState(raw.alert, now);
  if ('problem' in alert && alert.problem) problems.push(alert.problem);
  if ('problems' in alert && alert.problems) problems.push(...alert.problems);
  const topUp = raw.topUp === undefined || isTopUpState(raw.topUp) ? raw.topUp : undefined;
  if (raw.topUp !== undefined && topUp === undefined) {
    problems.push('the saved auto top-up state does not have the expected fields');
  }
  const entries = Array.isArray(raw.outbox) ? raw.outbox : [];
  const outbox = entries.filter(isOutboxEntry);
  if (
    outbox.length !== entries.length ||
    (raw.outbox !== undefined && !Array.isArray(raw.outbox))
  ) {
    problems.push('some unsent notifications in the saved record were unreadable and dropped');
  }
  const { topUp: _inAlert, ...alertState } = alert.state ?? {};
  return {
    record: {
      ...(alert.state && { alert: alertState as AccountRecord['alert'] }),
      ...(topUp !== undefined && { topUp: topUp as TopUpState }),
      outbox,
    },
    problems,
  };
}

function isOutboxEntry(value: unknown): value is OutboxEntry {
  const e = value as Partial<OutboxEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    typeof e.notification === 'object' &&
    e.notification !== null &&
    typeof e.notification.kind === 'string' &&
    typeof e.notification.account === 'string' &&
    (e.claim === undefined ||
      (typeof e.claim === 'object' &&
        e.claim !== null &&
        typeof e.claim.by === 'string' &&
        typeof e.claim.until === 'string'))
  );
}

/**
 * The store seen as account records: every read validated (readAccountRecord), so a writer
 * that re-applies its change on a lost race starts from a checked record.
 */
export function accountStore(store: RecordStore<unknown>, now?: Date): RecordStore<AccountRecord> {
  return {
    async read(key) {
      const { version, value } = await store.read(key);
      return {
        version,
        value: value === undefined ? undefined : readAccountRecord(value, now).record,
      };
    },
    write: (key, version, value) => store.write(key, version, value),
  };
}
