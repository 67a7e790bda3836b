/**
 * The configuration contract against what is derived from it: the README's configuration
 * table, the function's configuration file and the `check` command's options.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_SETTINGS,
  type AnySetting,
  DEFAULTS,
  FLAGS,
  FUNCTION_SETTING_KEYS,
  SETTINGS,
  SHORTHAND,
  TEXT_FORMS,
} from '../lambda/config/contract.ts';
import { MonitorConfigError, parseMonitorConfig } from '../lambda/config/monitor-config.ts';
import { ConfigError, resolveSettings } from '../lambda/config/validate.ts';
import { CONTEXT_KEYS } from '../lib/config.ts';

/** The rows of the README's configuration table: key, default, range. */
function readmeRows(): Map<string, { defaultText: string; range: string }> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'));
  const table = section.slice(
    section.indexOf('| Key |'),
    section.indexOf('\n\n', section.indexOf('| Key |')),
  );
  const rows = new Map<string, { defaultText: string; range: string }>();
  for (const line of table.split('\n').slice(2)) {
    const [key = '', defaultText = '', range = ''] = line
      .split(/(?<!\\)\|/)
      .slice(1, 4)
      .map((cell) => cell.trim());
    rows.set(key.replace(/`/g, ''), { defaultText, range });
  }
  return rows;
}

/** The setting behind a top-level key (a shorthand key's is its account field's). */
function settingOf(key: string): AnySetting & { default?: unknown } {
  const shorthand = (SHORTHAND as Record<string, { field: keyof typeof ACCOUNT_SETTINGS }>)[key];
  if (shorthand) return { ...ACCOUNT_SETTINGS[shorthand.field], ...shorthand };
  return (SETTINGS as Record<string, AnySetting>)[key] as AnySetting;
}

/** How the README states a setting's range. */
function rangeOf(setting: AnySetting): string {
  switch (setting.kind) {
    case 'integer':
      return setting.max === undefined ? `${setting.min} up` : `${setting.min} to ${setting.max}`;
    case 'decimal':
      return `${setting.off === undefined ? '' : `${setting.off} (off), or `}${setting.min} to ${setting.max}`;
    case 'text':
      return TEXT_FORMS[setting.form].problem.replace(/^is not (a valid |an? )?/, '');
    case 'emails':
      return 'email addresses';
    case 'choice':
      return setting.choices.join(', ');
    case 'boolean':
      return 'true, false';
    case 'accounts':
      return `1 to ${setting.maxItems} accounts`;
  }
}

describe('the README configuration table', () => {
  const rows = readmeRows();

  it('has one row per context key, and no other', () => {
    expect([...rows.keys()].sort()).toEqual([...CONTEXT_KEYS].sort());
  });

  it.each(CONTEXT_KEYS.filter((key) => key !== 'stackName'))(
    'states the default and range of %s as the contract does',
    (key) => {
      const setting = settingOf(key);
      const row = rows.get(key);
      const defaultText =
        setting.default !== undefined
          ? `\`${String(setting.default)}\``
          : (setting.unset ?? 'none');
      expect(row?.defaultText).toBe(defaultText);
      expect(row?.range).toBe(rangeOf(setting));
    },
  );
});

