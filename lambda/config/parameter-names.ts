/**
 * Where each account's settings live in Parameter Store. Shared by the stack that creates
 * the parameters, the function that reads them and the local check that prints commands.
 */

/** Root of every parameter the stack creates. */
export const PARAMETER_PREFIX = '/ngrok-balance-alert';

/**
 * Parameter names of one account: the thresholds the stack creates. (Up to 0.2 the alert
 * state was kept in `<prefix>/<account>/state`; it now lives in the DynamoDB state table.)
 */
export function accountParameterNames(accountName: string) {
  const base = `${PARAMETER_PREFIX}/${accountName}`;
  return {
    threshold: `${base}/threshold-cents`,
    criticalThreshold: `${base}/critical-threshold-cents`,
  };
}
