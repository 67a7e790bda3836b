import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../lambda/config/contract.ts';
import type { MetricsMode } from '../lambda/run/metrics.ts';
import {
  type MonthlyCost,
  monthlyCost,
  runsPerMonth,
  TABLE_PRICES,
  tableCost,
  usd,
  usd4,
} from './support/cost.ts';
import { logicalIds, type Synthesized, synthesize } from './support/synth.ts';

const ACCOUNT_COUNTS = [1, 10, 100] as const;

/** The README's cost table rows, by their first cell. */
const VARIANTS: Record<string, { metrics: MetricsMode; dashboard: boolean }> = {
  default: { metrics: 'none', dashboard: false },
  '`metrics=per-account`': { metrics: 'per-account', dashboard: false },
  '`dashboard=true`': { metrics: 'none', dashboard: true },
  both: { metrics: 'per-account', dashboard: true },
};

function accountsContext(count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({
      name: `a${i}`,
      tokenParameterName: `/k/a${i}`,
      thresholdCents: 1000,
    })),
  );
}

/** Synthesizes each variant once per file: a synth bundles the functions and takes seconds. */
const synthesized = new Map<string, MonthlyCost>();

function costOf(variant: string, accounts: number): MonthlyCost {
  const key = `${variant}/${accounts}`;
  const known = synthesized.get(key);
  if (known) return known;
  const { metrics, dashboard } = VARIANTS[variant] ?? {};
  const synth = synthesize({
    emails: 'a@example.com',
    accounts: accountsContext(accounts),
    metrics,
    dashboard: String(dashboard),
  });
  const cost = monthlyCost(synth.json, { mode: synth.config.props.metrics ?? 'none', accounts });
  synthesized.set(key, cost);
  return cost;
}

describe('monthly CloudWatch cost', () => {
  const costs = new Map<string, MonthlyCost>();
  beforeAll(() => {
    for (const variant of Object.keys(VARIANTS)) {
      for (const n of ACCOUNT_COUNTS) costs.set(`${variant}/${n}`, costOf(variant, n));
    }
  }, 600_000);

  it('is at most $0.40 in CloudWatch by default, for 1, 10 or 100 accounts', () => {
    for (const n of ACCOUNT_COUNTS) {
      const cost = costs.get(`default/${n}`);
      expect(cost, `${n} accounts`).toMatchObject({ customMetrics: 0, dashboards: 0 });
      expect(cost?.usd, `${n} accounts`).toBeLessThanOrEqual(0.4);
    }
  });

  it('charges per-account metrics and the dashboard only when opted in', () => {
    expect(costs.get('`metrics=per-account`/10')?.customMetrics).toBe(40);
    expect(costs.get('`dashboard=true`/1')?.dashboards).toBe(1);
    expect(costs.get('both/100')?.usd).toBeGreaterThan(costs.get('default/100')?.usd ?? 0);
  });

  it('matches the cost table in the README', () => {
    const rows = readmeRows();
    for (const variant of Object.keys(VARIANTS)) {
      const expected = ACCOUNT_COUNTS.map((n) => usd(costs.get(`${variant}/${n}`)?.usd ?? NaN));
      expect(rows.get(variant), `README cost row "${variant}"`).toEqual(expected);
    }
  });
});

/** The README's rows by first cell, each with its cells after the first. */
function readmeRows(): Map<string, string[]> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  return new Map(
    readme
      .split('\n')
      .filter((line) => line.startsWith('| '))
      .map((line) =>
        line
          .split('|')
          .map((cell) => cell.trim())
          .slice(1, -1),
      )
      .map((cells) => [cells[0] ?? '', cells.slice(1)] as const),
  );
}

