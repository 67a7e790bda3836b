/**
 * The money model: two or three monitor runs at once, each the real `runTopUp` over the real
 * ngrok client, stopped at every I/O point (balance read, store read, conditional write,
 * ledger read, POST, status read, publish) so that the sequence chooses which run moves
 * next, and between any two steps ngrok, the user and the clock move too: purchases settle
 * or need action, purchases by hand, refunds, usage, time (past month ends), requests that
 * land and then time out or answer 429/5xx, failing status reads, store writes whose outcome
 * is unknown, runs that crash, a store wiped, rolled back or filled with garbage, and
 * configuration changes. The monitor's clock is off ngrok's by up to ±5 minutes (each run
 * by up to 30 s more), and now and then it jumps by minutes (`clockJump`).
 *
 * The oracles are the README's promises (see `check`), not the code's bookkeeping.
 */
import type { Notification } from '../../../lambda/common/types.ts';
import type { NgrokClientOptions } from '../../../lambda/ngrok/ngrok-client.ts';
import type { AccountRecord } from '../../../lambda/store/account-record.ts';
import { claimedBy, claimUnsent, release, removeSent } from '../../../lambda/store/outbox.ts';
import { MemoryStore, type RecordStore, update } from '../../../lambda/store/store.ts';
import type { TopUpSettings, TopUpState } from '../../../lambda/watches/top-up/decide.ts';
import { runTopUp } from '../../../lambda/watches/top-up/run.ts';
import { type ModelPurchase, NgrokModel, purchaseJson, type Status } from './ngrok-model.ts';

export const KEY = 'account#acct';
const MIN = 60_000;
/** A Lambda invocation ends by then: a run still going is cut off (it crashes). */
const RUN_LIMIT_MS = 14 * MIN;

/** A small, fast, seeded generator (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  weighted<T extends string>(table: Readonly<Record<T, number>>): T {
    const entries = Object.entries(table) as [T, number][];
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return (entries.at(-1) as [T, number])[0];
  }
}

interface Gate {
  readonly label: string;
  readonly resume: () => void;
}

export interface Run {
  readonly id: string;
  readonly skew: number;
  readonly settings: TopUpSettings;
  readonly startedAt: number;
  gate?: Gate;
  parked?: () => void;
  done: boolean;
  crashed: boolean;
  balanceReadAt?: number;
  ledgerReadAt?: number;
  /** The record as this run last read or wrote it: what its decisions start from. */
  view?: AccountRecord;
  /** Entries published and not yet removed from the outbox. */
  unremoved: number;
  error?: unknown;
}

/**
 * What was known when an intent was decided: when it was first stored, or when a run
 * decided again to send one that ngrok had refused before it started (`blocked`).
 */
interface IntentInfo {
  readonly amountCents: number;
  readonly cap: number;
  readonly balanceReadAt: number;
  readonly ledgerReadAt: number;
}

/** What a POST does: answer, or land (or not) and then fail in one of these ways. */
export type PostFault =
  | 'ok'
  | 'landThenTimeout'
  | 'landThen429'
  | 'landThen503'
  | 'timeout'
  | 'rateLimited'
  | 'unavailable';
export type ReadFault = 'ok' | 'fail';

interface Decided {
  readonly id: string;
  readonly kind: string;
  readonly purchaseId?: string;
}

export interface WorldOptions {
  readonly seed: number;
  /** ngrok's time at the start (ms). */
  readonly start: number;
  readonly settings: TopUpSettings;
  /** Faults of ngrok and the store while runs go (never during the final settling). */
  readonly faults: boolean;
  /** Store wiped, rolled back or filled with garbage. */
  readonly damage: boolean;
  /** Keep a readable trace of every step (slower: for failing seeds). */
  readonly trace?: boolean;
}

export const SETTINGS: TopUpSettings = {
  amountCents: 2000,
  monthlyCapCents: 5000,
  belowCents: 1000,
  dryRun: false,
};

