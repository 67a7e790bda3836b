/**
 * The monthly CloudWatch cost of a synthesized stack at us-east-1 list prices: the part
 * of the bill that grows with what the stack declares (Lambda, SNS, SQS and SSM stay within
 * their free tiers or at cents for a monitor), and the state table's requests. Used by the
 * cost test and `npm run bench`.
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

/** DynamoDB on-demand list prices (us-east-1, after the November 2024 cut), USD. */
export const TABLE_PRICES = {
  /** Per write request unit: one write of an item up to 1 KB. */
  writeUnit: 0.625 / 1_000_000,
  /** Per read request unit: one strongly consistent read of an item up to 4 KB. */
  readUnit: 0.125 / 1_000_000,
} as const;

/** Runs a month at a schedule period, over 30 days. */
export function runsPerMonth(periodMinutes: number): number {
  return Math.round((30 * 24 * 60) / periodMinutes);
}

export interface TableCost {
  readonly reads: number;
  readonly writes: number;
  readonly readsUsd: number;
  readonly writesUsd: number;
  readonly usd: number;
}

/**
 * The state table's monthly request cost for a quiet month: per account and run, one
 * strongly consistent read (an item of at most 4 KB: one read unit) and at most one write
 * (an item of at most 1 KB: one write unit). Storage of KB-sized items is free (25 GB), and
 * point-in-time recovery is billed per GB of table: nothing worth counting either.
 * `extraWritesPerAccount` adds the writes of alerting (one per notification, to mark it sent).
 */
export function tableCost(
  accounts: number,
  periodMinutes: number,
  { extraWritesPerAccount = 0 }: { extraWritesPerAccount?: number } = {},
): TableCost {
  const runs = runsPerMonth(periodMinutes);
  const reads = runs * accounts;
  const writes = runs * accounts + extraWritesPerAccount * accounts;
  const readsUsd = reads * TABLE_PRICES.readUnit;
  const writesUsd = writes * TABLE_PRICES.writeUnit;
  return { reads, writes, readsUsd, writesUsd, usd: readsUsd + writesUsd };
}

/** "$0.30" */
export function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}

/** "$0.0018": four decimals, for the fractions of a cent the table costs. */
export function usd4(amount: number): string {
  return `$${amount.toFixed(4)}`;
}
