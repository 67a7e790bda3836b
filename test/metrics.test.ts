import { describe, expect, it } from 'vitest';
import { declaredMetricCount, emfDocument, METRIC_NAMESPACE } from '../lambda/run/metrics.ts';

describe('emfDocument', () => {
  it('publishes balance, spend, runway and outcome per deployment and account', () => {
    // Act
    const doc = emfDocument(
      {
        account: 'prod',
        checkSucceeded: 1,
        balanceCents: 600,
        forecast: {
          source: 'usage',
          dailySpendCents: 310,
          windowDays: 7,
          runwayDays: 1.94,
          topSpenders: [],
        },
      },
      'NgrokBalanceAlertClients',
      1_700_000_000_000,
    );
    // Assess
    expect(doc).toMatchObject({
      Deployment: 'NgrokBalanceAlertClients',
      Account: 'prod',
      CheckSucceeded: 1,
      BalanceDollars: 6,
      DailySpendDollars: 3.1,
      RunwayDays: 1.94,
    });
    const directives = (doc._aws as { CloudWatchMetrics: Array<Record<string, unknown>> })
      .CloudWatchMetrics;
    expect(directives).toEqual([
      {
        Namespace: METRIC_NAMESPACE,
        Dimensions: [['Deployment', 'Account']],
        Metrics: [
          { Name: 'CheckSucceeded', Unit: 'Count' },
          { Name: 'BalanceDollars', Unit: 'None' },
          { Name: 'DailySpendDollars', Unit: 'None' },
          { Name: 'RunwayDays', Unit: 'None' },
        ],
      },
    ]);
  });

  it('leaves out what a failed check could not measure', () => {
    const doc = emfDocument({ account: 'prod', checkSucceeded: 0 }, 'D', 0);
    expect(doc.CheckSucceeded).toBe(0);
    expect(doc).not.toHaveProperty('BalanceDollars');
    expect(doc).not.toHaveProperty('RunwayDays');
  });

  it('leaves out the runway when nothing is being spent', () => {
    const doc = emfDocument(
      {
        account: 'prod',
        checkSucceeded: 1,
        balanceCents: 600,
        forecast: {
          source: 'usage',
          dailySpendCents: 0,
          windowDays: 7,
          runwayDays: null,
          topSpenders: [],
        },
      },
      'D',
      0,
    );
    expect(doc.DailySpendDollars).toBe(0);
    expect(doc).not.toHaveProperty('RunwayDays');
  });
});

describe('declaredMetricCount', () => {
  it('declares nothing by default and four metrics per account when opted in', () => {
    expect(declaredMetricCount('none', 100)).toBe(0);
    expect(declaredMetricCount('per-account', 1)).toBe(4);
    expect(declaredMetricCount('per-account', 10)).toBe(40);
  });
});
