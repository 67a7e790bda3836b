/**
 * Snooze: "we know, a top-up is coming Monday". A person invokes the function with
 * `{"snooze": {"account": "main", "for": "24h", "note": "..."}}` (or `"until"` a time); while
 * the snooze lasts, the run still decides everything as usual (so levels and reminder times
 * stay true) and this module holds back the notifications that would only repeat what
 * people already know. Pure: the clock, the account names and the saved state come in as
 * arguments.
 */

import { cutAt, oneLine } from '../common/text.ts';
import { LEVELS, type Level, type Notification, type NotificationKind } from '../common/types.ts';
import type { AlertState, SnoozeState } from '../store/state.ts';

export type { SnoozeState } from '../store/state.ts';

import { type Decision, notificationBase, type PolicyInput } from './alert-policy.ts';

/** The longest snooze allowed: long enough for a purchase approval, short enough to be noticed. */
export const MAX_SNOOZE_DAYS = 14;
/** A note is shown in every confirmation and kept in every snoozed account's state. */
export const MAX_NOTE_CHARS = 140;
export const ONE_DAY_MS = 24 * 3_600_000;
const MAX_SNOOZE_MS = MAX_SNOOZE_DAYS * ONE_DAY_MS;
/** `account` value that snoozes every account of the deployment. */
export const ALL_ACCOUNTS = '*';

/** The state this module reads and writes: the alert state plus the snooze. */
export type SnoozableState = AlertState & { readonly snooze?: SnoozeState };

/** A validated snooze command. `until: undefined` ends the snooze. */
export interface SnoozeRequest {
  /** One account name, or ALL_ACCOUNTS. */
  readonly account: string;
  readonly until: Date | undefined;
  readonly note?: string;
}

/** The payload is not a usable snooze command; nothing was changed. */
export class SnoozeRequestError extends Error {
  override readonly name = 'SnoozeRequestError';
  /** The payload field at fault, e.g. `snooze.until`. */
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.field = field;
  }
}

const FIELDS = ['account', 'until', 'for', 'note'];
/** ISO 8601 with a date, a time and an explicit zone: a snooze end must not depend on a locale. */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
/** A duration: a whole number of minutes, hours or days ("90m", "24h", "3d"). */
const DURATION = /^([1-9]\d{0,5})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: ONE_DAY_MS } as const;
/** What the command at the end of an alert and the `SnoozeCommand` output snooze for. */
export const ONE_DAY_DURATION = '24h';

/**
 * A payload that works when it is read: the deployment's first account, and an end time
 * tomorrow at 09:00 UTC (always in the future and within the limit), so a hint never goes stale.
 */
function example(accountNames: readonly string[], now: Date, end: 'for' | 'until'): string {
  const account = accountNames[0] ?? 'main';
  const when = end === 'for' ? `"for": "${ONE_DAY_DURATION}"` : `"until": "${exampleUntil(now)}"`;
  return `{"snooze": {"account": "${account}", ${when}, "note": "top-up approved"}}`;
}

function exampleUntil(now: Date): string {
  const tomorrow = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 9);
  return new Date(tomorrow).toISOString().replace(/\.000Z$/, 'Z');
}

/** Whether an invocation payload is a snooze command (and not a scheduled run or a test). */
export function isSnoozeEvent(event: unknown): event is { snooze: unknown } {
  return typeof event === 'object' && event !== null && 'snooze' in event;
}

/**
 * Validates the `snooze` member of an invocation payload against the deployment's account
 * names and the time of the invocation. The end is `until` (a time) or `for` (a duration
 * from now, to the minute, so a retried command is a repeat).
 * @throws SnoozeRequestError naming the field, the value given and the fix.
 */
export function parseSnoozeRequest(
  snooze: unknown,
  accountNames: readonly string[],
  now: Date,
): SnoozeRequest {
  if (typeof snooze !== 'object' || snooze === null || Array.isArray(snooze)) {
    throw new SnoozeRequestError(
      'snooze',
      `"snooze": ${show(snooze)} is not an object. Expected ${example(accountNames, now, 'for')}.`,
    );
  }
  const fields = snooze as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new SnoozeRequestError(
      `snooze.${unknown}`,
      `"snooze.${unknown}" is not a known field. Expected only ${FIELDS.join(', ')}, e.g. ` +
        `${example(accountNames, now, 'for')}.`,
    );
  }
  return {
    account: parseAccount(fields.account, accountNames),
    until: parseEnd(fields, accountNames, now),
    note: parseNote(fields.note),
  };
}

