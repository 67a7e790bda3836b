import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricsMode } from '../lambda/run/metrics.ts';
import { type MonthlyCost, monthlyCost, usd } from './support/cost.ts';
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

function costOf(variant: string, accounts: number): MonthlyCost {
  const { metrics, dashboard } = VARIANTS[variant] ?? {};
  const synth = synthesize({
    emails: 'a@example.com',
    accounts: accountsContext(accounts),
    metrics,
    dashboard: String(dashboard),
  });
  return monthlyCost(synth.json, { mode: synth.config.props.metrics ?? 'none', accounts });
}

describe('monthly CloudWatch cost', () => {
  const costs = new Map<string, MonthlyCost>();
  beforeAll(() => {
    for (const variant of Object.keys(VARIANTS)) {
      for (const n of ACCOUNT_COUNTS) costs.set(`${variant}/${n}`, costOf(variant, n));
    }
  }, 600_000);

  it('is at most $0.40 by default, for 1, 10 or 100 accounts', () => {
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
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = new Map(
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
    for (const variant of Object.keys(VARIANTS)) {
      const expected = ACCOUNT_COUNTS.map((n) => usd(costs.get(`${variant}/${n}`)?.usd ?? NaN));
      expect(rows.get(variant), `README cost row "${variant}"`).toEqual(expected);
    }
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
