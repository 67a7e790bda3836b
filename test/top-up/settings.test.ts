/**
 * Auto top-up settings: the contract's ranges and the rules between fields, as the user
 * meets them at synth (context strings and typed props), and the settings the run uses.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveSettings } from '../../lambda/config/validate.ts';
import { topUpSettingsFor } from '../../lambda/watches/top-up/settings.ts';

const ACCOUNT = { name: 'prod', tokenParameterName: '/ngrok/prod', thresholdCents: 1500 };

function errorsOf(entry: Record<string, unknown>): string[] {
  try {
    resolveSettings(
      { emails: ['oncall@example.com'], accounts: [{ ...ACCOUNT, ...entry }] },
      'props',
    );
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n  - ').slice(1);
  }
}

describe('auto top-up settings at synth', () => {
  it('ships the four settings from -c strings in the single-account shorthand', () => {
    // Act
    const config = resolveSettings(
      {
        autoTopUpCents: '2000',
        autoTopUpMonthlyCapCents: ' 6000 ',
        autoTopUpBelowCents: '0',
        autoTopUpDryRun: 'true',
        emails: 'oncall@example.com',
      },
      'context',
    );
    // Assess
    expect(config.accounts[0]).toMatchObject({
      autoTopUpCents: 2000,
      autoTopUpMonthlyCapCents: 6000,
      autoTopUpBelowCents: 0,
      autoTopUpDryRun: true,
    });
  });

  it.each([
    [500, true],
    [499, false],
    [50_000, true],
    [50_001, false],
    [2000.5, false],
    ['2000', false],
  ])('autoTopUpCents %s from props: accepted %s', (amount, ok) => {
    const errors = errorsOf({ autoTopUpCents: amount, autoTopUpMonthlyCapCents: 100_000 });
    expect(errors.length === 0).toBe(ok);
    if (!ok) {
      expect(errors).toEqual([
        typeof amount === 'string'
          ? `"accounts[0].autoTopUpCents": expected a number, got the string '${amount}'. ` +
            'Expected a whole number of cents, digits only (1000 is $10.00) from 500 to 50000, ' +
            'without quotes.'
          : `"accounts[0].autoTopUpCents": ${JSON.stringify(amount)} is not valid. Expected a ` +
            'whole number of cents, digits only (1000 is $10.00) from 500 to 50000.',
      ]);
    }
  });

  it('requires the cap, at least one purchase', () => {
    expect(errorsOf({ autoTopUpCents: 2000 })).toEqual([
      '"accounts[0].autoTopUpMonthlyCapCents" is missing. Expected the most auto top-up may buy ' +
        'per UTC month, in cents, at least "accounts[0].autoTopUpCents", e.g. 6000 for three ' +
        'purchases of $20.00.',
    ]);
    expect(errorsOf({ autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 1999 })).toEqual([
      '"accounts[0].autoTopUpMonthlyCapCents": 1999 is below "accounts[0].autoTopUpCents" 2000. ' +
        'Expected a monthly cap of at least 2000, or no purchase could ever be made.',
    ]);
    expect(errorsOf({ autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 2000 })).toEqual([]);
  });

  it('refuses top-up settings without autoTopUpCents, naming each', () => {
    expect(errorsOf({ autoTopUpMonthlyCapCents: 6000, autoTopUpDryRun: true })).toEqual([
      '"accounts[0].autoTopUpMonthlyCapCents", "accounts[0].autoTopUpDryRun" set without ' +
        '"accounts[0].autoTopUpCents". Expected "accounts[0].autoTopUpCents" (the amount of one ' +
        'purchase, in cents) to turn auto top-up on, or none of these settings.',
    ]);
    expect(errorsOf({ autoTopUpBelowCents: 10 })).toHaveLength(1);
  });

  it('checks the threshold and the dry-run flag by their kinds', () => {
    const base = { autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 6000 };
    expect(errorsOf({ ...base, autoTopUpBelowCents: -1 })).toEqual([
      '"accounts[0].autoTopUpBelowCents": -1 is not valid. Expected a whole number of cents, ' +
        'digits only (1000 is $10.00) from 0 up.',
    ]);
    expect(errorsOf({ ...base, autoTopUpDryRun: 'yes' })).toEqual([
      `"accounts[0].autoTopUpDryRun": expected true or false, got the string 'yes'. ` +
        'Expected true or false, without quotes.',
    ]);
  });
});

describe('topUpSettingsFor', () => {
  it('is off without an amount', () => {
    expect(topUpSettingsFor({}, 1500)).toBeUndefined();
  });

  it('buys below the warning threshold in force unless told otherwise, and buys for real by default', () => {
    const on = { autoTopUpCents: 2000, autoTopUpMonthlyCapCents: 6000 };
    expect(topUpSettingsFor(on, 1500)).toEqual({
      amountCents: 2000,
      monthlyCapCents: 6000,
      belowCents: 1500,
      dryRun: false,
    });
    expect(
      topUpSettingsFor({ ...on, autoTopUpBelowCents: 0, autoTopUpDryRun: true }, 1500),
    ).toMatchObject({ belowCents: 0, dryRun: true });
  });
});
