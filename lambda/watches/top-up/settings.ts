/**
 * One account's auto top-up settings as the decisions use them, from the account's shipped
 * configuration. The rules (ranges, the cap, ngrok's $5 minimum) are the contract's and
 * were checked at synth; this only fills the default that depends on the run.
 */
import type { FunctionAccountSettings } from '../../config/contract.ts';
import type { TopUpSettings } from './decide.ts';

/**
 * The account's auto top-up settings, or undefined when auto top-up is off.
 * @param account the account's configuration as the function received it.
 * @param thresholdCents the warning threshold in force this run: `autoTopUpBelowCents` when unset.
 */
export function topUpSettingsFor(
  account: Pick<
    FunctionAccountSettings,
    'autoTopUpCents' | 'autoTopUpMonthlyCapCents' | 'autoTopUpBelowCents' | 'autoTopUpDryRun'
  >,
  thresholdCents: number,
): TopUpSettings | undefined {
  const { autoTopUpCents, autoTopUpMonthlyCapCents } = account;
  if (autoTopUpCents === undefined || autoTopUpMonthlyCapCents === undefined) return undefined;
  return {
    amountCents: autoTopUpCents,
    monthlyCapCents: autoTopUpMonthlyCapCents,
    belowCents: account.autoTopUpBelowCents ?? thresholdCents,
    dryRun: account.autoTopUpDryRun ?? false,
  };
}
