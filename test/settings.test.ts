import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../lambda/common/types.ts';
import {
  parameterNamesFor,
  parseCents,
  readParameters,
  resolveThresholds,
} from '../lambda/config/settings.ts';

const account: AccountConfig = {
  name: 'prod',
  tokenParameterName: '/keys/prod',
  thresholdParameterName: '/t/prod',
  criticalThresholdParameterName: '/c/prod',
  thresholdCents: 1000,
  criticalThresholdCents: 200,
};

describe('parseCents', () => {
  it.each([
    ['1000', 1000],
    [' 42\n', 42],
    ['0', 0],
  ])('reads %j as %d cents', (raw, cents) => {
    expect(parseCents(raw)).toBe(cents);
  });

  it.each(['', '-5', '10.50', '$10', '1e3', 'ten', '99999999999999999999'])('rejects %j', (raw) => {
    expect(parseCents(raw)).toBeUndefined();
  });
});

describe('resolveThresholds', () => {
  const values = (threshold?: string, critical?: string) =>
    new Map(
      [
        ['/t/prod', threshold],
        ['/c/prod', critical],
      ].filter((e): e is [string, string] => e[1] !== undefined),
    );

  it('uses the parameters when they hold amounts, and 10% of the threshold as the margin', () => {
    const { thresholds, problems } = resolveThresholds(account, {}, values('2500', '500'));
    expect(thresholds).toEqual({
      thresholdCents: 2500,
      criticalThresholdCents: 500,
      recoveryMarginCents: 250,
    });
    expect(problems).toEqual([]);
  });

  it('falls back to the deployed default and names the parameter and what fixes it', () => {
    const { thresholds, problems } = resolveThresholds(account, {}, values('$25', '500'));
    expect(thresholds.thresholdCents).toBe(1000);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('/t/prod');
    expect(problems[0]?.message).toContain('"$25"');
    // The command itself is a step of the notification, which knows the region.
    expect(problems[0]?.message).toContain('Fix: store a whole number of cents in it');
  });

  it('reports a deleted threshold parameter and keeps alerting on the default', () => {
    const { thresholds, problems } = resolveThresholds(account, {}, values(undefined, '500'));
    expect(thresholds.thresholdCents).toBe(1000);
    expect(problems[0]?.message).toMatch(/is missing/);
  });

  it('rejects a critical threshold that is not below the warning threshold at run time', () => {
    const { thresholds, problems } = resolveThresholds(account, {}, values('800', '900'));
    expect(thresholds.criticalThresholdCents).toBe(200);
    expect(problems[0]?.message).toMatch(/not below the warning threshold/);
  });

  it('drops the critical level when even the default is not below the runtime threshold', () => {
    const { thresholds } = resolveThresholds(account, {}, values('150', '900'));
    expect(thresholds.criticalThresholdCents).toBeUndefined();
  });

  it('uses a fixed recovery margin when one is deployed', () => {
    const { thresholds } = resolveThresholds(
      account,
      { recoveryMarginCents: 5 },
      values('2500', '500'),
    );
    expect(thresholds.recoveryMarginCents).toBe(5);
  });
});

describe('readParameters', () => {
  const ssm = mockClient(SSMClient);
  beforeEach(() => ssm.reset());

  it('reports names SSM does not know as missing instead of failing', async () => {
    ssm.on(GetParametersCommand).resolves({
      Parameters: [{ Name: '/t/prod', Value: '1000' }],
      InvalidParameters: ['/keys/prod'],
    });
    const result = await readParameters(new SSMClient({ region: 'us-east-1' }), [
      '/keys/prod',
      '/t/prod',
    ]);
    expect(result.values.get('/t/prod')).toBe('1000');
    expect([...result.missing]).toEqual(['/keys/prod']);
  });

  it('reads a failed batch name by name, so one undecryptable key affects only its account', async () => {
    // Prepare: SSM fails any call that includes the key it cannot decrypt.
    ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => {
      if (input.Names.includes('/keys/cmk')) {
        throw Object.assign(new Error('KMS access denied'), { name: 'AccessDeniedException' });
      }
      return { Parameters: input.Names.map((Name) => ({ Name, Value: `value of ${Name}` })) };
    });
    // Act
    const result = await readParameters(new SSMClient({ region: 'us-east-1', maxAttempts: 1 }), [
      '/keys/cmk',
      '/keys/prod',
      '/t/prod',
    ]);
    // Assess
    expect([...result.failed.keys()]).toEqual(['/keys/cmk']);
    expect(result.failed.get('/keys/cmk')?.message).toMatch(
      /\/keys\/cmk: AccessDeniedException: KMS access denied/,
    );
    expect(result.values.get('/keys/prod')).toBe('value of /keys/prod');
    expect(result.calls).toBe(4);
  });

  it('lists each account setting once, and not the old state parameter', () => {
    expect(parameterNamesFor([account, account])).toEqual(['/keys/prod', '/t/prod', '/c/prod']);
  });
});

describe('readParameters under SSM trouble', () => {
  const ssm = mockClient(SSMClient);
  beforeEach(() => ssm.reset());

  it('does not retry a throttled batch name by name', async () => {
    ssm
      .on(GetParametersCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const result = await readParameters(new SSMClient({ region: 'us-east-1', maxAttempts: 1 }), [
      '/a',
      '/b',
      '/c',
    ]);
    expect(result.calls).toBe(1);
    expect([...result.failed.keys()]).toEqual(['/a', '/b', '/c']);
  });

  it('gives up when its time budget is spent instead of holding up the run', async () => {
    ssm.on(GetParametersCommand).resolves({ Parameters: [] });
    const result = await readParameters(new SSMClient({ region: 'us-east-1' }), ['/a'], {
      budgetMs: 0,
    });
    expect(result.failed.get('/a')?.message).toMatch(/no time was left/);
  });
});
