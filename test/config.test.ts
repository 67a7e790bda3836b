import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ApiUrlError, checkedApiUrl } from '../lambda/config/api-url.ts';
import { DEFAULTS } from '../lambda/config/contract.ts';
import { RECIPIENT_KEYS, type ResolvedConfig, resolveSettings } from '../lambda/config/validate.ts';
import { CONTEXT_KEYS, ConfigError, isCdkKey, loadConfig } from '../lib/config.ts';

/** What the app deploys for a context: the stack name and the construct's resolved props. */
type AppConfig = ResolvedConfig & { readonly stackName: string };

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * A recipient, which every deployment needs: the helpers add it unless a test gives
 * `emails` itself (or removes it with `emails: undefined`).
 */
const HEARD = { emails: 'oncall@example.com' };

/** loadConfig over a plain object, as the app does over `app.node.tryGetContext`. */
function load(given: Record<string, unknown>): AppConfig {
  const context: Record<string, unknown> = { ...HEARD, ...given };
  const { stackName, props } = loadConfig(
    (key) => context[key],
    Object.keys(context).filter((key) => context[key] !== undefined),
  );
  return { stackName, ...resolveSettings({ ...props }, 'props') };
}

/** The message of the ConfigError that `context` causes; fails the test when it loads. */
function errorOf(context: Record<string, unknown>): string {
  try {
    load(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(context)}`);
}

/** The lines of a ConfigError message that each describe one problem. */
function problems(message: string): string[] {
  return message.split('\n').filter((line) => line.startsWith('  - '));
}

const prod = { name: 'prod', tokenParameterName: '/ngrok/prod', thresholdCents: 1000 };
const staging = { name: 'staging', tokenParameterName: '/ngrok/staging', thresholdCents: 300 };

describe('defaults', () => {
  it('without any context, watches one account "main" with the documented defaults', () => {
    expect(load({})).toEqual({
      stackName: 'NgrokBalanceAlert',
      emails: ['oncall@example.com'],
      accounts: [
        {
          name: 'main',
          tokenParameterName: '/ngrok-balance-alert/api-key',
          thresholdCents: 1000,
          criticalThresholdCents: undefined,
          emails: [],
        },
      ],
      schedule: 'rate(15 minutes)',
      schedulePeriodMinutes: 15,
      renotifyHours: 24,
      recoveryMarginCents: undefined,
      failureAlertAfter: 3,
      forecastDays: 7,
      runwayAlertDays: 3,
      usageRefreshHours: 6,
      digest: 'weekly',
      digestDay: 'monday',
      digestHourUtc: 9,
      expiryWarningDays: 14,
      spikeFactor: 3,
      spikeMinCentsPerHour: 100,
      reservedConcurrency: undefined,
      metrics: 'none',
      dashboard: false,
      // Every channel is opt-in; only PagerDuty's events URL has a default.
      pagerDutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
    });
  });

  it('takes the digest and expiry settings from context, and refuses a day that is not one', () => {
    expect(
      load({ digest: 'off', digestDay: 'friday', digestHourUtc: '7', expiryWarningDays: '0' }),
    ).toMatchObject({ digest: 'off', digestDay: 'friday', digestHourUtc: 7, expiryWarningDays: 0 });
    expect(() => load({ digestDay: 'mon' })).toThrow(/"digestDay": "mon" is not valid/);
    expect(() => load({ digestHourUtc: '24' })).toThrow(/digestHourUtc/);
  });

  it('exports the same defaults it applies', () => {
    expect(DEFAULTS).toMatchObject({
      accountName: 'main',
      tokenParameterName: '/ngrok-balance-alert/api-key',
      thresholdCents: 1000,
      schedule: 'rate(15 minutes)',
      renotifyHours: 24,
      failureAlertAfter: 3,
      forecastDays: 7,
      runwayAlertDays: 3,
      usageRefreshHours: 6,
    });
  });

  it.each(['thresholdCents', 'accounts', 'schedule', 'emails', 'reservedConcurrency', 'dashboard'])(
    'refuses an empty value (-c %s=) instead of falling back to the default',
    (key) => {
      const message = errorOf({ [key]: '' });
      expect(problems(message)).toEqual([
        `  - "${key}" is empty. Expected a value, or leave out -c ${key} for its default.`,
      ]);
    },
  );

  it('refuses a value of spaces only as empty', () => {
    expect(errorOf({ thresholdCents: '  ' })).toContain('"thresholdCents" is empty');
  });

  it('reads a spike factor with decimals, or 0 to turn spike alerts off', () => {
    expect(load({ spikeFactor: '2.5' }).spikeFactor).toBe(2.5);
    expect(load({ spikeFactor: '0' }).spikeFactor).toBe(0);
    expect(load({ spikeFactor: 100, spikeMinCentsPerHour: '250' })).toMatchObject({
      spikeFactor: 100,
      spikeMinCentsPerHour: 250,
    });
  });

  it.each(['1', '1.5', '100.5', '-3', '3x', '1e1', '.5'])(
    'stops synth on the spike factor %s, naming the setting and the range',
    (spikeFactor) => {
      expect(errorOf({ spikeFactor })).toContain(
        `"spikeFactor": "${spikeFactor}" is not valid. Expected 0 (off) or a number from 2 to 100, decimals allowed (e.g. 2.5).`,
      );
    },
  );

  it.each(['0', '1.5', '10000001'])(
    'stops synth on the spike minimum %s cents per hour',
    (spikeMinCentsPerHour) => {
      expect(errorOf({ spikeMinCentsPerHour })).toContain(
        `"spikeMinCentsPerHour": "${spikeMinCentsPerHour}" is not valid. Expected a whole number of cents, digits only (1000 is $10.00) from 1 to 10000000.`,
      );
    },
  );

  it('reads only keys listed in CONTEXT_KEYS', () => {
    const read = new Set<string>();
    loadConfig((key) => {
      read.add(key);
      return key === 'emails' ? HEARD.emails : undefined;
    });
    expect([...read].filter((key) => !(CONTEXT_KEYS as readonly string[]).includes(key))).toEqual(
      [],
    );
  });
});

describe('value types', () => {
  const asStrings = {
    thresholdCents: '500',
    criticalThresholdCents: '100',
    renotifyHours: '12',
    recoveryMarginCents: '50',
    failureAlertAfter: '5',
    forecastDays: '14',
    runwayAlertDays: '2',
    usageRefreshHours: '3',
    reservedConcurrency: '1',
  };

  it('accepts whole numbers given as strings with -c', () => {
    const config = load(asStrings);
    expect(config.accounts[0]).toMatchObject({ thresholdCents: 500, criticalThresholdCents: 100 });
    expect(config).toMatchObject({
      renotifyHours: 12,
      recoveryMarginCents: 50,
      failureAlertAfter: 5,
      forecastDays: 14,
      runwayAlertDays: 2,
      usageRefreshHours: 3,
      reservedConcurrency: 1,
    });
  });

  it('accepts the same values given as JSON numbers in cdk.json', () => {
    const asNumbers = Object.fromEntries(
      Object.entries(asStrings).map(([key, value]) => [key, Number(value)]),
    );
    expect(load(asNumbers)).toEqual(load(asStrings));
  });

  it('ignores spaces around a number', () => {
    expect(load({ thresholdCents: ' 500 ' }).accounts[0]?.thresholdCents).toBe(500);
  });

  it('accepts a threshold of 0 cents (alert only when empty)', () => {
    expect(load({ thresholdCents: '0' }).accounts[0]?.thresholdCents).toBe(0);
  });
});

describe('thresholdCents', () => {
  it.each(['abc', '-5', '10.5', '1e3', '$10', '10 00'])(
    'rejects "%s", naming the key, the value and the expected form',
    (value) => {
      const message = errorOf({ thresholdCents: value });
      expect(message).toContain('"thresholdCents"');
      expect(message).toContain(`"${value}"`);
      expect(message).toContain('whole number of cents');
      expect(message).toContain('digits only');
    },
  );

  it.each([-5, 10.5, 1e21])('rejects the JSON number %d from cdk.json', (value) => {
    const message = errorOf({ thresholdCents: value });
    expect(message).toContain('"thresholdCents"');
    expect(message).toContain(String(value));
    expect(message).toContain('whole number of cents');
  });
});

describe('criticalThresholdCents', () => {
  it('accepts a critical threshold below the warning threshold', () => {
    const config = load({ thresholdCents: '1000', criticalThresholdCents: '200' });
    expect(config.accounts[0]).toMatchObject({ thresholdCents: 1000, criticalThresholdCents: 200 });
  });

  it.each([
    ['1000', '1000'],
    ['1000', '1500'],
  ])('rejects a warning threshold %s with a critical threshold %s', (warning, critical) => {
    const message = errorOf({ thresholdCents: warning, criticalThresholdCents: critical });
    expect(message).toContain('"criticalThresholdCents"');
    expect(message).toContain(critical);
    expect(message).toContain('"thresholdCents"');
    expect(message).toMatch(/lower than the warning threshold/);
  });

  it('compares with the default warning threshold when only the critical one is given', () => {
    const message = errorOf({ criticalThresholdCents: '1000' });
    expect(message).toContain('"criticalThresholdCents"');
    expect(message).toContain('1000');
  });
});

describe('emails', () => {
  it.each(['not-an-email', 'a@b', 'a@example', 'a b@example.com', '<a@example.com>'])(
    'rejects "%s", naming the key, the value and the expected form',
    (value) => {
      const message = errorOf({ emails: value });
      expect(message).toContain('"emails"');
      expect(message).toContain(`"${value}"`);
      expect(message).toContain('comma-separated addresses');
    },
  );

  it('splits comma-separated addresses, trims spaces, skips empty items and drops duplicates', () => {
    const config = load({ emails: ' a@example.com , b@example.org,,a@example.com ' });
    expect(config.emails).toEqual(['a@example.com', 'b@example.org']);
  });

  it('accepts a JSON array from cdk.json', () => {
    const config = load({ emails: ['a@example.com', 'b@example.org', 'a@example.com'] });
    expect(config.emails).toEqual(['a@example.com', 'b@example.org']);
  });

  it('names every bad address in a list, not just the first', () => {
    const message = errorOf({ emails: 'a@example.com,not-an-email,a@b' });
    expect(message).toContain('"not-an-email"');
    expect(message).toContain('"a@b"');
    expect(problems(message)).toHaveLength(2);
  });
});

describe('schedule', () => {
  it.each([
    ['rate(2 minutes)', 2],
    ['rate(5 minutes)', 5],
    ['rate(1 hour)', 60],
    ['rate(2 hours)', 120],
    ['rate(1 day)', 1440],
  ])('accepts %s as a period of %d minutes', (schedule, minutes) => {
    const config = load({ schedule });
    expect(config.schedule).toBe(schedule);
    expect(config.schedulePeriodMinutes).toBe(minutes);
  });

  it.each(['rate(5 minute)', 'rate(1 minutes)', 'rate(2 hour)', 'rate(1 days)'])(
    'rejects %s, whose unit does not agree with the number',
    (schedule) => {
      const message = errorOf({ schedule });
      expect(message).toContain('"schedule"');
      expect(message).toContain(`"${schedule}"`);
      expect(message).toContain('rate(N minutes|hours|days)');
      expect(message).toMatch(/"minute", "hour" or "day" when N is 1/);
    },
  );

  it('rejects a cron expression and says why', () => {
    const message = errorOf({ schedule: 'cron(0 * * * ? *)' });
    expect(message).toContain('"schedule"');
    expect(message).toContain('"cron(0 * * * ? *)"');
    expect(message).toContain('cron expressions are not supported');
    expect(message).toContain('fixed period');
  });

  it('rejects rate(0 minutes)', () => {
    const message = errorOf({ schedule: 'rate(0 minutes)' });
    expect(message).toContain('"schedule"');
    expect(message).toContain('"rate(0 minutes)"');
    expect(message).toContain('rate(N minutes|hours|days)');
  });

  it.each(['rate(2 days)', 'rate(25 hours)', 'rate(1441 minutes)'])(
    'rejects %s as too rare: a balance can run out within a day',
    (schedule) => {
      const message = errorOf({ schedule });
      expect(message).toContain('"schedule"');
      expect(message).toContain(`"${schedule}"`);
      expect(message).toContain('less than once a day');
      expect(message).toContain('rate(1 day)');
    },
  );

  it.each(['every 15 minutes', 'rate(15 Minutes)', 'rate(-5 minutes)', 'rate(15minutes)'])(
    'rejects the malformed expression "%s"',
    (schedule) => {
      expect(errorOf({ schedule })).toContain(`"schedule": "${schedule}"`);
    },
  );
});

describe('integer settings with a range', () => {
  it.each([
    ['reservedConcurrency', '0', 'from 1 to 10'],
    ['reservedConcurrency', '11', 'from 1 to 10'],
    ['renotifyHours', '0', 'from 1 to 720'],
    ['failureAlertAfter', '0', 'from 1 to 100'],
    ['forecastDays', '31', 'from 1 to 30'],
    ['usageRefreshHours', '25', 'from 1 to 24'],
  ])('rejects %s=%s and states the range (%s)', (key, value, range) => {
    const message = errorOf({ [key]: value });
    expect(message).toContain(`"${key}"`);
    expect(message).toContain(`"${value}"`);
    expect(message).toContain(range);
  });
});

describe('metrics and dashboard', () => {
  it('accepts the opt-in values', () => {
    expect(load({ metrics: 'per-account', dashboard: 'true' })).toMatchObject({
      metrics: 'per-account',
      dashboard: true,
    });
    expect(load({ metrics: 'none', dashboard: false })).toMatchObject({
      metrics: 'none',
      dashboard: false,
    });
  });

  it.each([
    ['metrics', 'all', 'none, per-account'],
    ['dashboard', 'yes', 'true or false'],
  ])('rejects %s=%s and lists what it accepts', (key, value, accepted) => {
    const message = errorOf({ [key]: value });
    expect(message).toContain(`"${key}": "${value}"`);
    expect(message).toContain(accepted);
  });
});

describe('Slack', () => {
  it('accepts a workspace and a channel given together', () => {
    const config = load({ slackWorkspaceId: 'T0123456789', slackChannelId: 'C0123456789' });
    expect(config).toMatchObject({
      slackWorkspaceId: 'T0123456789',
      slackChannelId: 'C0123456789',
    });
  });

  it('rejects slackWorkspaceId without slackChannelId, naming both keys and what to give', () => {
    const message = errorOf({ slackWorkspaceId: 'T0123456789' });
    expect(message).toContain('"slackWorkspaceId"');
    expect(message).toContain('"slackChannelId"');
    expect(message).toContain('together');
    expect(message).toContain('channel ID');
  });

  it('rejects slackChannelId without slackWorkspaceId', () => {
    const message = errorOf({ slackChannelId: 'C0123456789' });
    expect(message).toContain('"slackWorkspaceId"');
    expect(message).toContain('"slackChannelId"');
  });

  it.each([
    ['slackWorkspaceId', 'my-workspace', { slackChannelId: 'C0123456789' }],
    ['slackChannelId', '#alerts', { slackWorkspaceId: 'T0123456789' }],
  ])('rejects %s "%s", naming the value and an example', (key, value, other) => {
    const message = errorOf({ ...other, [key]: value });
    expect(message).toContain(`"${key}"`);
    expect(message).toContain(`"${value}"`);
    expect(message).toMatch(/e\.g\. [TC]0123456789/);
  });
});

describe('tokenParameterName', () => {
  it.each(['/ngrok/prod-key', 'ngrok-key', '/a_b.c-d'])('accepts %s', (name) => {
    expect(load({ tokenParameterName: name }).accounts[0]?.tokenParameterName).toBe(name);
  });

  it.each([
    ['a space', 'ngrok key'],
    ['a "*"', '/ngrok/key*'],
    ['more than 1011 characters', `/${'a'.repeat(1200)}`],
  ])('rejects a name SSM cannot hold (%s)', (_, name) => {
    const message = errorOf({ tokenParameterName: name });
    expect(message).toContain('"tokenParameterName"');
    expect(message).toContain('SSM parameter name');
  });

  // SSM requires a name inside a hierarchy to start with "/" ("MyParameter3/L1" is not
  // fully qualified); accepting it only moves the failure to the first run.
  it('rejects a hierarchical name without the leading slash', () => {
    const message = errorOf({ tokenParameterName: 'ngrok/prod-key' });
    expect(message).toContain('"tokenParameterName"');
    expect(message).toContain('"ngrok/prod-key"');
  });

  // SSM reserves names starting with "aws" or "ssm" (case-insensitive), e.g. /aws/testparam1.
  it.each(['/aws/ngrok-key', 'ssm-ngrok-key'])('rejects the reserved prefix in "%s"', (name) => {
    const message = errorOf({ tokenParameterName: name });
    expect(message).toContain('"tokenParameterName"');
    expect(message).toContain(`"${name}"`);
  });
});

describe('accounts', () => {
  it('accepts the JSON string form given with -c', () => {
    const config = load({ accounts: JSON.stringify([prod, staging]) });
    expect(config.accounts).toEqual([
      { ...prod, criticalThresholdCents: undefined, emails: [] },
      { ...staging, criticalThresholdCents: undefined, emails: [] },
    ]);
  });

  it('accepts the array form from cdk.json, with per-account critical thresholds and emails', () => {
    const config = load({
      accounts: [
        { ...prod, criticalThresholdCents: 200, emails: 'p@example.com, q@example.com' },
        { ...staging, thresholdCents: '300' },
      ],
    });
    expect(config.accounts).toEqual([
      { ...prod, criticalThresholdCents: 200, emails: ['p@example.com', 'q@example.com'] },
      { ...staging, criticalThresholdCents: undefined, emails: [] },
    ]);
  });

  it('gives the JSON string and array forms the same result', () => {
    const list = [{ ...prod, criticalThresholdCents: 200, emails: ['p@example.com'] }, staging];
    expect(load({ accounts: JSON.stringify(list) })).toEqual(load({ accounts: list }));
  });

  it('rejects invalid JSON, naming the key, the value and an example', () => {
    const message = errorOf({ accounts: '[{"name":"prod",' });
    expect(message).toContain('"accounts"');
    expect(message).toContain('"[{"name":"prod","');
    expect(message).toContain('not complete JSON');
    expect(message).toContain('Expected a JSON array');
  });

  it('explains the one-line rule when accounts is cut off, as -c keeps only the first line', () => {
    const message = errorOf({ accounts: '[' });
    expect(message).toContain('"accounts": "[" is not complete JSON');
    expect(message).toContain('The CDK CLI keeps only the first line of a -c value');
    expect(message).toContain('cdk.json');
  });

  it.each([[[]], ['[]'], ['{"name":"prod"}'], [{ name: 'prod' }], ['"prod"']])(
    'rejects %j, which is not a non-empty list',
    (accounts) => {
      const message = errorOf({ accounts });
      expect(message).toContain('"accounts"');
      expect(message).toContain('1 to 100 accounts');
    },
  );

  it('rejects more than 100 accounts', () => {
    const accounts = Array.from({ length: 101 }, (_, i) => ({ ...prod, name: `a${i}` }));
    expect(errorOf({ accounts })).toContain('1 to 100 accounts');
  });

  it('rejects an entry that is not an object, naming its index', () => {
    const message = errorOf({ accounts: [prod, 'staging'] });
    expect(message).toContain('"accounts[1]"');
    expect(message).toContain('"staging"');
    expect(message).toContain('not an object');
  });

  it('rejects duplicate names compared without case', () => {
    const message = errorOf({ accounts: [prod, { ...staging, name: 'PROD' }] });
    expect(message).toContain('"accounts"');
    expect(message).toContain('"PROD"');
    expect(message).toContain('used twice');
    expect(message).toContain('unique names');
  });

  it.each(['prod/eu', '../x', ' ', '-prod', '.hidden', 'prod eu', 'a'.repeat(49)])(
    'rejects the unsafe account name "%s", naming the field and the allowed form',
    (name) => {
      const message = errorOf({ accounts: [{ ...prod, name }] });
      expect(message).toContain('"accounts[0].name"');
      expect(message).toContain(`"${name}"`);
      expect(message).toContain('not a valid account name');
      expect(message).toMatch(/Expected 1-48 letters, digits/);
    },
  );

  it('rejects an unsafe single-account name under its own key, accountName', () => {
    const message = errorOf({ accountName: 'prod/eu' });
    expect(message).toContain('"accountName"');
    expect(message).toContain('"prod/eu"');
  });

  it('accepts names made of letters, digits, ".", "_" and "-"', () => {
    const names = ['prod', 'Prod-EU_2', '0day', 'a.b'];
    const config = load({
      accounts: names.map((name) => ({ ...prod, name, tokenParameterName: `/ngrok/${name}` })),
    });
    expect(config.accounts.map((a) => a.name)).toEqual(names);
  });

  it('rejects an unknown field, listing the known ones', () => {
    const message = errorOf({ accounts: [{ ...prod, threshold: 500 }] });
    expect(message).toContain('"accounts[0].threshold"');
    expect(message).toContain('not a known field');
    expect(message).toContain(
      'Expected: name, tokenParameterName, thresholdCents, criticalThresholdCents, emails',
    );
  });

  it('names the failing field of the failing entry: accounts[1].thresholdCents', () => {
    const message = errorOf({ accounts: [prod, { ...staging, thresholdCents: 'ten' }] });
    expect(message).toContain('"accounts[1].thresholdCents"');
    expect(message).toContain('"ten"');
    expect(message).toContain('whole number of cents');
    expect(message).not.toContain('accounts[0]');
  });

  it('names accounts[i] in per-account threshold, token and email errors', () => {
    const message = errorOf({
      accounts: [
        { ...prod, criticalThresholdCents: 1000 },
        { ...staging, tokenParameterName: 'bad key', emails: ['a@b'] },
      ],
    });
    expect(message).toContain('"accounts[0].criticalThresholdCents"');
    expect(message).toContain('"accounts[0].thresholdCents"');
    expect(message).toContain('"accounts[1].tokenParameterName"');
    expect(message).toContain('"accounts[1].emails"');
  });

  it('gives an entry without thresholdCents or tokenParameterName the defaults of the table', () => {
    const config = load({ accounts: [{ name: 'prod' }] });
    expect(config.accounts[0]).toMatchObject({
      thresholdCents: 1000,
      tokenParameterName: '/ngrok-balance-alert/api-key',
    });
  });

  it('requires a name in each entry', () => {
    const message = errorOf({ accounts: [{ tokenParameterName: '/ngrok/prod' }] });
    expect(message).toContain('"accounts[0].name" is missing');
  });

  it.each(['thresholdCents', 'accountName', 'tokenParameterName', 'criticalThresholdCents'])(
    'rejects accounts together with the single-account key %s',
    (key) => {
      const message = errorOf({ accounts: [prod], [key]: key === 'thresholdCents' ? 500 : 'x' });
      expect(message).toContain('"accounts"');
      expect(message).toContain(key);
      expect(message).toContain('one or the other');
    },
  );
});

describe('error reporting', () => {
  it('throws a ConfigError, so the app can print it without a stack trace', () => {
    expect(() => load({ thresholdCents: 'abc' })).toThrow(ConfigError);
    try {
      load({ thresholdCents: 'abc' });
    } catch (error) {
      expect((error as Error).name).toBe('ConfigError');
      expect((error as Error).message).toMatch(/^Invalid configuration:\n {2}- /);
    }
  });

  it('reports several problems at once, one line each', () => {
    const message = errorOf({
      thresholdCents: 'abc',
      emails: 'a@b',
      schedule: 'cron(0 * * * ? *)',
      renotifyHours: '0',
      slackWorkspaceId: 'T0123456789',
    });
    const lines = problems(message);
    expect(lines).toHaveLength(5);
    for (const key of ['thresholdCents', 'emails', 'schedule', 'renotifyHours', 'slackChannelId']) {
      expect(lines.some((line) => line.includes(`"${key}"`))).toBe(true);
    }
  });

  it('reports problems in several accounts at once', () => {
    const message = errorOf({
      accounts: [
        { ...prod, thresholdCents: -1 },
        { ...staging, name: '../x' },
      ],
    });
    expect(message).toContain('"accounts[0].thresholdCents"');
    expect(message).toContain('"accounts[1].name"');
  });

  it('shortens a very long value in the message', () => {
    const message = errorOf({ thresholdCents: 'x'.repeat(500) });
    expect(message).toContain('"thresholdCents"');
    expect(message.length).toBeLessThan(400);
  });
});

/** Runs the real `cdk synth` with `args`, as a user would; returns its exit code and stderr. */
function cdkSynth(args: readonly string[]): { status: number | null; stderr: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'ngrok-balance-alert-synth-'));
  try {
    const result = spawnSync(
      'npx',
      ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir, ...args],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        timeout: 110_000,
      },
    );
    expect(result.error).toBeUndefined();
    return { status: result.status, stderr: result.stderr };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A Node stack-trace line: an error that reached the user as a crash, not a message. */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

describe('the real `cdk synth`', () => {
  it('`cdk synth -c thresholdCents=abc` with no recipient names both problems', () => {
    const { status, stderr } = cdkSynth(['-c', 'thresholdCents=abc']);
    expect(status).not.toBe(0);
    expect(stderr).toContain('No recipient: the monitor would alert nobody');
    expect(stderr).toContain('"thresholdCents": "abc"');
    expect(stderr).toContain('whole number of cents');
    // A plain message: the fix is in the context, not in the code.
    expect(stderr).not.toMatch(STACK_LINE);
    // The CDK CLI ends a failed synth with the app's command line: it must not read as if
    // the build had failed.
    expect(stderr).not.toContain('build.ts');
  });

  it("passes with cdk.json's feature flags and one address", () => {
    const { status, stderr } = cdkSynth(['-c', 'emails=a@example.com']);
    expect(stderr).not.toContain('not a known setting');
    expect(status).toBe(0);
  });

  it('refuses the silent misconfigurations a new user tripped over, each by name', () => {
    const { status, stderr } = cdkSynth([
      '-c',
      'email=oncall@example.com',
      '-c',
      'slackWebhookUrl=https://hooks.slack.com/services/x',
      '-c',
      'thresholdCents=',
      '-c',
      'schedule=rate(1 minute)',
      '-c',
      'accounts=[\n{"name":"prod","tokenParameterName":"/p","thresholdCents":5}\n]',
    ]);
    expect(status).not.toBe(0);
    expect(stderr).toContain('"email" is not a known setting, so it would be ignored');
    expect(stderr).toContain('"slackWebhookUrl" is not a known setting');
    expect(stderr).toContain('"thresholdCents" is empty');
    expect(stderr).toContain('"schedule": "rate(1 minute)"');
    expect(stderr).toContain('"accounts": "[" is not complete JSON');
    expect(stderr).not.toMatch(STACK_LINE);
  });

  it('refuses a stack over 500 resources with a short message, not a crash', () => {
    const accounts = Array.from({ length: 100 }, (_, i) => ({
      name: `a${i}`,
      tokenParameterName: `/k/${i}`,
      thresholdCents: 1000,
      criticalThresholdCents: 100,
      emails: [`x${i}@example.com`, `y${i}@example.com`, `z${i}@example.com`],
    }));
    const { status, stderr } = cdkSynth(['-c', `accounts=${JSON.stringify(accounts)}`]);
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/The stack needs 5\d\d resources for 100 accounts/);
    expect(stderr).toContain('Split the accounts over two stacks');
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stderr.length).toBeLessThan(2_000);
  });
});

describe('stackName', () => {
  it('defaults to NgrokBalanceAlert and accepts another name for a second deployment', () => {
    expect(load({}).stackName).toBe('NgrokBalanceAlert');
    expect(load({ stackName: 'NgrokBalanceAlertClients' }).stackName).toBe(
      'NgrokBalanceAlertClients',
    );
  });

  it('rejects a name CloudFormation would refuse, naming the key and the form', () => {
    expect(() => loadConfig((key) => (key === 'stackName' ? 'my stack!' : undefined))).toThrow(
      /"stackName": "my stack!" is not a valid stack name\. Expected a letter/,
    );
  });
});

describe('a monitor nobody hears', () => {
  it.each([
    ['no emails and no other channel', { emails: undefined }],
    ['-c email=... (a typo of emails) and nothing else', { emails: undefined, email: 'a@x.com' }],
  ])('fails for %s, saying how to add a recipient', (_case, context) => {
    const message = errorOf(context);
    expect(message).toContain('No recipient: the monitor would alert nobody');
    expect(message).toContain('e.g. -c emails=oncall@example.com');
  });

  it('names every setting marked as a recipient in the contract', () => {
    const message = errorOf({ emails: undefined });
    for (const key of RECIPIENT_KEYS) expect(message).toContain(`"${key}"`);
    expect(RECIPIENT_KEYS).toEqual(expect.arrayContaining(['emails', 'slackWebhookParameterName']));
  });

  it('reports no recipient next to a bad single-account value', () => {
    const message = errorOf({ emails: undefined, thresholdCents: 'abc' });
    expect(problems(message)).toHaveLength(2);
    expect(message).toContain('No recipient');
  });

  it('refuses -c emails=,, as cut off rather than as no recipient at all', () => {
    const message = errorOf({ emails: ',,' });
    expect(problems(message)).toHaveLength(1);
    expect(message).toContain('"emails": ",," ends with a comma');
  });

  it.each([
    ['a Slack webhook', { emails: undefined, slackWebhookParameterName: '/team/slack-url' }],
    [
      'Amazon Q Developer in Slack',
      { emails: undefined, slackWorkspaceId: 'T0123456', slackChannelId: 'C0123456' },
    ],
    [
      'emails of one account only',
      { emails: undefined, accounts: [{ ...prod, emails: ['prod-team@example.com'] }] },
    ],
  ])('accepts %s as the only recipient', (_case, context) => {
    expect(load(context).accounts).toHaveLength(1);
  });
});

describe('context keys', () => {
  it.each([
    ['threshold', '5', 'thresholdCents'],
    ['renotifyHour', '1', 'renotifyHours'],
    ['email', 'a@example.com', 'emails'],
  ])('refuses the unknown key -c %s=%s and suggests "%s"', (key, value, near) => {
    const message = errorOf({ [key]: value });
    expect(problems(message)).toEqual([
      `  - "${key}" is not a known setting, so it would be ignored. Did you mean "${near}"?`,
    ]);
  });

  it('refuses an unknown key with nothing near it, listing the known keys', () => {
    const message = errorOf({ slackWebhookUrl: 'https://hooks.slack.com/x' });
    expect(message).toContain('"slackWebhookUrl" is not a known setting');
    expect(message).toContain('slackWebhookParameterName');
  });

  it.each([
    '@aws-cdk/core:newStyleStackSynthesis',
    'aws:cdk:version-reporting',
    'aws:cdk:bundling-stacks',
    'aws-cdk:enableDiffNoFail',
    'availability-zones:account=123456789012:region=eu-west-1',
    'acknowledged-issue-numbers',
    '$dontSaveContext',
    'cdk-migrate',
  ])('leaves the CDK its own key %s', (key) => {
    expect(isCdkKey(key)).toBe(true);
    expect(load({ [key]: 'x' }).accounts).toHaveLength(1);
  });

  it("accepts every key of this repository's cdk.json", () => {
    const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    expect(load(cdkJson.context).accounts).toHaveLength(1);
  });
});

describe('key parameters', () => {
  it.each(['threshold-cents', 'critical-threshold-cents'])(
    "refuses the account's own %s parameter as its key parameter",
    (kind) => {
      const name = `/ngrok-balance-alert/main/${kind}`;
      const message = errorOf({ tokenParameterName: name });
      expect(message).toContain(`"tokenParameterName": "${name}" is the`);
      expect(message).toContain('which the stack creates');
    },
  );

  it("refuses another account's threshold parameter in a list", () => {
    const message = errorOf({
      accounts: [
        prod,
        { ...staging, tokenParameterName: '/ngrok-balance-alert/prod/threshold-cents' },
      ],
    });
    expect(message).toContain(
      '"accounts[1].tokenParameterName": "/ngrok-balance-alert/prod/threshold-cents" is the threshold parameter of account "prod"',
    );
  });

  it('accepts the old state parameter name as a key: the stack no longer creates it', () => {
    expect(load({ tokenParameterName: '/ngrok-balance-alert/main/state' }).accounts).toHaveLength(
      1,
    );
  });

  it('names a shared key by its place in the list as given, past an entry that failed', () => {
    const message = errorOf({
      accounts: [
        { ...prod, name: 'bad name' },
        staging,
        { ...prod, name: 'p2', tokenParameterName: '/ngrok/staging' },
      ],
    });
    expect(message).toContain(
      '"accounts[2].tokenParameterName": "/ngrok/staging" is also the key of account "staging"',
    );
  });

  it('refuses two accounts sharing one key parameter, naming the first', () => {
    const message = errorOf({
      accounts: [prod, { ...staging, tokenParameterName: '/ngrok/prod' }],
    });
    expect(problems(message)).toEqual([
      expect.stringContaining(
        '"accounts[1].tokenParameterName": "/ngrok/prod" is also the key of account "prod"',
      ),
    ]);
  });
});

describe('schedule and timeout', () => {
  it('refuses rate(1 minute): runs could overlap the 90 s timeout', () => {
    const message = errorOf({ schedule: 'rate(1 minute)' });
    expect(problems(message)).toEqual([
      '  - "schedule": "rate(1 minute)" starts runs more often than one may last (the ' +
        "function's timeout is 90 s): runs would overlap and send duplicates. Expected at " +
        'least rate(2 minutes).',
    ]);
  });
});

describe('a monitor nobody hears: which problems hide it', () => {
  it('reports no recipient next to an empty non-recipient value', () => {
    const message = errorOf({ emails: undefined, thresholdCents: '' });
    expect(problems(message)).toHaveLength(2);
    expect(message).toContain('No recipient');
  });

  it('reports no recipient for a valid list of accounts without emails of their own', () => {
    expect(errorOf({ emails: undefined, accounts: [prod] })).toContain('No recipient');
  });

  it('leaves it out while a list of accounts fails: a fixed entry may name emails', () => {
    const message = errorOf({ emails: undefined, accounts: [{ ...prod, thresholdCents: 'x' }] });
    expect(problems(message)).toHaveLength(1);
    expect(message).not.toContain('No recipient');
  });

  it('lists the recipient settings, comma-separated', () => {
    expect(errorOf({ emails: undefined })).toContain(
      'Expected at least one of "emails", "slackWorkspaceId", "slackChannelId", "slackWebhookParameterName"',
    );
  });

  it('names the first account of a key shared by three, and says what to do instead', () => {
    const message = errorOf({
      accounts: [
        prod,
        { ...staging, tokenParameterName: '/ngrok/prod' },
        { ...staging, name: 'qa', tokenParameterName: '/ngrok/prod' },
      ],
    });
    expect(message).toContain(
      '"accounts[2].tokenParameterName": "/ngrok/prod" is also the key of account "prod"',
    );
    expect(message).toContain(
      'one ngrok account would be watched twice and every alert sent twice. Expected one entry ' +
        'per ngrok account (use criticalThresholdCents for a second, lower threshold).',
    );
  });

  it("suggests the default key parameter when the key is the stack's own", () => {
    expect(errorOf({ tokenParameterName: '/ngrok-balance-alert/main/threshold-cents' })).toContain(
      'which the stack creates. Expected the SecureString that holds the ngrok API key, e.g. ' +
        '/ngrok-balance-alert/api-key.',
    );
  });

  it('gives a one-line example with the one-line rule', () => {
    expect(errorOf({ accounts: '[' })).toContain(
      `e.g. -c accounts='[{"name":"prod","tokenParameterName":"/ngrok/prod-key","thresholdCents":1000}]'. The CDK CLI`,
    );
  });
});

describe("the README configuration table's defaults, against what the code applies", () => {
  /** Key and default cell of each row of the table under "## Configuration". */
  function tableDefaults(): [string, string][] {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Configuration\n'));
    const start = section.indexOf('| Key |');
    const table = section.slice(start, section.indexOf('\n\n', start));
    return table
      .split('\n')
      .slice(2)
      .map((line) => {
        const [key = '', cell = ''] = line
          .split(/(?<!\\)\|/)
          .slice(1, 3)
          .map((c) => c.trim());
        return [key.replace(/`/g, ''), cell];
      });
  }
  /** What the code applies when nothing is given: for the app, and per entry of accounts. */
  const applied = load({});
  const entry = load({ accounts: [{ name: 'x' }] }).accounts[0] as unknown as Record<
    string,
    unknown
  >;
  const SHORTHAND_FIELDS: Record<string, string> = {
    accountName: 'name',
    tokenParameterName: 'tokenParameterName',
    thresholdCents: 'thresholdCents',
    criticalThresholdCents: 'criticalThresholdCents',
    autoTopUpCents: 'autoTopUpCents',
    autoTopUpMonthlyCapCents: 'autoTopUpMonthlyCapCents',
    autoTopUpBelowCents: 'autoTopUpBelowCents',
    autoTopUpDryRun: 'autoTopUpDryRun',
  };

  it('has a row for every key', () => {
    expect(
      tableDefaults()
        .map(([key]) => key)
        .sort(),
    ).toEqual([...CONTEXT_KEYS].sort());
  });

  it.each(tableDefaults())('applies the default the table states for %s (%s)', (key, cell) => {
    const field = SHORTHAND_FIELDS[key];
    const value =
      field !== undefined
        ? (applied.accounts[0] as unknown as Record<string, unknown>)[field]
        : (applied as unknown as Record<string, unknown>)[key];
    if (key === 'emails' || key === 'accounts') return; // given by the test itself
    const literal = /^`(.*)`$/.exec(cell)?.[1];
    if (literal === undefined) {
      // "none", "off", "10% of the threshold": worked out at run time, or no value.
      expect(value, key).toBeUndefined();
      return;
    }
    // An on/off setting left out is off (top-up settings read autoTopUpDryRun ?? false).
    const shown = (v: unknown) => String(literal === 'false' && v === undefined ? false : v);
    expect(shown(value), key).toBe(literal);
    // Per account too: an entry of `accounts` that leaves the field out gets the same value
    // (except its name, which every entry must give).
    if (field !== undefined && field !== 'name') expect(shown(entry[field]), key).toBe(literal);
  });
});

