/**
 * The commands a person (or an Amazon Q Developer button) sends the monitor function besides
 * a snooze: `{"check":{"account":"main"}}` runs a normal run for that one account and says
 * what it found; `{"topUp":{"account":"main"}}` asks for one purchase. Each takes the short
 * form too, the account name alone (`{"check":"main"}`), and so does the snooze, where it
 * means one day (`{"snooze":"main"}` is `{"snooze":{"account":"main","for":"24h"}}`): the
 * short forms keep the Amazon Q commands within the 100 characters its API allows.
 *
 * A refused payload is returned, not thrown, as the snooze command does: it is the caller's
 * mistake, not a failure of the function (no error alarm), and nothing changed.
 */
import type { Logger } from '../common/log.ts';
import { formatCents } from '../common/money.ts';
import type { AccountConfig, Level, MonitorConfig } from '../common/types.ts';
import { accountKey, readAccountRecord } from '../store/account-record.ts';
import type { AlertState } from '../store/state.ts';
import type { RecordStore } from '../store/store.ts';
import { ONE_DAY_DURATION } from '../watches/snooze.ts';
import type { RunRequest, RunSummary } from './monitor.ts';

/** The commands of this module, as the payload's one top-level key. */
export type AccountCommand = 'check' | 'topUp';

/** A command refused before anything ran: the field at fault and how to fix it. */
export interface Refusal {
  readonly field: string;
  readonly error: string;
}

/** Which command an invocation payload is, if it is one of these. */
export function accountCommandOf(event: unknown): AccountCommand | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  if ('check' in event) return 'check';
  if ('topUp' in event) return 'topUp';
  return undefined;
}

/**
 * The account a check or topUp payload names: `{"account": "<name>"}` or the name alone,
 * which must be one of the deployment's accounts.
 */
export function parseAccountCommand(
  command: AccountCommand,
  value: unknown,
  config: MonitorConfig,
): { readonly account: AccountConfig } | Refusal {
  const names = config.accounts.map((a) => a.name);
  const expected =
    `Expected {"${command}": {"account": "${names[0] ?? 'main'}"}} or {"${command}": ` +
    `"${names[0] ?? 'main'}"}.`;
  let name: unknown = value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const fields = value as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => key !== 'account');
    if (unknown !== undefined) {
      return {
        field: `${command}.${unknown}`,
        error: `"${command}.${unknown}" is not a known field. ${expected}`,
      };
    }
    name = fields.account;
  } else if (typeof value !== 'string') {
    return { field: command, error: `"${command}": ${show(value)} is not an account. ${expected}` };
  }
  const account = config.accounts.find((a) => a.name === name);
  if (account === undefined) {
    return {
      field: `${command}.account`,
      error:
        `"${command}.account": ${show(name)} is not an account of this deployment. Expected ` +
        `one of ${names.map((n) => `"${n}"`).join(', ')}.`,
    };
  }
  return { account };
}

/**
 * The snooze payload with its short form expanded: an account name alone snoozes that
 * account for one day. Anything else is passed on as it is, for the snooze command to check.
 */
export function expandSnooze(value: unknown): unknown {
  return typeof value === 'string' ? { account: value, for: ONE_DAY_DURATION } : value;
}

// ---------------------------------------------------------------------------------------------
// check

export type CheckCommandResult =
  | {
      readonly check: 'done';
      readonly account: string;
      /** `alerting`, `ok`, `check-failed` (the balance could not be read), or `duplicate`. */
      readonly status: string;
      readonly balanceCents?: number;
      /** The account's level after the run, as saved. */
      readonly level?: Level;
      /** The notifications this run sent for the account, by kind. */
      readonly sent: readonly string[];
      /** One line for a person: the account, balance, level and what was sent. */
      readonly summary: string;
    }
  | ({ readonly check: 'refused' } & Refusal);

export interface CheckCommandDeps {
  /** A normal run (runMonitor with the handler's clients). */
  readonly run: (request: RunRequest) => Promise<RunSummary>;
  readonly store: RecordStore<unknown>;
  readonly log: Logger;
}

/**
 * Runs a normal run for one account (its watches, alerts and reminders as on the schedule; no
 * other account and no weekly digest) and says what it found. Throws when the run fails, as a
 * scheduled run does.
 */