export class World {
  readonly rng: Rng;
  t: number;
  readonly ngrok: NgrokModel;
  readonly mem = new MemoryStore<AccountRecord>();
  settings: TopUpSettings;
  faults: boolean;
  /** The monitor's clock against ngrok's (each run adds up to ±30 s of its own). */
  skew: number;
  readonly runs: Run[] = [];
  private runCount = 0;
  /** Every key the monitor stored in an intent, with what its decision saw. */
  readonly intents = new Map<string, IntentInfo>();
  readonly decided = new Map<string, Decided>();
  readonly published: { id: string; kind: string; purchaseId?: string }[] = [];
  readonly violations: string[] = [];
  readonly trace: string[] = [];
  /** Snapshots of the stored record, for rollbacks (same epoch only: see README Limits). */
  private readonly history: AccountRecord[] = [];
  /** What the store holds now (kept beside it: MemoryStore reads are async). */
  current: AccountRecord | undefined;
  /** Scripted answers, used in order before any random fault (regression tests). */
  readonly script: { post: PostFault[]; read: ReadFault[]; ledger: ReadFault[] } = {
    post: [],
    read: [],
    ledger: [],
  };
  damaged = false;
  /** Own purchases unresolved at ngrok when the record was lost (see `lose`). */
  readonly lostOpen = new Set<string>();
  /** Keys of the unresolved intents of lost records: a POST of one may still be on its way. */
  private readonly lostKeys = new Set<string>();
  mayRepeat = false;
  keyReuse = 0;

  constructor(readonly options: WorldOptions) {
    this.rng = new Rng(options.seed);
    this.t = options.start;
    this.ngrok = new NgrokModel(() => this.t);
    this.settings = options.settings;
    this.faults = options.faults;
    this.skew = this.rng.between(-300, 300) * 1000;
  }

  log(line: string): void {
    if (!this.options.trace) return;
    this.trace.push(`${new Date(this.t).toISOString().slice(5, 19)} ${line}`);
  }

  active(): Run[] {
    return this.runs.filter((r) => !r.done && !r.crashed);
  }

  // ---- The scheduler ---------------------------------------------------------------------

  private park(run: Run, label: string): Promise<void> {
    if (run.crashed) return new Promise(() => {});
    return new Promise((resume) => {
      run.gate = { label, resume };
      const parked = run.parked;
      run.parked = undefined;
      parked?.();
    });
  }

  /** Starts a run and lets it go to its first I/O point. */
  async startRun(skew?: number): Promise<Run> {
    const run: Run = {
      id: `run${++this.runCount}`,
      skew: skew ?? this.skew + this.rng.between(-30, 30) * 1000,
      settings: this.settings,
      startedAt: this.t,
      done: false,
      crashed: false,
      unremoved: 0,
    };
    this.runs.push(run);
    this.log(`${run.id} starts (clock ${Math.round(run.skew / 1000)} s)`);
    await new Promise<void>((parked) => {
      run.parked = parked;
      this.body(run).then(
        () => this.finish(run),
        (error: unknown) => {
          run.error = error;
          this.finish(run);
        },
      );
    });
    return run;
  }

  private finish(run: Run): void {
    run.done = true;
    const parked = run.parked;
    run.parked = undefined;
    parked?.();
  }

  /** Lets a run make its pending I/O and go on to the next one (or its end). */
  async step(run: Run): Promise<void> {
    const gate = run.gate;
    if (!gate || run.done || run.crashed) return;
    run.gate = undefined;
    // Every step takes a moment: events are ordered in ngrok's time too.
    this.t += 1;
    await new Promise<void>((parked) => {
      run.parked = parked;
      gate.resume();
    });
  }

  /** Runs one run to its end. */
  async complete(run: Run): Promise<void> {
    for (let i = 0; i < 200 && !run.done && !run.crashed; i++) await this.step(run);
  }

  crash(run: Run): void {
    if (run.done || run.crashed) return;
    run.crashed = true;
    if (run.unremoved > 0) this.mayRepeat = true;
    this.log(`${run.id} crashes at ${run.gate?.label}`);
  }

  advance(ms: number): void {
    this.t += ms;
    for (const run of this.active()) if (this.t - run.startedAt > RUN_LIMIT_MS) this.crash(run);
  }