describe('NGROK_API_URL, as the monitor function reads it', () => {
  const DEFAULT = 'https://api.ngrok.ai';

  it('is the default when unset or empty, and any https URL otherwise', () => {
    expect(checkedApiUrl(undefined, DEFAULT)).toBe(DEFAULT);
    expect(checkedApiUrl('  ', DEFAULT)).toBe(DEFAULT);
    expect(checkedApiUrl('https://api.example.com/v1', DEFAULT)).toBe('https://api.example.com/v1');
  });

  it.each(['http://127.0.0.1:4010', 'http://localhost:4010', 'http://[::1]:4010'])(
    'takes plain http on a loopback address (a local stand-in): %s',
    (url) => {
      expect(checkedApiUrl(url, DEFAULT)).toBe(url);
    },
  );

  it.each([
    ['http://api.ngrok.ai', 'is not an https URL, and the API key is sent with every request'],
    ['ftp://127.0.0.1', 'is not an https URL, and the API key is sent with every request'],
    ['https://user:pw@api.ngrok.ai', 'has a user name or password in it'],
    ['api.ngrok.ai', 'is not a URL'],
  ])('refuses %s with a clear error', (url, problem) => {
    expect(() => checkedApiUrl(url, DEFAULT)).toThrow(ApiUrlError);
    expect(() => checkedApiUrl(url, DEFAULT)).toThrow(`NGROK_API_URL "${url}" ${problem}.`);
    expect(() => checkedApiUrl(url, DEFAULT)).toThrow(`Expected ${DEFAULT}`);
  });
});