function parseAccount(value: unknown, accountNames: readonly string[]): string {
  if (value === ALL_ACCOUNTS || accountNames.includes(value as string)) return value as string;
  throw new SnoozeRequestError(
    'snooze.account',
    `"snooze.account": ${show(value)} is not an account of this deployment. Expected one of ` +
      `${accountNames.map((name) => `"${name}"`).join(', ')}, or "${ALL_ACCOUNTS}" for every account.`,
  );
}

function parseEnd(
  fields: Record<string, unknown>,
  accountNames: readonly string[],
  now: Date,
): Date | undefined {
  if ('for' in fields && 'until' in fields) {
    throw new SnoozeRequestError(
      'snooze.for',
      `"snooze.for" and "snooze.until" are both given. Expected one of them, e.g. ` +
        `${example(accountNames, now, 'for')}.`,
    );
  }
  if ('for' in fields) return parseFor(fields.for, now);
  return parseUntil(fields.until, now);
}

function parseFor(value: unknown, now: Date): Date {
  const match = typeof value === 'string' ? DURATION.exec(value) : null;
  if (!match) {
    throw new SnoozeRequestError(
      'snooze.for',
      `"snooze.for": ${show(value)} is not a duration. Expected a whole number of minutes, ` +
        `hours or days, at most ${MAX_SNOOZE_DAYS} days: "90m", "${ONE_DAY_DURATION}", "3d".`,
    );
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_SNOOZE_MS) {
    throw new SnoozeRequestError(
      'snooze.for',
      `"snooze.for": ${show(value)} is more than ${MAX_SNOOZE_DAYS} days. Expected at most ` +
        `"${MAX_SNOOZE_DAYS}d"; snooze again when it ends if you still need to.`,
    );
  }
  // To the minute: the same command sent twice within a minute (a retry) is a repeat.
  return new Date(Math.floor((now.getTime() + ms) / 60_000) * 60_000);
}

function parseUntil(value: unknown, now: Date): Date | undefined {
  if (value === null) return undefined;
  const time = typeof value === 'string' ? parseIsoTime(value) : undefined;
  if (time === undefined) {
    throw new SnoozeRequestError(
      'snooze.until',
      `"snooze.until": ${show(value)} is not a date and time. Expected ISO 8601 with a zone, ` +
        `e.g. "${exampleUntil(now)}", or null to end the snooze; or "for" with a duration ` +
        `instead, e.g. "for": "${ONE_DAY_DURATION}".`,
    );
  }
  const latest = new Date(now.getTime() + MAX_SNOOZE_MS);
  if (time.getTime() <= now.getTime()) {
    throw new SnoozeRequestError(
      'snooze.until',
      `"snooze.until": ${show(value)} is not in the future (it is now ${now.toISOString()}). ` +
        'Expected a later time, or null to end the snooze.',
    );
  }
  if (time.getTime() > latest.getTime()) {
    throw new SnoozeRequestError(
      'snooze.until',
      `"snooze.until": ${show(value)} is more than ${MAX_SNOOZE_DAYS} days ahead. Expected ` +
        `${latest.toISOString()} at the latest; snooze again when it ends if you still need to.`,
    );
  }
  return time;
}

/**
 * Parses strict ISO 8601; a calendar date that does not exist (February 30) and a zone
 * offset that does not (+24:00, +05:60) are refused.
 */
function parseIsoTime(text: string): Date | undefined {
  const match = ISO_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second, zoneHours, zoneMinutes] = match
    .slice(1, 9)
    .map((part) => Number(part ?? 0));
  if ((zoneHours as number) > 23 || (zoneMinutes as number) > 59) return undefined;
  const local = new Date(
    Date.UTC(year as number, (month as number) - 1, day, hour, minute, second as number),
  );
  if (
    local.getUTCMonth() !== (month as number) - 1 ||
    local.getUTCDate() !== day ||
    local.getUTCHours() !== hour ||
    local.getUTCMinutes() !== minute
  ) {
    return undefined;
  }
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time);
}