  // ---- One monitor run ---------------------------------------------------------------------

  private async body(run: Run): Promise<void> {
    await this.park(run, 'balance');
    if (this.faults && this.rng.chance(0.03)) return; // the check failed: no top-up
    const balanceCents = this.ngrok.balance();
    run.balanceReadAt = this.t;
    const store = this.storeFor(run);
    const now = new Date(run.startedAt + run.skew);
    try {
      const start = await store.read(KEY);
      const { status } = await runTopUp(
        {
          account: 'acct',
          settings: run.settings,
          balanceCents,
          apiKey: 'model-key',
          now,
          deadline: now.getTime() + 10 * MIN,
          ngrok: this.clientFor(run),
          runId: run.id,
          toNotification: (t) => ({ kind: t.kind, topUp: t }) as unknown as Notification,
        },
        { store, key: KEY, start },
      );
      if (this.options.trace) this.log(`${run.id}: ${status}`);
    } catch (error) {
      this.log(`${run.id} top-up threw: ${String(error).slice(0, 80)}`);
    }
    await this.publish(run, store, now);
  }

  private async publish(run: Run, store: RecordStore<AccountRecord>, now: Date): Promise<void> {
    try {
      const claim = { by: run.id, now };
      const record = await update(store, KEY, (current) => {
        if (!current.value) return undefined;
        const outbox = claimUnsent(current.value.outbox ?? [], claim);
        return JSON.stringify(outbox) === JSON.stringify(current.value.outbox)
          ? undefined
          : { ...current.value, outbox };
      });
      const entries = claimedBy(record.value?.outbox ?? [], run.id);
      const sent = new Set<string>();
      const failed = new Set<string>();
      for (const entry of entries) {
        await this.park(run, 'publish');
        if (this.faults && this.rng.chance(0.1)) {
          failed.add(entry.id);
          continue;
        }
        const t = (
          entry.notification as unknown as { topUp: { kind: string; purchaseId?: string } }
        ).topUp;
        this.published.push({ id: entry.id, kind: t.kind, purchaseId: t.purchaseId });
        this.log(`${run.id} publishes ${entry.id} ${t.kind}`);
        sent.add(entry.id);
        run.unremoved++;
      }
      if (sent.size + failed.size === 0) return;
      await update(store, KEY, (current) =>
        current.value
          ? {
              ...current.value,
              outbox: release(removeSent(current.value.outbox, sent, run.id), failed, run.id),
            }
          : undefined,
      );
      run.unremoved = 0;
    } catch {
      // A store failure: the claims lapse and the next run publishes what is left.
      if (run.unremoved > 0) this.mayRepeat = true;
    }
  }

  private storeFor(run: Run): RecordStore<AccountRecord> {
    return {
      read: async (key) => {
        await this.park(run, 'store read');
        if (this.faults && this.rng.chance(0.02)) throw new Error('store read failed');
        const read = await this.mem.read(key);
        run.view = read.value;
        return read;
      },
      write: async (key, version, value) => {
        await this.park(run, 'store write');
        const fault = this.faults
          ? this.rng.weighted({ ok: 94, before: 3, after: 3 })
          : ('ok' as const);
        if (fault === 'before') throw new Error('store write timed out (not written)');
        const written = await this.mem.write(key, version, value);
        if (written !== undefined) {
          run.view = value;
          this.stored(run, value);
        }
        if (fault === 'after') throw new Error('store write timed out (written)');
        return written;
      },
    };
  }

  /** Bookkeeping of what a write stored: new intents and newly decided notifications. */
  private stored(run: Run, value: AccountRecord): void {
    this.current = value;
    this.history.push(value);
    if (this.history.length > 30) this.history.shift();
    for (const intent of value.topUp?.intents ?? []) {
      if (!this.intents.has(intent.key)) {
        this.intents.set(intent.key, this.decision(run, intent.amountCents));
      }
    }
    for (const entry of value.outbox ?? []) {
      if (this.decided.has(entry.id)) continue;
      const t = (entry.notification as unknown as { topUp: { kind: string; purchaseId?: string } })
        .topUp;
      this.decided.set(entry.id, { id: entry.id, kind: t.kind, purchaseId: t.purchaseId });
    }
  }

