/**
 * One account's auto top-up within a scheduled run: read ngrok's ledger when a purchase
 * could be needed, then drive the pure decisions (decide.ts) through at most a few calls.
 * Thin on purpose: every choice is the decisions'; this only makes the calls they ask for.
 */
import type { NgrokClientOptions } from '../../ngrok/ngrok-client.ts';
import {
  createCreditPurchase,
  fetchCreditGrants,
  getCreditPurchase,
  ledgerFacts,
} from '../../ngrok/ngrok-credits.ts';
import {
  decideTopUp,
  type LedgerFacts,
  type TopUpNotification,
  type TopUpObservation,
  type TopUpSettings,
  type TopUpState,
} from './decide.ts';

/** Calls after the first decision: a buy, then following what it answered. */
export const MAX_TOP_UP_STEPS = 4;

export interface TopUpRunInput {
  readonly account: string;
  readonly settings: TopUpSettings;
  /** This run's successful balance reading (a failed check never reaches auto top-up). */
  readonly balanceCents: number;
  readonly apiKey: string;
  /** Saved state; undefined when none was saved (first run, lost or reset state). */
  readonly state: TopUpState | undefined;
  readonly now: Date;
  /** Epoch ms on the HTTP client's clock when the calls give up. */
  readonly deadline: number;
  readonly ngrok?: NgrokClientOptions;
}

export interface TopUpRunResult {
  readonly state: TopUpState;
  readonly notifications: readonly TopUpNotification[];
  /** What auto top-up is doing, for this run's balance alerts. */
  readonly status: string;
  /** Whether ngrok's ledger was read this run (it is read only when needed). */
  readonly ledgerRead: boolean;
}

/**
 * Runs the decisions' step loop against ngrok. The ledger is read only when the first
 * decision could buy: the balance is below `belowCents`, or a request whose outcome is
 * unknown is to be resent. A purchase being followed needs no ledger.
 */
export async function runTopUp(input: TopUpRunInput): Promise<TopUpRunResult> {
  const { apiKey, deadline, ngrok, state } = input;
  const budget = { deadline };
  const inFlight = state?.inFlight;
  const needsLedger =
    inFlight?.id === undefined &&
    (input.balanceCents < input.settings.belowCents || inFlight !== undefined);
  const ledger: LedgerFacts = needsLedger
    ? ledgerFacts(await fetchCreditGrants(apiKey, budget, ngrok).catch(() => undefined), input.now)
    : { readable: false };
  const base = {
    account: input.account,
    settings: input.settings,
    observation: { ok: true, balanceCents: input.balanceCents } as TopUpObservation,
    test: false,
    ledger,
    now: input.now,
  };
  let decision = decideTopUp({ ...base, state });
  const notifications = [...decision.notifications];
  for (let step = 0; step < MAX_TOP_UP_STEPS; step++) {
    const { action } = decision;
    if (action.kind === 'none') break;
    // The client retries 5xx and timeouts within the run with the same key.
    const report =
      action.kind === 'buy'
        ? await createCreditPurchase(
            apiKey,
            { amountCents: action.amountCents, idempotencyKey: action.idempotencyKey },
            budget,
            ngrok,
          )
        : await getCreditPurchase(apiKey, action.purchaseId, budget, ngrok);
    decision = decideTopUp({ ...base, state: decision.state, report });
    notifications.push(...decision.notifications);
  }
  return { state: decision.state, notifications, status: decision.status, ledgerRead: needsLedger };
}
