/**
 * The rules for one account's auto top-up settings, as one pure function the
 * configuration contract can call at synth (and the function at start-up). Values may
 * come from construct props (numbers, booleans) or from `-c key=value` (strings).
 */
import { formatCents } from '../money.ts';
import type { TopUpSettings } from './decide.ts';

/** ngrok refuses a purchase above this many cents. */
export const MAX_PURCHASE_CENTS = 50_000;
/** ngrok's documented minimum purchase (USD 5). */
export const MIN_PURCHASE_CENTS = 500;

/** One account's settings as written by the user; every field may be missing or mistyped. */
export interface RawTopUpSettings {
  readonly autoTopUpCents?: unknown;
  readonly autoTopUpMonthlyCapCents?: unknown;
  readonly autoTopUpBelowCents?: unknown;
  readonly autoTopUpDryRun?: unknown;
}

export type TopUpSettingsResult =
  /** Auto top-up is off (no `autoTopUpCents`) and nothing else was set. */
  | { readonly ok: true; readonly settings: undefined }
  | { readonly ok: true; readonly settings: TopUpSettings }
  /** Each message names the setting, the value given and the fix. */
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Validates one account's auto top-up settings.
 * @param raw the four settings as given.
 * @param defaultBelowCents the account's warning threshold: `autoTopUpBelowCents` when unset.
 * @param keyPrefix how the settings are addressed in messages, e.g. `accounts[0].`.
 */
export function validateTopUpSettings(
  raw: RawTopUpSettings,
  defaultBelowCents: number,
  keyPrefix = '',
): TopUpSettingsResult {
  const errors: string[] = [];
  const name = (key: keyof RawTopUpSettings) => `"${keyPrefix}${key}"`;
  const integer = (key: keyof RawTopUpSettings, min: number, max: number, fix: string) => {
    const value = raw[key];
    const parsed = toInteger(value);
    if (parsed === undefined || parsed < min || parsed > max) {
      errors.push(`${name(key)}: ${show(value)} ${fix}`);
      return undefined;
    }
    return parsed;
  };

  if (raw.autoTopUpCents === undefined) {
    const stray = (
      ['autoTopUpMonthlyCapCents', 'autoTopUpBelowCents', 'autoTopUpDryRun'] as const
    ).filter((key) => raw[key] !== undefined);
    if (stray.length === 0) return { ok: true, settings: undefined };
    return {
      ok: false,
      errors: [
        `${stray.map(name).join(', ')} set without ${name('autoTopUpCents')}. Expected ` +
          `${name('autoTopUpCents')} (the amount of one purchase, in cents) to turn auto top-up ` +
          'on, or none of these settings.',
      ],
    };
  }
  const amount = integer(
    'autoTopUpCents',
    MIN_PURCHASE_CENTS,
    MAX_PURCHASE_CENTS,
    `is not a purchase ngrok accepts. Expected whole cents from ${MIN_PURCHASE_CENTS} ` +
      `(${formatCents(MIN_PURCHASE_CENTS)}, ngrok's minimum) to ${MAX_PURCHASE_CENTS} ` +
      `(${formatCents(MAX_PURCHASE_CENTS)}), e.g. 2000 for ${formatCents(2000)}.`,
  );
  let cap: number | undefined;
  if (raw.autoTopUpMonthlyCapCents === undefined) {
    errors.push(
      `${name('autoTopUpMonthlyCapCents')} is missing. Expected the most auto top-up may buy ` +
        `per UTC month, in cents, at least ${name('autoTopUpCents')}, e.g. 6000 for three ` +
        `purchases of ${formatCents(2000)}.`,
    );
  } else {
    cap = integer(
      'autoTopUpMonthlyCapCents',
      amount ?? 1,
      Number.MAX_SAFE_INTEGER,
      `is not a usable monthly cap. Expected whole cents, at least ${name('autoTopUpCents')}` +
        (amount === undefined ? '' : ` (${amount})`) +
        ', or no purchase could ever be made.',
    );
  }
  const below =
    raw.autoTopUpBelowCents === undefined
      ? defaultBelowCents
      : integer(
          'autoTopUpBelowCents',
          0,
          Number.MAX_SAFE_INTEGER,
          'is not a balance. Expected whole cents, 0 or more (unset: the warning threshold).',
        );
  const dryRun = toBoolean(raw.autoTopUpDryRun);
  if (dryRun === undefined) {
    errors.push(
      `${name('autoTopUpDryRun')}: ${show(raw.autoTopUpDryRun)} is not true or false. ` +
        'Expected true to announce purchases without making them, or false (the default).',
    );
  }
  if (errors.length > 0 || amount === undefined || cap === undefined || below === undefined) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    settings: {
      amountCents: amount,
      monthlyCapCents: cap,
      belowCents: below,
      dryRun: dryRun ?? false,
    },
  };
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? parsed : undefined;
  }
  return undefined;
}

function toBoolean(value: unknown): boolean | undefined {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  return undefined;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
}