  /** What `run` knew when it decided a purchase of `amountCents`. */
  private decision(run: Run, amountCents: number): IntentInfo {
    return {
      amountCents,
      cap: run.settings.monthlyCapCents,
      balanceReadAt: run.balanceReadAt ?? this.t,
      ledgerReadAt: run.ledgerReadAt ?? this.t,
    };
  }

  // ---- ngrok over HTTP, for the real client ------------------------------------------------

  private clientFor(run: Run): NgrokClientOptions {
    return {
      baseUrl: 'http://ngrok.model',
      fetch: (input, init) => this.fetchFor(run, String(input), init),
      sleep: async () => {},
      random: () => 0.5,
      now: () => this.t + run.skew,
      maxAttempts: 2,
      attemptTimeoutMs: 10_000,
    };
  }

  private async fetchFor(run: Run, url: string, init?: RequestInit): Promise<Response> {
    const { pathname } = new URL(url);
    const method = init?.method ?? 'GET';
    await this.park(run, `${method} ${pathname}`);
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    const error = (status: number, reason?: string, purchaseId?: string) =>
      json(status, {
        statusCode: status,
        msg: reason ?? 'error',
        details: { ...(reason && { reason }), ...(purchaseId && { purchase_id: purchaseId }) },
      });
    const timeout = () => {
      const e = new Error('The operation was aborted due to timeout');
      e.name = 'TimeoutError';
      return e;
    };
    if (pathname === '/credits/transactions') {
      const scripted = this.script.ledger.shift();
      if (scripted === 'fail' || (!scripted && this.faults && this.rng.chance(0.1))) {
        return error(503);
      }
      run.ledgerReadAt = this.t;
      return json(200, { items: this.ngrok.transactions() });
    }
    if (pathname === '/credits/purchases' && method === 'POST') {
      const key = new Headers(init?.headers).get('idempotency-key') ?? '';
      const amount = (JSON.parse(String(init?.body)) as { amount: number }).amount;
      if (run.settings.dryRun) this.violations.push(`${run.id}: a dry run sent a purchase`);
      const info = this.intents.get(key);
      if (!this.damaged && (!info || info.amountCents !== amount)) {
        this.violations.push(`${run.id}: POST ${key} ${amount} without a stored intent for it`);
      }
      const fault: PostFault =
        this.script.post.shift() ??
        (this.faults
          ? this.rng.weighted({
              ok: 60,
              landThenTimeout: 8,
              landThen429: 5,
              landThen503: 5,
              timeout: 8,
              rateLimited: 7,
              unavailable: 7,
            })
          : 'ok');
      if (fault === 'timeout') throw timeout();
      if (fault === 'rateLimited') return error(429, 'rate_limited');
      if (fault === 'unavailable') return error(503);
      const result = this.ngrok.post(key, amount);
      if (result.status === 200 && result.created) {
        this.log(`${run.id} POST creates ${result.purchase.id}`);
        if (this.lostKeys.has(key)) this.lostOpen.add(result.purchase.id);
        // A refused intent that starts now was decided again, on this run's readings.
        const mine = run.view?.topUp?.intents.find((i) => i.key === key);
        if (mine?.blocked === true) this.intents.set(key, this.decision(run, amount));
      }
      if (result.status === 409 && result.reason === 'idempotency_key_reuse') this.keyReuse++;
      if (fault === 'landThenTimeout') throw timeout();
      if (fault === 'landThen429') return error(429, 'rate_limited');
      if (fault === 'landThen503') return error(503);
      if (result.status === 200) return json(200, purchaseJson(result.purchase));
      if (result.status === 409) return error(409, result.reason, result.purchaseId);
      return error(429);
    }
    const id = decodeURIComponent(pathname.replace('/credits/purchases/', ''));
    const scripted = this.script.read.shift();
    if (scripted === 'fail' || (!scripted && this.faults && this.rng.chance(0.15))) {
      if (this.rng.chance(0.5)) throw timeout();
      return error(503);
    }
    const purchase = this.ngrok.purchases.find((p) => p.id === id);
    return purchase ? json(200, purchaseJson(purchase)) : error(404);
  }

