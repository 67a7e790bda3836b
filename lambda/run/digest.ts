/**
 * The weekly digest, a record like any other: one item for the deployment holds the week it
 * last sent and its unsent message. After every account has committed, the first run at or
 * after the digest time builds the digest from the accounts' closed weeks, commits it with a
 * conditional write that only one run can win for the week, publishes it and marks it sent.
 * No account's save waits on it; a digest whose publish failed goes out on the next run.
 */
import {
  type AccountConfig,
  LEVELS,
  type MonitorConfig,
  type Notification,
  type Observation,
} from '../common/types.ts';
import { resolveThresholds } from '../config/settings.ts';
import { claimUnsent, enqueue, type OutboxEntry } from '../store/outbox.ts';
import type { AlertState } from '../store/state.ts';
import { type RecordStore, update } from '../store/store.ts';
import { buildDigest, type DigestAccountInput, weekKey } from '../watches/digest.ts';
import { activeSnooze } from '../watches/snooze.ts';
import { flushOutbox, type Publish } from './publish.ts';

/** The store key of the deployment's digest record. */
export const DIGEST_KEY = 'digest';

interface DigestRecord {
  /** The week (weekKey) whose digest was committed. */
  readonly week?: string;
  readonly outbox: readonly OutboxEntry[];
}

function readDigestRecord(value: unknown): DigestRecord {
  const raw = (typeof value === 'object' && value !== null ? value : {}) as Partial<DigestRecord>;
  return {
    ...(typeof raw.week === 'string' && { week: raw.week }),
    outbox: Array.isArray(raw.outbox)
      ? raw.outbox.filter(
          (e): e is OutboxEntry =>
            typeof e === 'object' && e !== null && typeof e.id === 'string' && !!e.notification,
        )
      : [],
  };
}

export interface DigestRun {
  readonly now: Date;
  readonly runId: string;
  readonly publish: Publish;
  readonly parameters: ReadonlyMap<string, string>;
  /** Every account whose run committed, with the state it committed and this run's reading. */
  readonly accounts: readonly {
    account: AccountConfig;
    state: AlertState;
    observation?: Extract<Observation, { ok: true }>;
  }[];
}

/** Returns whether this run published a digest. */
export async function runDigest(
  config: MonitorConfig,
  deps: { readonly store: RecordStore<unknown> },
  run: DigestRun,
): Promise<boolean> {
  if (config.digest === 'off') return false;
  const week = weekKey(config, run.now);
  const parts: DigestAccountInput[] = run.accounts.map(({ account, state, observation }) => ({
    account: account.name,
    level: state.level,
    balanceCents: observation?.balanceCents,
    // The week closed at the start of this one: the week the digest is about.
    ...(state.week?.week === week && state.closedWeek && { closed: state.closedWeek }),
    forecast: observation?.forecast,
    snooze: activeSnooze(state.snooze, run.now),
    ...(state.keyNames && { keyNames: state.keyNames }),
  }));
  // The first deployment (no week closed yet) starts collecting and sends the following week.
  if (!parts.some((p) => p.closed)) return false;
  const claim = { by: run.runId, now: run.now };
  const committed = await update(deps.store, DIGEST_KEY, (current) => {
    const record = readDigestRecord(current.value);
    if (record.week !== undefined && record.week >= week) {
      const outbox = claimUnsent(record.outbox, claim);
      return JSON.stringify(outbox) === JSON.stringify(record.outbox)
        ? undefined
        : { ...record, outbox };
    }
    return {
      week,
      outbox: enqueue(record.outbox, [digestNotification(config, run, parts)], claim),
    };
  });
  const flushed = await flushOutbox(
    deps.store,
    DIGEST_KEY,
    committed,
    run.runId,
    run.publish,
    readDigestRecord,
  );
  if (flushed.error !== undefined) throw flushed.error;
  return flushed.sent.length > 0;
}

function digestNotification(
  config: MonitorConfig,
  run: DigestRun,
  parts: readonly DigestAccountInput[],
): Notification {
  const first = config.accounts[0] as AccountConfig;
  const single = config.accounts.length === 1;
  const worst = parts.reduce<Notification['level']>(
    (level, a) => (LEVELS.indexOf(a.level) > LEVELS.indexOf(level) ? a.level : level),
    'ok',
  );
  return {
    kind: 'weekly-digest',
    // One message for the deployment: named after its only account, or after the stack.
    account: single ? first.name : config.deployment,
    level: worst,
    reason: 'balance',
    // The structured copy's threshold fields are the first account's.
    thresholds: resolveThresholds(first, config, run.parameters).thresholds,
    thresholdParameterName: first.thresholdParameterName,
    configProblems: [],
    digest: buildDigest(config, parts, run.now),
    at: run.now.toISOString(),
  };
}
