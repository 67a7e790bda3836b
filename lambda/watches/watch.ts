/**
 * The shape every capability of the monitor has: a watch. One account's run is
 *
 *   load → observe → for each watch: effect (at most one I/O of its own) → decide (pure)
 *        → commit (state + notifications, one conditional write) → publish
 *
 * A watch's `decide` is a pure function of the run's input, the state so far and its
 * effect's result; it returns the state with its own slice updated and the notification list
 * with its own added (a watch that filters, like the snooze, or decorates, like key names,
 * returns the list changed). When the commit loses a race, every `decide` runs again on the
 * state the other writer left, with the same effect results: nothing is decided twice from
 * stale state, and no effect is repeated.
 */
import type { Logger } from '../common/log.ts';
import type {
  AccountConfig,
  ConfigProblem,
  MonitorConfig,
  Notification,
  NotificationKind,
  Thresholds,
} from '../common/types.ts';
import type { NgrokClientOptions } from '../ngrok/ngrok-client.ts';
import type { ObserveResult } from '../observe/observe.ts';
import type { AccountRecord } from '../store/account-record.ts';
import type { AlertState } from '../store/state.ts';
import type { RecordStore, Versioned } from '../store/store.ts';
import type { CheckStatus } from './alert-policy.ts';

/** What every watch sees of the run; the same for all of them, and read-only. */
export interface WatchInput {
  readonly account: AccountConfig;
  readonly config: MonitorConfig;
  /** The run's clock: every decision uses the time the run started. */
  readonly now: Date;
  readonly eventId?: string;
  readonly thresholds: Thresholds;
  readonly configProblems: readonly ConfigProblem[];
  /** The balance reading and what came with it. */
  readonly observed: ObserveResult;
  /** The API key, when it could be read; effects use it, decisions never do. */
  readonly apiKey?: string;
  /** Parts of the saved record that failed their checks and were treated as lost. */
  readonly stateProblems: readonly string[];
  /** A person asked for one purchase now (the "Buy now" command). */
  readonly buyNow?: boolean;
}

/** The state so far and the notifications so far, passed from watch to watch. */
export interface Step {
  /** The state the run started from (the committed state, when the commit is retried). */
  readonly previous: AlertState | undefined;
  readonly state: AlertState;
  readonly notifications: readonly Notification[];
  /** What the run means for a person; the balance watch sets it. */
  readonly status: CheckStatus;
  /** What the snooze kept back (logged). */
  readonly held: readonly Notification[];
  /** Kinds an effect already committed to the outbox this run (auto top-up's). */
  readonly announced: readonly NotificationKind[];
  /** The record's other parts, for watches that read them (auto top-up's status). */
  readonly record: AccountRecord;
}

/** What an effect may use: the ngrok client's options, the run's deadline, the store. */
export interface EffectContext {
  readonly ngrok?: NgrokClientOptions;
  /** Epoch ms on the HTTP client's clock when the run's calls must be done. */
  readonly runDeadline: number;
  /** The HTTP client's clock (tests move it). */
  readonly clock: () => number;
  readonly log: Logger;
  readonly runId: string;
  /** For the one watch that must write before its call (a purchase intent). */
  readonly store: RecordStore<AccountRecord>;
  readonly key: string;
  /** The account's record as the run last read or wrote it. */
  readonly latest: () => Versioned<AccountRecord>;
  /** An effect that wrote the record says so: the run's commit starts from that copy. */
  readonly wrote: (record: Versioned<AccountRecord>) => void;
  /** The results of the effects that ran before this one. */
  readonly earlier: <T>(w: Watch<T>) => T | undefined;
}

export interface Watch<E = unknown> {
  readonly name: string;
  /**
   * At most one I/O of its own, before the decisions (a purchase, a ledger read, a name
   * read). It must not throw for an expected failure: it returns what the decision needs to
   * know about it. `previous` is the state as loaded.
   */
  readonly effect?: (
    input: WatchInput,
    previous: AlertState | undefined,
    context: EffectContext,
  ) => Promise<E>;
  /** Pure: the step with this watch's slice and notifications applied. */
  readonly decide: (input: WatchInput, step: Step, effect: E | undefined) => Step;
}

/**
 * Lets a list hold watches with different effect types: each watch's `decide` only ever
 * receives its own effect's result, which the run loop keeps beside it.
 */
export function watch<E>(w: Watch<E>): Watch<E> {
  return w;
}

/** A watch in the list, whatever its effect's type: each `decide` gets only its own effect's result. */
// biome-ignore lint/suspicious/noExplicitAny: the list is heterogeneous by design (see above)
export type AnyWatch = Watch<any>;

/** A first run's state: no alert, no failures. */
export function freshState(now: Date): AlertState {
  return { level: 'ok', reason: 'balance', since: now.toISOString(), failures: 0 };
}

/** The step every run's decisions start from: the record's saved state, or a first run's. */
export function firstStep(now: Date, record: AccountRecord): Step {
  const previous = record.alert as AlertState | undefined;
  return {
    previous,
    state: previous ?? freshState(now),
    notifications: [],
    status: 'ok',
    held: [],
    announced: [],
    record,
  };
}