  // ---- What happens around the runs --------------------------------------------------------

  /** The monitor's clock is set anew (NTP): another offset within ±5 minutes. */
  clockJump(): void {
    this.skew = this.rng.between(-300, 300) * 1000;
    this.log(`monitor clock now off by ${Math.round(this.skew / 1000)} s`);
  }

  settle(p: ModelPurchase, status: Status): void {
    this.t += 1;
    const lag = this.rng.chance(0.3)
      ? this.rng.between(0, 24 * 60) * MIN
      : this.rng.between(0, 10) * MIN;
    this.ngrok.settle(p, status, lag, this.rng.between(0, 5) * MIN);
    this.log(`ngrok: ${p.id} ${status} (listed after ${Math.round(lag / MIN)} min)`);
  }

  byHand(): void {
    this.t += 1;
    const status = this.rng.weighted<Status>({
      succeeded: 5,
      pending: 2,
      actionRequired: 2,
      failed: 1,
    });
    const amount = this.rng.pick([500, 1000, 2000, 2500]);
    const lag = this.rng.between(0, 24 * 60) * MIN;
    this.ngrok.byHand(amount, status, lag, this.rng.between(0, 5) * MIN);
    this.log(`by hand: ${amount} ${status}`);
  }

  /**
   * The bound for a lost record: the purchase of this monitor's that ngrok had unresolved
   * when the record was lost, or that a POST already on its way then starts (one at most:
   * ngrok allows one unresolved purchase), may be bought past, once. Noted here.
   */
  private lose(): void {
    this.damaged = true;
    const open = this.ngrok.unresolved();
    if (open?.key !== undefined) this.lostOpen.add(open.id);
    for (const intent of this.current?.topUp?.intents ?? []) {
      if (intent.phase === 'open') this.lostKeys.add(intent.key);
    }
  }

  wipe(): void {
    this.lose();
    this.mem.put(KEY, undefined);
    this.current = undefined;
    this.log('store wiped');
  }

  rollback(): void {
    const epoch = this.history.at(-1)?.topUp?.epoch;
    const same = this.history.filter((h) => h.topUp?.epoch === epoch);
    if (same.length < 2) return;
    this.damaged = true;
    const to = this.rng.pick(same.slice(0, -1));
    this.mem.put(KEY, to);
    this.current = to;
    this.log(`store rolled back to seq ${to.topUp?.seq}`);
  }

  hostile(): void {
    this.lose();
    const base = this.history.at(-1)?.topUp;
    const garbage: unknown[] = [
      { epoch: 5 },
      'x',
      { ...base, seq: -1 },
      { ...base, intents: [{ id: 'x', amountCents: -5000 }] },
      { ...base, holdUntil: 'soon' },
      {
        ...base,
        intents: [...(base?.intents ?? []), { ...base?.intents?.[0], amountCents: 1e12 }],
      },
      { ...base, failures: Number.NaN },
    ];
    this.current = { outbox: [], topUp: this.rng.pick(garbage) as TopUpState };
    this.mem.put(KEY, this.current);
    this.log('store filled with garbage');
  }

  // ---- The oracles ---------------------------------------------------------------------------

