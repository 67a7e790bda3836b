/**
 * CloudWatch embedded metric format (EMF): metrics ride on structured log lines, so a run
 * makes no PutMetricData calls and needs no extra IAM permission.
 */
import type { Forecast } from './types.ts';

export const METRIC_NAMESPACE = 'NgrokBalanceAlert';
/** One dimension value for the whole deployment, so a single alarm can watch every account. */
export const SERVICE_DIMENSION_VALUE = 'ngrok-balance-alert';

export interface AccountMetrics {
  readonly account: string;
  /** 1 after a complete check (balance read, notifications sent, state saved), else 0. */
  readonly checkSucceeded: 0 | 1;
  readonly balanceCents?: number;
  readonly forecast?: Forecast;
}

/** One EMF document for one account's run. Metrics without a value are left out. */
export function emfDocument(m: AccountMetrics, timestamp: number): Record<string, unknown> {
  const values: Record<string, number> = { CheckSucceeded: m.checkSucceeded };
  const units: Record<string, string> = { CheckSucceeded: 'Count' };
  if (m.balanceCents !== undefined) {
    values.BalanceDollars = m.balanceCents / 100;
    units.BalanceDollars = 'None';
  }
  if (m.forecast) {
    values.DailySpendDollars = m.forecast.dailySpendCents / 100;
    units.DailySpendDollars = 'None';
    if (m.forecast.runwayDays !== null) {
      values.RunwayDays = m.forecast.runwayDays;
      units.RunwayDays = 'None';
    }
  }
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['Account']],
          Metrics: Object.keys(values).map((Name) => ({ Name, Unit: units[Name] })),
        },
        // Only the check outcome is also kept for the whole deployment, for the single
        // "no successful check" alarm: every metric costs money each month.
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['Service']],
          Metrics: [{ Name: 'CheckSucceeded', Unit: 'Count' }],
        },
      ],
    },
    Account: m.account,
    Service: SERVICE_DIMENSION_VALUE,
    ...values,
  };
}
