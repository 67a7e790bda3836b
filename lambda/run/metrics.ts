/**
 * Opt-in per-account CloudWatch metrics (`metrics: per-account`), in the embedded metric
 * format: metrics ride on structured log lines, so a run makes no PutMetricData calls and
 * needs no extra IAM permission. Each metric costs $0.30 a month, so by default none is
 * declared; the "account checked" log line carries the same values for Logs Insights.
 */
import type { Forecast, MonitorConfig } from '../common/types.ts';

export const METRIC_NAMESPACE = 'NgrokBalanceAlert';

/** The message of the one log line each account's check writes (the dashboard queries it). */
export const ACCOUNT_CHECKED_MESSAGE = 'account checked';

export type MetricsMode = MonitorConfig['metrics'];

/** The metrics one account declares with `metrics: per-account`. */
export const PER_ACCOUNT_METRICS = [
  'CheckSucceeded',
  'BalanceDollars',
  'DailySpendDollars',
  'RunwayDays',
] as const;
type MetricName = (typeof PER_ACCOUNT_METRICS)[number];

/** Custom metrics a deployment declares: what `metrics` costs, for the README and tests. */
export function declaredMetricCount(mode: MetricsMode, accounts: number): number {
  return mode === 'per-account' ? PER_ACCOUNT_METRICS.length * accounts : 0;
}

export interface AccountMetrics {
  readonly account: string;
  /** 1 after a complete check (balance read, notifications sent, state saved), else 0. */
  readonly checkSucceeded: 0 | 1;
  readonly balanceCents?: number;
  readonly forecast?: Forecast;
}

/** The values of one account's run, in dollars and days. Values that are unknown are left out. */
export function accountValues(m: AccountMetrics): Partial<Record<MetricName, number>> {
  const values: Partial<Record<MetricName, number>> = { CheckSucceeded: m.checkSucceeded };
  if (m.balanceCents !== undefined) values.BalanceDollars = m.balanceCents / 100;
  if (m.forecast) {
    values.DailySpendDollars = m.forecast.dailySpendCents / 100;
    if (m.forecast.runwayDays !== null) values.RunwayDays = m.forecast.runwayDays;
  }
  return values;
}

/**
 * One EMF document for one account's run. The `Deployment` dimension (the stack name) keeps
 * two deployments that both watch an account called "main" from sharing a metric.
 */
export function emfDocument(
  m: AccountMetrics,
  deployment: string,
  timestamp: number,
): Record<string, unknown> {
  const values = accountValues(m);
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['Deployment', 'Account']],
          Metrics: Object.keys(values).map((Name) => ({
            Name,
            Unit: Name === 'CheckSucceeded' ? 'Count' : 'None',
          })),
        },
      ],
    },
    Deployment: deployment,
    Account: m.account,
    ...values,
  };
}