function parseNote(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new SnoozeRequestError(
      'snooze.note',
      `"snooze.note": ${show(value)} is not text. Expected a short string such as "top-up approved", or leave it out.`,
    );
  }
  const { length } = visibleNote(value);
  if (length > MAX_NOTE_CHARS) {
    throw new SnoozeRequestError(
      'snooze.note',
      `"snooze.note": ${show(value)} is ${length} characters long. Expected at most ` +
        `${MAX_NOTE_CHARS}: it is shown in every confirmation and the weekly digest.`,
    );
  }
  return sanitiseNote(value);
}

/** A note with control and formatting characters removed, on one line. */
function visibleNote(note: string): string {
  // Control characters, and the bidirectional and zero-width marks that could disguise text.
  return oneLine(note.replace(/[\p{Cc}\p{Cf}]/gu, ' '));
}

/**
 * A note as it is saved and shown: control and formatting characters removed, one line,
 * at most MAX_NOTE_CHARS characters; undefined when nothing is left. A command refuses a
 * longer note; the cut here only keeps a note the function writes itself in bounds.
 */
export function sanitiseNote(note: string): string | undefined {
  const visible = visibleNote(note);
  const cut = visible.length > MAX_NOTE_CHARS ? `${cutAt(visible, MAX_NOTE_CHARS - 1)}…` : visible;
  return cut === '' ? undefined : cut;
}

/** Shows a payload value in an error: JSON, cut short, so a huge or odd value stays readable. */
function show(value: unknown): string {
  const text = value === undefined ? 'missing' : JSON.stringify(value);
  return text.length > 60 ? `${cutAt(text, 57)}...` : text;
}

/** A published confirmation of a snooze command, for the whole team to see. */
export interface SnoozeConfirmation {
  readonly kind: 'snooze-set' | 'snooze-ended';
  readonly account: string;
  /** When the snooze ends (set) or ended (ended early), ISO 8601. */
  readonly until: string;
  readonly note?: string;
  /** The account's level when the command ran, so the confirmation says what is held. */
  readonly level: Level;
  /** ISO 8601 time of the command. */
  readonly at: string;
}

export interface SnoozeCommandResult {
  readonly state: SnoozableState;
  /** Absent when the command changed nothing (a repeat, or ending a snooze that was not set). */
  readonly confirmation?: SnoozeConfirmation;
}

/**
 * Applies a validated command to one account's saved state. Setting replaces any snooze;
 * ending one early keeps it with `until` set to now, so the next scheduled run sees the
 * snooze end and sends the one reminder owed if the problem is still there. A repeat of
 * the same command (a CLI retry) changes nothing and confirms nothing.
 */
export function applySnoozeCommand(
  previous: SnoozableState | undefined,
  request: Pick<SnoozeRequest, 'until' | 'note'>,
  account: string,
  now: Date,
): SnoozeCommandResult {
  const at = now.toISOString();
  const prior: SnoozableState = previous ?? {
    level: 'ok',
    reason: 'balance',
    since: at,
    failures: 0,
  };
  const current = activeSnooze(prior.snooze, now);
  if (request.until === undefined) {
    if (!current) return { state: prior };
    return {
      state: { ...prior, snooze: { ...current, until: at } },
      confirmation: {
        kind: 'snooze-ended',
        account,
        until: at,
        note: current.note,
        level: prior.level,
        at,
      },
    };
  }
  const until = request.until.toISOString();
  if (current && current.until === until && current.note === request.note) return { state: prior };
  const snooze: SnoozeState = {
    until,
    note: request.note,
    // A snooze that replaces another keeps what people were already told.
    level: maxLevel(prior.level, current?.level ?? prior.level),
    heldFailure: current?.heldFailure,
  };
  return {
    state: { ...prior, snooze },
    confirmation: {
      kind: 'snooze-set',
      account,
      until,
      note: request.note,
      level: prior.level,
      at,
    },
  };
}

/** The snooze in force at `now`, if any. */
export function activeSnooze(snooze: SnoozeState | undefined, now: Date): SnoozeState | undefined {
  return snooze && Date.parse(snooze.until) > now.getTime() ? snooze : undefined;
}

