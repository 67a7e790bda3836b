/**
 * The inputs the purchase-decision tests start from: a record of epoch `e1`, $20.00 a
 * purchase, a $50.00 cap, buying below $10.00, a balance of $4.00 and an empty ledger.
 */
import {
  freshTopUpState,
  type Intent,
  idempotencyKey,
  type LedgerFacts,
  type PurchaseReport,
  type TopUpInput,
  type TopUpSettings,
  type TopUpState,
} from '../../lambda/watches/top-up/decide.ts';

export const NOW = new Date('2026-12-10T12:00:00.000Z');
export const SETTINGS: TopUpSettings = {
  amountCents: 2000,
  monthlyCapCents: 5000,
  belowCents: 1000,
  dryRun: false,
};
export const EMPTY: LedgerFacts = { readable: true, purchases: [] };
export const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);
export const STATE = freshTopUpState('e1');

export function input(fields: Partial<TopUpInput> = {}): TopUpInput {
  return {
    account: 'prod',
    settings: SETTINGS,
    balanceCents: 400,
    ledger: EMPTY,
    ledgerRead: true,
    state: STATE,
    runId: 'run-1',
    now: NOW,
    ...fields,
  };
}

export const intent = (fields: Partial<Intent> = {}): Intent => ({
  id: 'e1-1',
  key: idempotencyKey('e1', 1),
  amountCents: 2000,
  by: 'run-0',
  createdAt: NOW.toISOString(),
  balanceBeforeCents: 400,
  phase: 'open',
  told: {},
  ...fields,
});
export const withIntent = (fields: Partial<Intent> = {}): TopUpState => ({
  ...STATE,
  seq: 1,
  intents: [intent(fields)],
});
export const sent = (result: PurchaseReport) => ({
  kind: 'sent' as const,
  key: idempotencyKey('e1', 1),
  amountCents: 2000,
  result,
});
export const purchase = (
  status: 'pending' | 'actionRequired' | 'succeeded' | 'failed',
): PurchaseReport => ({
  kind: 'purchase',
  purchase: { id: 'cp_1', status, amountCents: 2000, createdAt: NOW.toISOString() },
});
export const grant = (amountCents: number, createdAt = '2026-12-05T00:00:00.000Z') => ({
  amountCents,
  createdAt,
  category: 'purchase' as const,
});