describe('monthly state table cost (DynamoDB on demand)', () => {
  /** The default schedule, rate(15 minutes): 2,880 runs in a 30-day month. */
  const period = Number(/\d+/.exec(SETTINGS.schedule.default)?.[0]);
  /** Alerting: one notification a day per account, one more write each (marking it sent). */
  const ALERTS_PER_MONTH = 30;

  it('is billed per request: on demand, no provisioned capacity to pay for when idle', () => {
    const synth = synthesize({ emails: 'a@example.com' });
    const tables = Object.values(synth.json.Resources).filter(
      (r) => r.Type === 'AWS::DynamoDB::Table',
    );
    expect(tables).toHaveLength(1);
    expect(tables[0]?.Properties?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(tables[0]?.Properties?.ProvisionedThroughput).toBeUndefined();
  });

  it('prices one strongly consistent read and at most one write per account and run', () => {
    expect(period).toBe(15);
    expect(runsPerMonth(period)).toBe(2_880);
    const one = tableCost(1, period);
    expect(one.reads).toBe(2_880);
    expect(one.writes).toBe(2_880);
    expect(one.readsUsd).toBeCloseTo(2_880 * 0.125e-6, 10);
    expect(one.writesUsd).toBeCloseTo(2_880 * 0.625e-6, 10);
    expect(TABLE_PRICES.writeUnit / TABLE_PRICES.readUnit).toBeCloseTo(5, 10);
    // Linear in accounts: 100 accounts cost 100 times one.
    expect(tableCost(100, period).usd).toBeCloseTo(100 * one.usd, 10);
  });

  it('keeps the default deployment (one account) at or under $0.40 a month, table included', () => {
    const cloudWatch = costOf('default', 1).usd;
    expect(
      cloudWatch + tableCost(1, period, { extraWritesPerAccount: ALERTS_PER_MONTH }).usd,
    ).toBeLessThanOrEqual(0.4);
    expect(cloudWatch + tableCost(10, period).usd).toBeLessThanOrEqual(0.4);
  });

  it('matches the state table rows of the README', () => {
    const rows = readmeRows();
    const each = (f: (n: number) => string) => ACCOUNT_COUNTS.map(f);
    expect(rows.get('reads: one per account and run')).toEqual(
      each((n) => usd4(tableCost(n, period).readsUsd)),
    );
    expect(rows.get('writes: at most one per account and run')).toEqual(
      each((n) => usd4(tableCost(n, period).writesUsd)),
    );
    expect(rows.get('alerting: one more write per notification, one a day per account')).toEqual(
      each((n) => usd4(n * ALERTS_PER_MONTH * TABLE_PRICES.writeUnit)),
    );
    expect(rows.get('default deployment in all (CloudWatch and the table)')).toEqual(
      each((n) => usd(costOf('default', n).usd + tableCost(n, period).usd)),
    );
  });
});

describe('two deployments in one region', () => {
  let first: Synthesized;
  let second: Synthesized;
  beforeAll(() => {
    first = synthesize({ emails: 'a@example.com', stackName: 'NgrokBalanceAlert' });
    second = synthesize({ emails: 'a@example.com', stackName: 'NgrokBalanceAlertClients' });
  });

  /**
   * Each metric the dead-man alarm reads, with its dimension resolved the way CloudFormation
   * names a function that has no explicit name: after the stack, so unique in a region.
   */
  function deadManMetrics(s: Synthesized): string[] {
    const alarm = logicalIds(s.json, 'AWS::CloudWatch::Alarm')
      .map((id) => s.json.Resources[id]?.Properties ?? {})
      .find((p) => p.TreatMissingData === 'breaching');
    const metrics = (alarm?.Metrics ?? []) as Array<{
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] } };
    }>;
    return metrics.flatMap(({ MetricStat }) => {
      if (!MetricStat) return [];
      const { Namespace, MetricName, Dimensions } = MetricStat.Metric;
      return Dimensions.map((d) => {
        const { Name, Value } = d as { Name: string; Value: { Ref?: string } };
        const target = Value.Ref ? s.json.Resources[Value.Ref] : undefined;
        // Only a reference to this stack's own function, with a generated name, is unique.
        expect(target?.Type).toBe('AWS::Lambda::Function');
        expect(target?.Properties?.FunctionName).toBeUndefined();
        return `${Namespace}/${MetricName}/${Name}=${s.stack.stackName}-${Value.Ref}`;
      });
    });
  }

  it("watch different metrics, so one deployment's runs cannot hide the other's silence", () => {
    const a = deadManMetrics(first);
    const b = deadManMetrics(second);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
    for (const metric of a) expect(b).not.toContain(metric);
  });
});
