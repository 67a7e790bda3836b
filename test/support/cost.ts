/**
 * The monthly CloudWatch cost of a synthesized stack at us-east-1 list prices: the part
 * of the bill that grows with what the stack declares (Lambda, SNS, SQS and SSM stay within
 * their free tiers or at cents for a monitor). Used by the cost test and `npm run bench`.
 */
import { declaredMetricCount, type MetricsMode } from '../../lambda/run/metrics.ts';
import type { TemplateJson } from './synth.ts';

/** USD per month, us-east-1 list prices. */
export const PRICES = {
  /** A standard-resolution alarm, per metric it reads (a metric-math alarm pays per metric). */
  alarmMetric: 0.1,
  /** A custom metric (first 10,000 tier). */
  customMetric: 0.3,
  /** A dashboard beyond the AWS account's first three. */
  dashboard: 3,
} as const;

export interface MonthlyCost {
  readonly alarmMetrics: number;
  readonly customMetrics: number;
  readonly dashboards: number;
  readonly usd: number;
}

interface AlarmProps {
  readonly Namespace?: string;
  readonly MetricName?: string;
  readonly Dimensions?: unknown;
  readonly Metrics?: ReadonlyArray<{
    readonly MetricStat?: {
      readonly Metric: { Namespace: string; MetricName: string; Dimensions?: unknown };
    };
  }>;
}

/**
 * `metrics` is what the function was configured to declare on its log lines (embedded
 * metric format), which the template cannot show.
 */
export function monthlyCost(
  json: TemplateJson,
  declared: { mode: MetricsMode; accounts: number },
): MonthlyCost {
  let alarmMetrics = 0;
  const customRead = new Set<string>();
  for (const resource of Object.values(json.Resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const props = (resource.Properties ?? {}) as AlarmProps;
    const metrics = props.Metrics
      ? props.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []))
      : [
          {
            Namespace: props.Namespace ?? '',
            MetricName: props.MetricName ?? '',
            Dimensions: props.Dimensions,
          },
        ];
    alarmMetrics += metrics.length;
    for (const metric of metrics) {
      if (!metric.Namespace.startsWith('AWS/')) customRead.add(JSON.stringify(metric));
    }
  }
  const dashboards = Object.values(json.Resources).filter(
    (r) => r.Type === 'AWS::CloudWatch::Dashboard',
  ).length;
  const customMetrics = customRead.size + declaredMetricCount(declared.mode, declared.accounts);
  const usd =
    alarmMetrics * PRICES.alarmMetric +
    customMetrics * PRICES.customMetric +
    dashboards * PRICES.dashboard;
  return { alarmMetrics, customMetrics, dashboards, usd: Math.round(usd * 100) / 100 };
}

/** "$0.30" */
export function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}
