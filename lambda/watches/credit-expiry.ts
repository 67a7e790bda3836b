/**
 * The credit-expiry watch: once a UTC day its effect reads the credit grants with a short
 * budget; the decision warns about credit that expires soon (expiry.ts). A failed read is
 * logged and waits for the next day; it never fails the account's run.
 */
import { errorFields } from '../common/log.ts';
import { fetchCreditGrants } from '../ngrok/ngrok-credits.ts';
import { type CreditGrant, expiryWarnings, recordRead, transactionsReadDue } from './expiry.ts';
import { watch } from './watch.ts';

/** The grants only feed these warnings: a short budget, so a slow read barely delays an alert. */
export const TRANSACTIONS_BUDGET_MS = 4_000;

/** The grants read this run, or `undefined` when the read failed. */
export interface ExpiryEffect {
  readonly grants: readonly CreditGrant[] | undefined;
}

export const creditExpiryWatch = watch<ExpiryEffect | undefined>({
  name: 'credit-expiry',
  async effect(input, previous, context) {
    const { observation } = input.observed;
    if (
      !observation.ok ||
      input.apiKey === undefined ||
      !transactionsReadDue(previous?.expiry, input.config.expiryWarningDays, input.now)
    ) {
      return undefined;
    }
    try {
      const grants = await fetchCreditGrants(
        input.apiKey,
        { deadline: Math.min(context.clock() + TRANSACTIONS_BUDGET_MS, context.runDeadline) },
        { ...context.ngrok, maxAttempts: 2 },
      );
      return { grants };
    } catch (error) {
      context.log.log('WARN', 'credit grants unavailable, expiry warnings wait for tomorrow', {
        account: input.account.name,
        ...errorFields(error),
      });
      return { grants: undefined };
    }
  },
  decide(input, step, effect) {
    const { observation } = input.observed;
    if (effect === undefined || !observation.ok) return step;
    if (effect.grants === undefined) {
      return {
        ...step,
        state: { ...step.state, expiry: recordRead(step.state.expiry, input.now) },
      };
    }
    const { warnings, state } = expiryWarnings({
      account: input.account.name,
      balanceCents: observation.balanceCents,
      grants: effect.grants,
      warningDays: input.config.expiryWarningDays,
      state: step.state.expiry,
      now: input.now,
    });
    return {
      ...step,
      state: { ...step.state, expiry: recordRead(state, input.now) },
      notifications: [
        ...step.notifications,
        ...warnings.map(({ kind, account, at, ...expiry }) => ({
          kind,
          account,
          level: 'ok' as const,
          reason: 'balance' as const,
          balanceCents: observation.balanceCents,
          thresholds: input.thresholds,
          thresholdParameterName: input.account.thresholdParameterName,
          configProblems: [],
          expiry,
          at,
        })),
      ],
    };
  },
});