/**
 * What a snoozed account does with each kind of notification. Exhaustive on purpose: a new
 * kind (a failed auto top-up, say) does not compile until someone decides whether a snooze
 * may hold it.
 * - `send`: always goes out (news a person must act on, good news, or a request);
 * - `hold`: a reminder of something already known;
 * - `send-if-higher`: goes out only when the level rises above what people already heard;
 * - `send-if-key`: a failure goes out when the key was rejected or is missing (nothing will
 *   fix itself); an ordinary outage is held like a reminder;
 * - `send-if-failure-sent`: a recovery goes out only if its failure alert did.
 */
export type HoldRule = 'send' | 'hold' | 'send-if-higher' | 'send-if-key' | 'send-if-failure-sent';

export const SNOOZE_RULES: Readonly<Record<NotificationKind, HoldRule>> = {
  'balance-alert': 'send-if-higher',
  'balance-reminder': 'hold',
  // Good news, and the message that resolves an open incident: never held.
  'balance-improved': 'send',
  'balance-recovered': 'send',
  'monitor-failing': 'send-if-key',
  'monitor-reminder': 'hold',
  'monitor-recovered': 'send-if-failure-sent',
  'config-problem': 'send',
  test: 'send',
  // Money moving, or failing to: always heard, snoozed or not.
  'top-up-started': 'send',
  'top-up-succeeded': 'send',
  'top-up-failed': 'send',
  'top-up-action-required': 'send',
  'top-up-pending-long': 'send',
  'top-up-capped': 'send',
  'top-up-stopped': 'send',
  'top-up-dry-run': 'send',
  // A confirmation is the news itself; the digest and expiry warnings are not reminders.
  'snooze-set': 'send',
  'snooze-ended': 'send',
  'weekly-digest': 'send',
  'credit-expiry': 'send',
  // A spike is news the snooze was not about (a leaked key, a runaway loop): it goes out.
  'spike-started': 'send',
  'spike-reminder': 'hold',
  'spike-ended': 'send',
};

export interface SnoozeFilterResult {
  readonly state: SnoozableState;
  /** What to publish, in the order the policy produced it, plus any end-of-snooze reminder. */
  readonly notifications: readonly Notification[];
  /** What the snooze kept back this run (for the log and the week's counters). */
  readonly held: readonly Notification[];
}

/**
 * Applies the account's snooze to one run's decision. Without a snooze, the decision passes
 * unchanged. While snoozed, notifications are held per SNOOZE_RULES. On the first run at or
 * after the end, the snooze is cleared and, when a problem is still there and this run says
 * nothing about it, exactly one reminder goes out at once.
 */
export function applySnooze(input: PolicyInput, decision: Decision): SnoozeFilterResult {
  const state = decision.state as SnoozableState;
  const snooze = state.snooze;
  if (decision.status === 'duplicate' || snooze === undefined) {
    return { state, notifications: decision.notifications, held: [] };
  }
  if (activeSnooze(snooze, input.now) === undefined) return endSnooze(input, state, decision);

  let current = snooze;
  const notifications: Notification[] = [];
  const held: Notification[] = [];
  for (const notification of decision.notifications) {
    const { send, next } = judge(notification, current);
    current = next;
    (send ? notifications : held).push(notification);
  }
  return { state: { ...state, snooze: current }, notifications, held };
}

function judge(n: Notification, snooze: SnoozeState): { send: boolean; next: SnoozeState } {
  const rule = SNOOZE_RULES[n.kind];
  switch (rule) {
    case 'send':
      return { send: true, next: snooze };
    case 'hold':
      return { send: false, next: snooze };
    case 'send-if-higher': {
      const send = rank(n.level) > rank(snooze.level);
      return { send, next: send ? { ...snooze, level: n.level } : snooze };
    }
    case 'send-if-key': {
      const send = n.failure?.kind === 'auth' || n.failure?.kind === 'missing-key';
      return { send, next: send ? withoutHeldFailure(snooze) : { ...snooze, heldFailure: true } };
    }
    case 'send-if-failure-sent':
      return { send: !snooze.heldFailure, next: withoutHeldFailure(snooze) };
    default:
      return rule satisfies never;
  }
}

function withoutHeldFailure(snooze: SnoozeState): SnoozeState {
  const { heldFailure: _cleared, ...rest } = snooze;
  return rest;
}