describe('the contract', () => {
  it('documents each entry with TSDoc right above it', () => {
    // The entry's TSDoc is the prop's documentation, so none may be missing.
    const source = readFileSync(new URL('../lambda/config/contract.ts', import.meta.url), 'utf8');
    for (const key of [...Object.keys(SETTINGS), ...Object.keys(ACCOUNT_SETTINGS)]) {
      expect(source, key).toMatch(new RegExp(`\\*/\\n  ${key}: \\{`));
    }
  });

  it.each([
    ['SETTINGS', SETTINGS],
    ['SHORTHAND', SHORTHAND],
  ] as const)('states each default of %s in its TSDoc as @default', (table, entries) => {
    // The TSDoc is what a construct user reads on the prop; it must not drift.
    const source = readFileSync(new URL('../lambda/config/contract.ts', import.meta.url), 'utf8');
    const body = source.slice(source.indexOf(`export const ${table} = {`));
    for (const [key, entry] of Object.entries(entries)) {
      const doc = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\n  ${key}: \\{`).exec(body)?.[1];
      const tag = /@default (.+)/.exec(doc ?? '')?.[1]?.trim();
      const expected =
        'default' in entry
          ? typeof entry.default === 'string'
            ? `'${entry.default}'`
            : String(entry.default)
          : expect.stringMatching(/^- \w/);
      expect(tag, `${table}.${key}`).toEqual(expected);
    }
  });

  it('gives every default as a value inside its own range', () => {
    for (const [key, value] of Object.entries(DEFAULTS)) {
      const setting = settingOf(key);
      if (setting.kind === 'integer') {
        expect(value, key).toBeGreaterThanOrEqual(setting.min);
        expect(value, key).toBeLessThanOrEqual(setting.max ?? Number.MAX_SAFE_INTEGER);
      }
      if (setting.kind === 'decimal') {
        expect(value, key).toBeGreaterThanOrEqual(setting.min);
        expect(value, key).toBeLessThanOrEqual(setting.max);
      }
      if (setting.kind === 'text' && setting.form !== 'rate') {
        expect(TEXT_FORMS[setting.form].test(String(value)), key).toBe(true);
      }
    }
  });

  it('names the check command options after their settings', () => {
    expect(Object.keys(FLAGS).sort()).toEqual([
      'account',
      'auto-top-up-below-cents',
      'auto-top-up-cents',
      'auto-top-up-monthly-cap-cents',
      'checkout-amount-cents',
      'critical-threshold-cents',
      'forecast-days',
      'runway-alert-days',
      'threshold-cents',
    ]);
    expect(FLAGS['forecast-days']).toBe(SETTINGS.forecastDays);
    expect(FLAGS['threshold-cents']).toBe(ACCOUNT_SETTINGS.thresholdCents);
  });
});

describe("the function's configuration file", () => {
  const account = {
    name: 'main',
    tokenParameterName: '/k',
    thresholdCents: 1000,
    thresholdParameterName: '/t',
  };
  const valid = {
    ...Object.fromEntries(
      FUNCTION_SETTING_KEYS.map((key) => [key, DEFAULTS[key as keyof typeof DEFAULTS]]),
    ),
    accounts: [account],
  };

  it('accepts what the construct writes', () => {
    expect(parseMonitorConfig(JSON.stringify(valid))).toEqual(valid);
  });

  it.each(FUNCTION_SETTING_KEYS.filter((key) => 'max' in SETTINGS[key]))(
    'rejects %s beyond the range the contract states',
    (key) => {
      const setting = SETTINGS[key] as { max: number };
      const json = JSON.stringify({ ...valid, [key]: setting.max + 1 });
      expect(() => parseMonitorConfig(json)).toThrow(new RegExp(`invalid ${key}`));
    },
  );

  it('accepts a decimal spike factor or 0, and rejects one below the range', () => {
    for (const spikeFactor of [2.5, 0]) {
      expect(parseMonitorConfig(JSON.stringify({ ...valid, spikeFactor })).spikeFactor).toBe(
        spikeFactor,
      );
    }
    expect(() => parseMonitorConfig(JSON.stringify({ ...valid, spikeFactor: 1.5 }))).toThrow(
      /invalid spikeFactor/,
    );
  });

  it('rejects an account whose threshold is not whole cents', () => {
    const json = JSON.stringify({ ...valid, accounts: [{ ...account, thresholdCents: 10.5 }] });
    expect(() => parseMonitorConfig(json)).toThrow(/invalid accounts\["main"\]/);
  });

  it('accepts auto top-up settings in their ranges and rejects others', () => {
    const topUp = {
      autoTopUpCents: 2000,
      autoTopUpMonthlyCapCents: 6000,
      autoTopUpBelowCents: 0,
      autoTopUpDryRun: true,
    };
    const config = { ...valid, accounts: [{ ...account, ...topUp }] };
    expect(parseMonitorConfig(JSON.stringify(config))).toEqual(config);
    for (const bad of [
      { autoTopUpCents: 499 },
      { autoTopUpMonthlyCapCents: '6000' },
      { autoTopUpDryRun: 'yes' },
    ]) {
      const json = JSON.stringify({ ...valid, accounts: [{ ...account, ...topUp, ...bad }] });
      expect(() => parseMonitorConfig(json)).toThrow(/invalid accounts\["main"\]/);
    }
  });

  it('says how to fix a missing file', () => {
    expect(() => parseMonitorConfig(undefined)).toThrow(MonitorConfigError);
    expect(() => parseMonitorConfig(undefined)).toThrow(/NgrokBalanceAlert construct/);
  });
});

/** A topic given to the construct: its subscribers are the recipients. */
const HEARD = { topicGiven: true };

describe('resolveSettings on props (typed values, no context coercion)', () => {
  /** The ConfigError message for `props`. */
  function problemsOf(props: Record<string, unknown>): string {
    try {
      resolveSettings(props, 'props', HEARD);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`expected a ConfigError for ${JSON.stringify(props)}`);
  }
  const account = (name: string) => ({
    name,
    tokenParameterName: `/ngrok/${name}`,
    thresholdCents: 1000,
  });

  it('rejects an unknown prop in the words of context: did you mean, or the known ones', () => {
    expect(problemsOf({ threshold: 5 })).toContain(
      '"threshold" is not a known setting, so it would be ignored. Did you mean "thresholdCents"?',
    );
    expect(problemsOf({ foo: 5 })).toContain(
      '"foo" is not a known setting, so it would be ignored. Expected one of: emails, accounts,',
    );
    expect(resolveSettings({ threshold: undefined }, 'props', HEARD).accounts).toHaveLength(1);
  });

  it('takes numbers but not digits in a string, which only context may give', () => {
    expect(
      resolveSettings({ thresholdCents: 2000 }, 'props', HEARD).accounts[0]?.thresholdCents,
    ).toBe(2000);
    expect(problemsOf({ thresholdCents: '2000' })).toContain(
      `"thresholdCents": expected a number, got the string '2000'. Expected a whole number of cents`,
    );
    expect(
      resolveSettings({ thresholdCents: '2000' }, 'context', HEARD).accounts[0]?.thresholdCents,
    ).toBe(2000);
  });

  it('takes emails as a list only, and says so', () => {
    expect(problemsOf({ emails: 'a@example.com' })).toContain(
      `"emails": "a@example.com" is not a list. Expected a list of addresses, e.g. ['oncall@example.com'].`,
    );
    expect(resolveSettings({ emails: [' a@example.com '] }, 'props', HEARD).emails).toEqual([
      'a@example.com',
    ]);
  });

  it('rejects an address with anything after its domain', () => {
    expect(problemsOf({ emails: ['a@example.com;'] })).toContain('"a@example.com;"');
  });

  it('takes accounts as a list only: a JSON string is context syntax', () => {
    const json = JSON.stringify([account('prod')]);
    expect(problemsOf({ accounts: json })).toContain(
      `"accounts": "${json}" is not a list of 1 to 100 accounts. Expected an array of { name, ` +
        'tokenParameterName?, thresholdCents?, criticalThresholdCents?, emails?, autoTopUpCents?, ' +
        'autoTopUpMonthlyCapCents?, autoTopUpBelowCents?, autoTopUpDryRun?, checkoutAmountCents? }.',
    );
    expect(resolveSettings({ accounts: json }, 'context', HEARD).accounts).toHaveLength(1);
  });

  it('accepts exactly 100 accounts and refuses 101', () => {
    const names = Array.from({ length: 101 }, (_, i) => `a${i}`);
    expect(
      resolveSettings({ accounts: names.slice(0, 100).map(account) }, 'props', HEARD).accounts,
    ).toHaveLength(100);
    expect(problemsOf({ accounts: names.map(account) })).toContain('1 to 100 accounts');
  });

  it('refuses an entry that is null, naming its index', () => {
    expect(problemsOf({ accounts: [account('prod'), null] })).toContain(
      '"accounts[1]": null is not an object.',
    );
  });

  it('refuses two names that differ only in punctuation', () => {
    expect(problemsOf({ accounts: [account('prod-eu'), account('prod_eu')] })).toContain(
      'the name "prod_eu" is used twice ("prod-eu" differs only',
    );
  });

  it('lists every single-account prop given next to accounts', () => {
    expect(
      problemsOf({ accounts: [account('prod')], accountName: 'x', thresholdCents: 1 }),
    ).toContain('single-account keys (accountName, thresholdCents) were both given');
  });

  it('refuses an empty string prop in prop words', () => {
    expect(problemsOf({ tokenParameterName: '' })).toContain(
      '"tokenParameterName" is empty. Expected a value, or leave the prop out for its default.',
    );
  });

  it('says how a construct adds a recipient: an address, or a topic of its own', () => {
    let message = '';
    try {
      resolveSettings({}, 'props');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(
      `e.g. emails: ['oncall@example.com'], or an existing SNS topic as "topic" (its subscribers then hear the alerts).`,
    );
  });

  it('trims text and takes a rate with spaces around it', () => {
    const config = resolveSettings(
      { tokenParameterName: ' /ngrok/key ', schedule: ' rate(5 minutes) ' },
      'props',
      HEARD,
    );
    expect(config.accounts[0]?.tokenParameterName).toBe('/ngrok/key');
    expect(config.schedulePeriodMinutes).toBe(5);
  });

  it('states open and closed ranges, and the example of a parameter name', () => {
    expect(problemsOf({ recoveryMarginCents: -1 })).toContain(
      'Expected a whole number of cents, digits only (1000 is $10.00) from 0 up.',
    );
    expect(problemsOf({ usageRefreshHours: 25 })).toContain(
      'Expected a whole number of hours from 1 to 24.',
    );
    expect(problemsOf({ slackWebhookParameterName: 'ssm-x' })).toContain(
      'e.g. /ngrok-balance-alert/slack-webhook-url.',
    );
    expect(problemsOf({ slackWorkspaceId: 't1', slackChannelId: 'C0123456789' })).toContain(
      '"slackWorkspaceId": "t1" is not a Slack workspace ID. Expected the ID shown in the Amazon Q Developer console, e.g. T0123456789.',
    );
  });

  it('refuses a number where text is expected', () => {
    expect(problemsOf({ accountName: 5 })).toContain('"accountName": 5 is not a string.');
  });

  it('shows a long value cut to 120 characters, and a shorter one whole', () => {
    const long = `/${'a'.repeat(200)}`;
    expect(problemsOf({ emails: [long] })).toContain(`"${long.slice(0, 116)}... is not`);
    const fits = 'b'.repeat(118);
    expect(problemsOf({ emails: [fits] })).toContain(`"${fits}" is not`);
  });
});
