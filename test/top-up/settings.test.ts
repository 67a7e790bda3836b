import { describe, expect, it } from 'vitest';
import { validateTopUpSettings } from '../../lambda/top-up/settings.ts';

const WARNING = 1500;

describe('validateTopUpSettings', () => {
  it('is off when autoTopUpCents is not set', () => {
    expect(validateTopUpSettings({}, WARNING)).toEqual({ ok: true, settings: undefined });
  });

  it('accepts numbers from props and strings from -c, defaulting below to the warning threshold', () => {
    // Act
    const fromProps = validateTopUpSettings(
      { autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 6000 },
      WARNING,
    );
    const fromContext = validateTopUpSettings(
      {
        autoTopUpCents: '2000',
        autoTopUpMonthlyCapCents: ' 6000 ',
        autoTopUpBelowCents: '0',
        autoTopUpDryRun: 'true',
      },
      WARNING,
    );
    // Assess
    expect(fromProps).toEqual({
      ok: true,
      settings: { amountCents: 2000, monthlyCapCents: 6000, belowCents: WARNING, dryRun: false },
    });
    expect(fromContext).toEqual({
      ok: true,
      settings: { amountCents: 2000, monthlyCapCents: 6000, belowCents: 0, dryRun: true },
    });
  });

  it.each([
    [500, true],
    [499, false],
    [50_000, true],
    [50_001, false],
    [2000.5, false],
    ['20.00', false],
    [true, false],
  ])('autoTopUpCents %s: accepted %s', (amount, ok) => {
    const result = validateTopUpSettings(
      { autoTopUpCents: amount, autoTopUpMonthlyCapCents: 100_000 },
      WARNING,
    );
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.errors).toEqual([
        `"autoTopUpCents": ${typeof amount === 'string' ? `"${amount}"` : amount} is ` +
          "not a purchase ngrok accepts. Expected whole cents from 500 ($5.00, ngrok's minimum) " +
          'to 50000 ($500.00), e.g. 2000 for $20.00.',
      ]);
    }
  });

  function errorsOf(raw: Parameters<typeof validateTopUpSettings>[0]): readonly string[] {
    const result = validateTopUpSettings(raw, WARNING, 'accounts[0].');
    return result.ok ? [] : result.errors;
  }

  it('requires the cap, at least one purchase', () => {
    expect(errorsOf({ autoTopUpCents: 2000 })).toEqual([
      '"accounts[0].autoTopUpMonthlyCapCents" is missing. Expected the most auto top-up may buy ' +
        'per UTC month, in cents, at least "accounts[0].autoTopUpCents", e.g. 6000 for three ' +
        'purchases of $20.00.',
    ]);
    expect(errorsOf({ autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 1999 })).toEqual([
      '"accounts[0].autoTopUpMonthlyCapCents": 1999 is not a usable monthly cap. Expected whole ' +
        'cents, at least "accounts[0].autoTopUpCents" (2000), or no purchase could ever be made.',
    ]);
    expect(errorsOf({ autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 2000 })).toEqual([]);
  });

  it('names the cap rule without a number when the amount itself is wrong', () => {
    expect(errorsOf({ autoTopUpCents: 1, autoTopUpMonthlyCapCents: 0 })).toEqual([
      expect.stringContaining('"accounts[0].autoTopUpCents": 1 is not a purchase'),
      '"accounts[0].autoTopUpMonthlyCapCents": 0 is not a usable monthly cap. Expected whole ' +
        'cents, at least "accounts[0].autoTopUpCents", or no purchase could ever be made.',
    ]);
  });

  it('checks the threshold and the dry-run flag', () => {
    const base = { autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 6000 };
    expect(errorsOf({ ...base, autoTopUpBelowCents: -1 })).toEqual([
      '"accounts[0].autoTopUpBelowCents": -1 is not a balance. Expected whole cents, 0 or more ' +
        '(unset: the warning threshold).',
    ]);
    expect(errorsOf({ ...base, autoTopUpDryRun: 'yes' })).toEqual([
      '"accounts[0].autoTopUpDryRun": "yes" is not true or false. Expected true to announce ' +
        'purchases without making them, or false (the default).',
    ]);
    expect(validateTopUpSettings({ ...base, autoTopUpDryRun: false }, WARNING)).toMatchObject({
      settings: { dryRun: false },
    });
    expect(validateTopUpSettings({ ...base, autoTopUpDryRun: true }, WARNING)).toMatchObject({
      settings: { dryRun: true },
    });
  });

  it('refuses top-up settings without autoTopUpCents, naming each', () => {
    expect(errorsOf({ autoTopUpMonthlyCapCents: 6000, autoTopUpDryRun: true })).toEqual([
      '"accounts[0].autoTopUpMonthlyCapCents", "accounts[0].autoTopUpDryRun" set without ' +
        '"accounts[0].autoTopUpCents". Expected "accounts[0].autoTopUpCents" (the amount of one ' +
        'purchase, in cents) to turn auto top-up on, or none of these settings.',
    ]);
    expect(errorsOf({ autoTopUpBelowCents: 10 })).toHaveLength(1);
  });

  it('reads "false" as false, and refuses values that only coerce to numbers', () => {
    const base = { autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 6000 };
    expect(validateTopUpSettings({ ...base, autoTopUpDryRun: 'false' }, WARNING)).toMatchObject({
      settings: { dryRun: false },
    });
    for (const autoTopUpBelowCents of [true, null, [5]]) {
      expect(errorsOf({ ...base, autoTopUpBelowCents })).toHaveLength(1);
    }
  });

  it('refuses integers beyond the exact range and shortens long strings', () => {
    const long = '9'.repeat(60);
    const [error] = errorsOf({ autoTopUpCents: long, autoTopUpMonthlyCapCents: 6000 });
    expect(error).toContain(`"${'9'.repeat(40)}" is not a purchase`);
    expect(errorsOf({ autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 2 ** 53 })).toHaveLength(1);
  });
});