export async function runCheckCommand(
  value: unknown,
  config: MonitorConfig,
  deps: CheckCommandDeps,
): Promise<CheckCommandResult> {
  const parsed = parseAccountCommand('check', value, config);
  if (!('account' in parsed)) {
    deps.log.log('WARN', 'check command refused', { field: parsed.field, problem: parsed.error });
    return { check: 'refused', ...parsed };
  }
  const name = parsed.account.name;
  const summary = await deps.run({ only: name });
  const result = summary.accounts.find((a) => a.account === name);
  const saved = await deps.store.read(accountKey(name));
  const level = (readAccountRecord(saved.value).record.alert as AlertState | undefined)?.level;
  const sent = result?.notifications ?? [];
  const status = result?.status ?? 'duplicate';
  deps.log.log('INFO', 'check command ran', { account: name, status, sent: sent.join(',') });
  return {
    check: 'done',
    account: name,
    status,
    ...(result?.balanceCents !== undefined && { balanceCents: result.balanceCents }),
    ...(level !== undefined && { level }),
    sent,
    summary: checkSummary(name, status, result?.balanceCents, level, sent),
  };
}

function checkSummary(
  account: string,
  status: string,
  balanceCents: number | undefined,
  level: Level | undefined,
  sent: readonly string[],
): string {
  const balance =
    balanceCents === undefined
      ? status === 'check-failed'
        ? 'the balance could not be read'
        : 'no new reading'
      : `balance ${formatCents(balanceCents)}`;
  const levelText = level === undefined ? '' : `, level ${level}`;
  const sentText = sent.length === 0 ? 'nothing sent' : `sent ${sent.join(', ')}`;
  return `${account}: ${balance}${levelText}; ${sentText}.`;
}

// ---------------------------------------------------------------------------------------------
// topUp

export type TopUpCommandResult =
  | {
      readonly topUp: 'done';
      readonly account: string;
      /** What the purchase did, for a person. */
      readonly summary: string;
    }
  | { readonly topUp: 'refused'; readonly field?: string; readonly error: string };

/**
 * One purchase for an account, asked for from chat or the command line: the seam where the
 * purchase through auto top-up's intents, cap and announcements is wired in.
 */
export type BuyNow = (account: AccountConfig) => Promise<TopUpCommandResult>;

/**
 * One purchase through auto top-up's own path: a run of that account with the purchase asked
 * for, so the intent, the cap by ngrok's ledger, a purchase in progress, a stop, a hold and
 * the announcements are exactly an automatic purchase's. Refused, with auto top-up's own
 * reason, when no purchase started.
 */
export function buyThroughRun(run: (request: RunRequest) => Promise<RunSummary>): BuyNow {
  return async (account) => {
    const summary = await run({ only: account.name, buyNow: true });
    const result = summary.accounts.find((a) => a.account === account.name);
    const sent = result?.notifications ?? [];
    const reason = result?.autoTopUp ?? 'auto top-up: not buying, the balance could not be read';
    if (sent.includes('top-up-started') || sent.includes('top-up-succeeded')) {
      return { topUp: 'done', account: account.name, summary: `${account.name}: ${reason}` };
    }
    return { topUp: 'refused', error: reason };
  };
}

/** Checks the payload and hands the account to `buy`. Never buys on a refused payload. */
export async function runTopUpCommand(
  value: unknown,
  config: MonitorConfig,
  deps: { readonly buy: BuyNow; readonly log: Logger },
): Promise<TopUpCommandResult> {
  const parsed = parseAccountCommand('topUp', value, config);
  if (!('account' in parsed)) {
    deps.log.log('WARN', 'topUp command refused', { field: parsed.field, problem: parsed.error });
    return { topUp: 'refused', ...parsed };
  }
  if (parsed.account.autoTopUpCents === undefined) {
    const error =
      `auto top-up is not configured for "${parsed.account.name}": buy on the credits page, ` +
      'or set autoTopUpCents for the account';
    deps.log.log('WARN', 'topUp command refused', { field: 'topUp.account', problem: error });
    return { topUp: 'refused', field: 'topUp.account', error };
  }
  const result = await deps.buy(parsed.account);
  deps.log.log('INFO', 'topUp command', {
    account: parsed.account.name,
    result: result.topUp,
    ...(result.topUp === 'refused' && { problem: result.error }),
  });
  return result;
}

function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