function endSnooze(
  input: PolicyInput,
  state: SnoozableState,
  decision: Decision,
): SnoozeFilterResult {
  const { snooze: _ended, ...rest } = state;
  const notifications = [...decision.notifications];
  const at = input.now.toISOString();
  // A problem this run already speaks about (an alert, a reminder due anyway) needs no more.
  const spoken = (kinds: readonly NotificationKind[]) =>
    notifications.some((n) => kinds.includes(n.kind));
  let next: AlertState = rest;
  if (!input.observation.ok && rest.failureNotifiedAt !== undefined) {
    if (!spoken(['monitor-failing', 'monitor-reminder'])) {
      notifications.push({
        ...notificationBase(input, at),
        kind: 'monitor-reminder',
        level: rest.level,
        reason: rest.reason,
        balanceCents: rest.lastBalanceCents,
        failure: input.observation.failure,
        consecutiveFailures: rest.failures,
        since: rest.failureSince,
      });
      next = { ...next, failureNotifiedAt: at };
    }
  } else if (rest.level !== 'ok') {
    if (!spoken(['balance-alert', 'balance-reminder', 'balance-improved'])) {
      // A failed check that is not yet worth an alert still owes the balance reminder.
      const about = input.observation.ok
        ? input.observation
        : { balanceCents: rest.lastBalanceCents, forecast: undefined, forecastNote: undefined };
      const { balanceCents, forecast, forecastNote } = about;
      notifications.push({
        ...notificationBase(input, at),
        kind: 'balance-reminder',
        level: rest.level,
        reason: rest.reason,
        previousLevel: rest.level,
        balanceCents,
        forecast,
        forecastNote,
        since: rest.since,
      });
      next = { ...next, lastNotifiedAt: at, lastBalanceCents: balanceCents };
    }
  }
  return { state: next, notifications, held: [] };
}

const rank = (level: Level) => LEVELS.indexOf(level);
const maxLevel = (a: Level, b: Level): Level => (rank(a) >= rank(b) ? a : b);

/** Where the function runs, for the command people copy. */
export interface FunctionAddress {
  readonly region: string;
  readonly functionName: string;
}

/**
 * How a command ends a snooze: after a duration from when it runs (`{ for: "24h" }`, which
 * works whenever it is pasted), at a time, or now (`null`).
 */
export type SnoozeEnd = { readonly for: string } | Date | null;

/**
 * The exact `aws lambda invoke` command that snoozes `account` (a time is cut to whole
 * seconds, which read better). Account names are letters, digits, ".", "_" and "-", and the
 * note is sanitised and has its single quotes replaced, so the payload is safe inside single
 * quotes.
 */
export function snoozeCommand(
  address: FunctionAddress,
  account: string,
  end: SnoozeEnd,
  note?: string,
): string {
  const clean = note === undefined ? undefined : sanitiseNote(note)?.replaceAll("'", '’');
  const when =
    end === null
      ? { until: null }
      : end instanceof Date
        ? { until: end.toISOString().replace(/\.\d{3}Z$/, 'Z') }
        : { for: end.for };
  const payload = JSON.stringify({
    snooze: { account, ...when, ...(clean === undefined ? {} : { note: clean }) },
  });
  return (
    `aws lambda invoke --region ${address.region} --function-name ${address.functionName} ` +
    `--cli-binary-format raw-in-base64-out --payload '${payload}' /dev/stdout`
  );
}

/**
 * The command every balance alert ends with: snooze this account for a day from when the
 * command runs, so it works however late it is pasted.
 */
export function snoozeForADayCommand(address: FunctionAddress, notification: Notification): string {
  return snoozeCommand(address, notification.account, { for: ONE_DAY_DURATION });
}

/**
 * The state a scheduled run saves when a snooze command may have written the account's
 * state while the run was under way (SSM has no conditional write). The run re-reads the
 * state just before writing: when its snooze is no longer the one the run started from, a
 * command changed it, and the command's snooze wins; everything else is the run's.
 */
export function withLatestSnooze(
  next: SnoozableState,
  startedWith: SnoozeState | undefined,
  latest: SnoozeState | undefined,
): SnoozableState {
  if (sameSnooze(startedWith, latest)) return next;
  const { snooze: _run, ...rest } = next;
  return latest === undefined ? rest : { ...rest, snooze: latest };
}

function sameSnooze(a: SnoozeState | undefined, b: SnoozeState | undefined): boolean {
  return (
    a?.until === b?.until &&
    a?.note === b?.note &&
    a?.level === b?.level &&
    a?.heldFailure === b?.heldFailure
  );
}