  /** The README's promises, checked over everything ngrok and the outbox saw. */
  check(): string[] {
    const v = [...this.violations];
    const month = (t: number) => new Date(t).toISOString().slice(0, 7);
    const own = this.ngrok.purchases.filter((p) => p.key !== undefined && this.intents.has(p.key));
    const hand = this.ngrok.purchases.filter((p) => p.key === undefined);
    const charged = (q: ModelPurchase, decision: number) =>
      q.status === 'succeeded' && !(q.refundedAt !== undefined && q.refundedAt <= decision);
    for (const p of own) {
      if (p.status !== 'succeeded') continue;
      const info = this.intents.get(p.key ?? '') as IntentInfo;
      const decision = info.ledgerReadAt;
      const before = (q: ModelPurchase) => q.createdAt <= p.createdAt && charged(q, decision);
      // What a lost record may let through: see `lose`.
      const allowed =
        info.cap +
        own
          .filter((q) => this.lostOpen.has(q.id) && before(q))
          .reduce((s, q) => s + q.amountCents, 0);
      const listed = (q: ModelPurchase) => (q.grantVisibleAt ?? Infinity) <= decision;
      // The cap by grant month: every purchase granted that month (by hand: once listed).
      const gm = month(p.succeededAt ?? 0);
      const byGrant = [
        ...own.filter((q) => before(q) && month(q.succeededAt ?? 0) === gm),
        ...hand.filter((q) => before(q) && listed(q) && month(q.succeededAt ?? 0) === gm),
      ].reduce((s, q) => s + q.amountCents, 0);
      if (byGrant > allowed) {
        v.push(`cap by grant month ${gm}: ${byGrant} > ${info.cap} when ${p.id} was bought`);
      }
      // The cap by start month: this monitor's purchases by the month they started.
      const sm = month(p.createdAt);
      const byStart = [
        ...own.filter((q) => before(q) && month(q.createdAt) === sm),
        ...hand.filter((q) => before(q) && listed(q) && month(q.succeededAt ?? 0) === sm),
      ].reduce((s, q) => s + q.amountCents, 0);
      if (byStart > allowed) {
        v.push(`cap by start month ${sm}: ${byStart} > ${info.cap} when ${p.id} was bought`);
      }
    }
    // One charge per low spell: a purchase is decided on a balance read after the previous
    // charge's credit showed in it.
    const ordered = [...own].sort((a, b) => a.createdAt - b.createdAt);
    for (let i = 1; i < ordered.length; i++) {
      const prev = ordered[i - 1] as ModelPurchase;
      const next = ordered[i] as ModelPurchase;
      if (prev.status !== 'succeeded' || this.lostOpen.has(prev.id)) continue;
      const read = this.intents.get(next.key ?? '')?.balanceReadAt ?? 0;
      if (read < (prev.creditAt ?? 0)) {
        v.push(`${next.id} decided on a balance read before ${prev.id}'s credit showed`);
      }
    }
    // Never adopt: nothing is announced about a purchase by hand.
    const handIds = new Set(hand.map((p) => p.id));
    for (const d of this.decided.values()) {
      if (d.purchaseId && handIds.has(d.purchaseId))
        v.push(`announced ${d.kind} for ${d.purchaseId}, bought by hand`);
    }
    if (!this.damaged) {
      if (this.keyReuse > 0) v.push('a key was sent with another amount');
      // Announced exactly once: started, then succeeded or failed, for every charge.
      const count = (id: string, kind: string) =>
        [...this.decided.values()].filter((d) => d.purchaseId === id && d.kind === kind).length;
      const stored = this.current;
      const open = new Set(
        (stored?.topUp?.intents ?? [])
          .filter(
            (i) => i.phase === 'open' || i.phase === 'pending' || i.phase === 'actionRequired',
          )
          .map((i) => i.key),
      );
      for (const p of own) {
        const end =
          p.status === 'succeeded'
            ? 'top-up-succeeded'
            : p.status === 'failed'
              ? 'top-up-failed'
              : undefined;
        const kinds = ['top-up-started', 'top-up-succeeded', 'top-up-failed'];
        for (const kind of kinds) {
          const n = count(p.id, kind);
          const want = open.has(p.key ?? '')
            ? n <= 1
            : kind === 'top-up-started' || kind === end
              ? n === 1
              : n === 0;
          if (!want) v.push(`${p.id} (${p.status}): ${kind} decided ${n} times`);
        }
      }
      if (!this.mayRepeat) {
        const seen = new Set<string>();
        for (const e of this.published) {
          if (seen.has(e.id)) v.push(`notification ${e.id} published twice`);
          seen.add(e.id);
        }
      }
      const published = new Set(this.published.map((e) => e.id));
      for (const d of this.decided.values()) {
        if (!published.has(d.id) && (stored?.outbox ?? []).every((e) => e.id !== d.id)) {
          v.push(`notification ${d.id} (${d.kind}) lost`);
        }
      }
    }
    return v;
  }
}
