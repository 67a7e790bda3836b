/**
 * Auto top-up's one effect within a run: drive the pure decisions (decide.ts) through a few
 * calls to ngrok, committing every decision to the account's record with a conditional
 * write before acting on it. Each write re-decides from the record as it is in the store
 * (`update` re-reads on a lost race), so a racing run never overwrites another's intent and
 * never creates a second one; the intent is durable before its POST; the notifications a
 * decision makes go into the outbox in the same write, so each is announced exactly once.
 */
import type { Notification } from '../../common/types.ts';
import type { NgrokClientOptions } from '../../ngrok/ngrok-client.ts';
import {
  createCreditPurchase,
  fetchCreditGrants,
  getCreditPurchase,
  ledgerFacts,
} from '../../ngrok/ngrok-credits.ts';
import type { AccountRecord } from '../../store/account-record.ts';
import { enqueue } from '../../store/outbox.ts';
import { type RecordStore, update, type Versioned } from '../../store/store.ts';
import {
  decideTopUp,
  type LedgerFacts,
  type TopUpDecision,
  type TopUpNotification,
  type TopUpReport,
  type TopUpSettings,
} from './decide.ts';

/** Decisions (and so calls) per run: the ledger, a POST, a few status reads. */
export const MAX_TOP_UP_STEPS = 6;

export interface TopUpRunInput {
  readonly account: string;
  readonly settings: TopUpSettings;
  /** This run's successful balance reading (a failed check never reaches auto top-up). */
  readonly balanceCents: number;
  readonly apiKey: string;
  readonly now: Date;
  /** Epoch ms on the HTTP client's clock when the calls give up. */
  readonly deadline: number;
  readonly ngrok?: NgrokClientOptions;
  /** Unique per run: names the intents it writes and claims the notifications it enqueues. */
  readonly runId: string;
  /** How a top-up event becomes a notification of the account. */
  readonly toNotification: (t: TopUpNotification) => Notification;
  /** A person asked for one purchase now (see TopUpInput.requested). */
  readonly requested?: boolean;
}

export interface TopUpRunDeps {
  readonly store: RecordStore<AccountRecord>;
  /** The account's record key (`accountKey(name)`). */
  readonly key: string;
  /** The record as the run read it (the first write checks it is still current). */
  readonly start: Versioned<AccountRecord>;
}

export interface TopUpRunResult {
  /** The record after the last write (its outbox holds this run's claimed notifications). */
  readonly record: Versioned<AccountRecord>;
  /** What auto top-up is doing, for this run's balance alerts. */
  readonly status: string;
}

/**
 * Runs the decisions' step loop: decide and commit, then make the one call decided, then
 * decide again with its answer. Throws when the store cannot be read or written (the next
 * run carries on from what was stored: an intent written is followed, its key resent).
 */
export async function runTopUp(input: TopUpRunInput, deps: TopUpRunDeps): Promise<TopUpRunResult> {
  const { apiKey, ngrok } = input;
  const budget = { deadline: input.deadline };
  let ledger: LedgerFacts = { readable: false };
  let ledgerRead = false;
  let record = deps.start;
  let report: TopUpReport | undefined;
  let status = '';
  for (let step = 0; step < MAX_TOP_UP_STEPS; step++) {
    const decision = await commit(input, deps, record, { ledger, ledgerRead, report });
    record = decision.record;
    status = decision.status;
    report = undefined;
    const { action } = decision;
    if (action.kind === 'none') break;
    if (action.kind === 'ledger') {
      const grants = await fetchCreditGrants(apiKey, budget, ngrok).catch(() => undefined);
      ledger = ledgerFacts(grants, input.now);
      ledgerRead = true;
    } else if (action.kind === 'send') {
      const result = await createCreditPurchase(
        apiKey,
        { amountCents: action.amountCents, idempotencyKey: action.key },
        budget,
        ngrok,
      );
      report = {
        kind: 'sent',
        key: action.key,
        amountCents: action.amountCents,
        result,
      };
    } else {
      const result = await getCreditPurchase(apiKey, action.purchaseId, budget, ngrok);
      report = { kind: 'read', purchaseId: action.purchaseId, result };
    }
  }
  if (report) {
    // Out of steps with an answer in hand: record it, act no further.
    const last = await commit(input, deps, record, { ledger, ledgerRead, report });
    record = last.record;
    status = last.status;
  }
  return { record, status };
}

/**
 * One decision applied to the latest record with a conditional write (re-decided on every
 * lost race). Returns the decision that was stored, with the record after it.
 */
async function commit(
  input: TopUpRunInput,
  deps: TopUpRunDeps,
  start: Versioned<AccountRecord>,
  facts: { ledger: LedgerFacts; ledgerRead: boolean; report: TopUpReport | undefined },
): Promise<TopUpDecision & { record: Versioned<AccountRecord> }> {
  let decision: TopUpDecision | undefined;
  const record = await update(
    deps.store,
    deps.key,
    (current) => {
      decision = decideTopUp({
        account: input.account,
        settings: input.settings,
        balanceCents: input.balanceCents,
        ledger: facts.ledger,
        ledgerRead: facts.ledgerRead,
        state: current.value?.topUp,
        report: facts.report,
        runId: input.runId,
        now: input.now,
        ...(input.requested && { requested: true }),
      });
      const before = current.value;
      // A purchase is sent only from the record as it is now: the write that decides a send
      // is made even when nothing changed, so a run holding an older copy (one where a
      // refused intent still looks unanswered) loses it and decides again.
      const unchanged =
        decision.action.kind !== 'send' &&
        decision.notifications.length === 0 &&
        JSON.stringify(before?.topUp) === JSON.stringify(decision.state);
      if (unchanged) return undefined;
      const outbox = enqueue(
        before?.outbox ?? [],
        decision.notifications.map(input.toNotification),
        { by: input.runId, now: input.now },
      );
      return { ...before, outbox, topUp: decision.state };
    },
    start,
  );
  if (!decision) throw new Error('auto top-up: no decision was made');
  return { ...decision, record };
}
