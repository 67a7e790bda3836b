/**
 * What the store keeps per account, in one versioned item so that one conditional write
 * commits a state change together with the notifications it decided: the alert state
 * (every watch's slice), auto top-up's purchase intents, and the unsent notifications.
 */
import type { TopUpState } from '../watches/top-up/decide.ts';
import type { OutboxEntry } from './outbox.ts';
import type { AlertState } from './state.ts';

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
