/**
 * What the artifact tests of auto top-up share: the deployment's parameters and API key, the
 * account's record key, the record of a monitor that has run for a day, a scheduled event,
 * and the notifications the fake SNS received, as the version 2 JSON subscribers get.
 */
import type { AccountRecord } from '../../lambda/store/account-record.ts';
import { freshTopUpState } from '../../lambda/watches/top-up/decide.ts';
import { FAKE_AWS, type FakeSns } from './stand-ins/index.ts';

export const PARAMS = {
  apiKey: '/ngrok-balance-alert/api-key',
  threshold: '/ngrok-balance-alert/main/threshold-cents',
  state: '/ngrok-balance-alert/main/state',
} as const;
export const API_KEY = 'ngrok-top-up-key-NEVER-LOG-4321';

/** The account's record in the state table. */
export const STATE_KEY = 'account#main';

/**
 * The state a monitor that has run for a day keeps: its purchase records exist, so no hold.
 * (A deployment without them holds its first purchase for a day.)
 */
export const ESTABLISHED: AccountRecord = {
  alert: { level: 'ok', reason: 'balance', since: '2026-01-01T00:00:00.000Z', failures: 0 },
  topUp: freshTopUpState('artifact'),
  outbox: [],
};

/** An EventBridge scheduled event; `at` is its time (now by default). */
export function scheduledEvent(id: string, at: Date = new Date()) {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: FAKE_AWS.accountId,
    time: at.toISOString(),
    region: FAKE_AWS.region,
    resources: [`arn:aws:events:${FAKE_AWS.region}:${FAKE_AWS.accountId}:rule/top-up`],
    detail: {},
  };
}

/** One notification as subscribers of the version 2 JSON get it (the fields tests read). */
export interface Notified {
  readonly kind: string;
  readonly severity: string;
  readonly event: string;
  readonly subject: string;
  readonly text: string;
  readonly autoTopUp?: { readonly status?: string; readonly purchaseId?: string };
}

/** The notifications SNS accepted so far, in order. */
export function notified(sns: FakeSns): Notified[] {
  return sns.publishes.map((p) => {
    const outer = JSON.parse(p.message ?? '{}') as Record<string, string>;
    return JSON.parse(outer.lambda ?? '{}') as Notified;
  });
}
