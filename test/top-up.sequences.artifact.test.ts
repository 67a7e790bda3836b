/**
 * The money sequences of issue 19, run against the synthesized artifact: the monitor
 * function's bundle from `cdk synth`, each invocation a fresh Node process whose clock starts
 * where the sequence is (ngrok's time, or minutes off it), against local SSM, SNS, the state
 * table and an ngrok whose purchases follow its documented rules: grants dated when the
 * purchase succeeds and listed late, purchases by hand that pend or need action, requests
 * that land and lose their answer, status reads that fail, refunds. Two runs at once are
 * interleaved by holding one's request at ngrok until the test lets it go.
 *
 * The steps are those of test/top-up/money.regressions.test.ts (the in-process model); every
 * test ends with the README's promises checked over what ngrok and SNS saw
 * (test/support/top-up-oracle.ts): the cap by grant month and by start month, one charge
 * per low spell, every charge announced once.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../lambda/run/monitor.ts';
import type { AccountRecord } from '../lambda/store/account-record.ts';
import { HOLD_MS } from '../lambda/watches/top-up/decide.ts';
import { CreditsStandIn, type StandInPurchase } from './support/ngrok-credits-stand-in.ts';
import {
  type BundleRun,
  type NgrokFault,
  type NgrokRoute,
  runBundle,
  type StandIns,
  type SynthResult,
  startStandIns,
  synthesize,
  writeRunner,
} from './support/stand-ins/index.ts';
import {
  API_KEY,
  ESTABLISHED,
  type Notified,
  notified,
  PARAMS,
  STATE_KEY,
  scheduledEvent,
} from './support/top-up-artifact.ts';
import { isMonitors, type LowSpell, topUpViolations } from './support/top-up-oracle.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Below the $10.00 warning threshold, where auto top-up buys. */
const LOW = 300;
/** The ngrok client tries a call this many times (the first included) within a run. */
const ATTEMPTS = 4;

interface Deployment {
  readonly synth: SynthResult;
  readonly capCents: number;
}

let work: string;
let runner: string;
let home: string;
/** $20.00 a purchase, $25.00 a month: a second purchase in a month passes the cap. */
let tight: Deployment;
/** $20.00 a purchase, $50.00 a month. */
let roomy: Deployment;
/** As `roomy`, with autoTopUpDryRun=true. */
let dryRun: Deployment;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'ngrok-top-up-sequences-'));
  home = path.join(work, 'home');
  mkdirSync(home);
  runner = writeRunner(work);
  const context = (cap: number, extra: Record<string, string> = {}) => ({
    emails: 'a@example.com',
    autoTopUpCents: '2000',
    autoTopUpMonthlyCapCents: String(cap),
    ...extra,
  });
  const [a, b, c] = await Promise.all([
    synthesize(path.join(work, 'tight.out'), context(2500)),
    synthesize(path.join(work, 'roomy.out'), context(5000)),
    synthesize(path.join(work, 'dry-run.out'), context(5000, { autoTopUpDryRun: 'true' })),
  ]);
  tight = { synth: a, capCents: 2500 };
  roomy = { synth: b, capCents: 5000 };
  dryRun = { synth: c, capCents: 5000 };
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** One invocation's outcome as its invoker sees it. */
interface Run {
  readonly bundle: BundleRun;
  /** The function's answer for the account: what auto top-up did, or why it did not buy. */
  readonly status: string;
}

let invocations = 0;

/**
 * One deployment over time. `t` is ngrok's clock (the stand-in's `now`); each invocation's
 * clock starts at `t` plus the skew it is given and runs on in real time.
 */
class Sequence {
  t: number;
  readonly credits = new CreditsStandIn();
  readonly lowSpells: LowSpell[] = [];
  /** Purchases whose record was lost or rolled back (the oracle allows repeated notices). */
  readonly damaged = new Set<string>();
  /** What the README's bound for a lost record lets pass the cap. */
  overCapCents = 0;

  constructor(
    readonly standIns: StandIns,
    readonly deployment: Deployment,
    start: string,
  ) {
    this.t = Date.parse(start);
    this.credits.now = () => new Date(this.t);
    standIns.ssm.put(PARAMS.apiKey, API_KEY, 'SecureString');
    standIns.ssm.put(PARAMS.threshold, '1000');
    standIns.ngrok.setAccount(API_KEY, {
      balanceCents: () => this.credits.balance(),
      credits: this.credits,
    });
  }

  get ngrok() {
    return this.standIns.ngrok;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  at(iso: string): void {
    this.t = Date.parse(iso);
  }

  /** Usage took the balance down to `cents`: a new low spell (the oracle counts charges per spell). */
  lowSpell(cents = LOW): void {
    this.credits.setBalance(cents);
    this.lowSpells.push({
      purchases: this.credits.purchases.length,
      succeeded: new Set(
        this.credits.purchases.filter((p) => p.status === 'succeeded').map((p) => p.id),
      ),
    });
  }

  /** Starts one invocation (a cold start) at ngrok's time plus `skewMs`; resolves when it ends. */
  start(skewMs = 0): Promise<Run> {
    const startAt = this.t + skewMs;
    return runBundle({
      runner,
      bundle: this.deployment.synth.bundle,
      env: this.standIns.env(),
      event: scheduledEvent(`sequence-event-${++invocations}`, new Date(startAt)),
      home,
      startAt,
    }).then((bundle) => {
      expect(bundle.report.error, `${bundle.stderr}\n${bundle.stdout}`).toBeUndefined();
      expect(bundle.stdout + bundle.stderr).not.toContain(API_KEY);
      const summary = bundle.report.result as RunSummary;
      return { bundle, status: summary.accounts[0]?.autoTopUp ?? '' };
    });
  }

  /** One invocation, to its end; the faults scripted for it must all have been met. */
  async run(skewMs = 0): Promise<Run> {
    const run = await this.start(skewMs);
    expect(this.ngrok.pendingFaults()).toEqual([]);
    return run;
  }

  fault(route: NgrokRoute, ...faults: NgrokFault[]): void {
    this.ngrok.fault(route, ...faults);
  }

  /** Purchases ngrok started with the monitor's keys. */
  own(): StandInPurchase[] {
    return this.credits.purchases.filter(isMonitors);
  }

  ownAt(index: number): StandInPurchase {
    const p = this.own()[index];
    if (!p) throw new Error(`ngrok has no purchase number ${index + 1} of the monitor's`);
    return p;
  }

  published(): Notified[] {
    return notified(this.standIns.sns);
  }

  /** The top-up notices SNS received about one purchase, in order. */
  told(purchaseId: string): string[] {
    return this.published()
      .filter((n) => n.autoTopUp?.purchaseId === purchaseId)
      .map((n) => n.kind);
  }

  /** Keys of the purchase requests ngrok received, in order. */
  postedKeys(): (string | undefined)[] {
    return this.ngrok.requests
      .filter((r) => r.method === 'POST' && r.path === '/credits/purchases')
      .map((r) => r.idempotencyKey);
  }

  async saved(): Promise<AccountRecord | undefined> {
    return (await this.standIns.state.read(STATE_KEY)).value as AccountRecord | undefined;
  }

  /** The record is lost: the purchases it knew are the README's "lost record" case. */
  async wipe(): Promise<void> {
    for (const p of this.own()) this.damaged.add(p.id);
    await this.standIns.wipeState(STATE_KEY);
  }

  /** An older copy of the record is written back over the current one. */
  async rollBack(to: AccountRecord | undefined): Promise<void> {
    for (const p of this.own()) this.damaged.add(p.id);
    await this.standIns.overwriteState(STATE_KEY, to);
  }

  /** The README's promises over everything ngrok and SNS saw. */
  check(): void {
    expect(
      topUpViolations({
        capCents: this.deployment.capCents,
        purchases: this.credits.purchases,
        grants: this.credits.grants,
        lowSpells: this.lowSpells,
        notified: this.published(),
        damaged: this.damaged,
        overCapCents: this.overCapCents,
      }),
    ).toEqual([]);
  }
}

/**
 * Runs `body` against fresh stand-ins, the record of a monitor that has run for a day
 * stored (no hold), the balance low.
 */
async function sequence(
  deployment: Deployment,
  start: string,
  body: (s: Sequence) => Promise<void>,
): Promise<void> {
  const standIns = await startStandIns();
  try {
    const s = new Sequence(standIns, deployment, start);
    await standIns.state.write(STATE_KEY, 0, ESTABLISHED);
    s.lowSpell();
    await body(s);
  } finally {
    await standIns.close();
  }
}

const PURCHASE_STATUS = 'GET /credits/purchases/{id}' as const;
const BY_HAND = "a purchase is in progress at ngrok (not one of auto top-up's)";

describe('issue 19, sequence 1: month boundary', () => {
  it.each([
    ['on ngrok’s time', 0],
    ['with the monitor’s clock 4 minutes behind', -4 * MIN],
    ['with the monitor’s clock 4 minutes ahead', 4 * MIN],
  ])(
    'a purchase started at 23:55 and granted after midnight counts in the new month, %s',
    async (_clock, skew) => {
      await sequence(tight, '2026-12-31T23:55:00Z', async (s) => {
        // Act: bought at 23:55, succeeds at 00:05 and is listed 20 h later
        await s.run(skew);
        s.advance(10 * MIN);
        s.credits.settle(s.ownAt(0).id, 'succeeded', { listAfterMs: 20 * HOUR });
        s.advance(5 * MIN);
        await s.run(skew);
        s.advance(2 * HOUR);
        s.lowSpell();
        const last = await s.run(skew);

        // Assess: January does not buy again past its cap
        expect(s.ownAt(0).createdAt).toMatch(/^2026-12-31T23:55/);
        expect(s.credits.grants.map((g) => g.createdAt)).toEqual(['2027-01-01T00:05:00.000Z']);
        expect(s.own()).toHaveLength(1);
        expect(last.status).toContain('blocked by the monthly cap ($20.00 of $25.00 bought)');
        s.check();
      });
    },
  );
});

describe('issue 19, sequence 2: lost-state hold', () => {
  it('a purchase pending when the hold ends blocks new ones and is counted when it succeeds', async () => {
    await sequence(tight, '2026-12-10T12:00:00Z', async (s) => {
      await s.run();
      const pending = s.ownAt(0);
      // Act: the record is lost; the hold ends with the purchase still pending
      await s.wipe();
      expect((await s.run()).status).toContain('its purchase records were started afresh');
      s.advance(HOLD_MS + HOUR);
      s.lowSpell();
      expect((await s.run()).status).toContain(BY_HAND);
      // it succeeds hours later, its grant listed a day after that
      s.advance(3 * HOUR);
      s.credits.settle(pending.id, 'succeeded', { listAfterMs: 23 * HOUR });
      s.advance(HOUR);
      await s.run();
      s.advance(2 * HOUR);
      s.lowSpell();
      await s.run();

      // Assess: nothing more was bought: $20 + $20 would pass the $25 cap
      expect(s.postedKeys()).toHaveLength(2); // the second, under a new key, was refused (409)
      expect(s.own()).toHaveLength(1);
      expect(s.credits.purchases).toHaveLength(1);
      s.check();
    });
  });
});

describe('issue 19, sequence 3: never adopt', () => {
  it('a 409 naming a purchase by hand means wait: not announced, not counted as a failure', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      const hand = s.credits.buyByHand(2500, 'actionRequired');
      // Act: the monitor's POST is refused with 409 purchase_in_progress naming it
      expect((await s.run()).status).toContain(BY_HAND);
      s.credits.settle(hand.id, 'failed');
      s.advance(10 * MIN);
      await s.run();

      // Assess: the hand purchase's end is not announced nor counted; the monitor buys once
      expect(s.told(hand.id)).toEqual([]);
      const kinds = s.published().map((n) => n.kind);
      expect(kinds).not.toContain('top-up-action-required');
      expect(kinds).not.toContain('top-up-failed');
      expect(s.own()).toHaveLength(1);
      expect((await s.saved())?.topUp?.failures).toBe(0);
      expect(s.told(s.ownAt(0).id)).toEqual(['top-up-started']);
      s.check();
    });
  });

  it('an intent refused while a purchase by hand was open is decided again when it ends', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      const hand = s.credits.buyByHand(2500, 'actionRequired');
      await s.run();
      // Act: the user confirms the payment: the balance is fine again
      s.credits.settle(hand.id, 'succeeded');
      s.advance(10 * MIN);
      await s.run();

      // Assess: nothing bought on top of the purchase by hand
      expect(s.own()).toHaveLength(0);
      expect(s.told(hand.id)).toEqual([]);
      s.check();
    });
  });
});

describe('issue 19, sequence 4: stale state', () => {
  it('a record rolled back to before a purchase replays it instead of buying again', async () => {
    await sequence(tight, '2026-12-10T12:00:00Z', async (s) => {
      const before = await s.saved();
      await s.run();
      s.credits.settle(s.ownAt(0).id, 'succeeded', { listAfterMs: 20 * HOUR });
      s.advance(5 * MIN);
      await s.run();
      // Act: an older copy is written back; the balance is low again two hours later
      await s.rollBack(before);
      s.advance(2 * HOUR);
      s.lowSpell();
      await s.run();

      // Assess: the next intent's key is the lost one's: ngrok replayed it, nothing charged
      expect(s.credits.purchases).toHaveLength(1);
      expect(s.postedKeys().at(-1)).toBe(s.ownAt(0).key);
      s.check();
    });
  });

  it('a POST that landed and lost its answer, whose retry got 429, stays counted and is followed', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      s.fault('POST /credits/purchases', 'landThenDrop', 'rateLimited');
      const first = await s.run();
      expect(s.own()).toHaveLength(1);
      expect(first.status).toContain("requested, waiting for ngrok's answer");
      // Act: it succeeds; the next run resends the key and ngrok replays it
      s.credits.settle(s.ownAt(0).id, 'succeeded');
      s.advance(10 * MIN);
      await s.run();

      // Assess
      expect(s.credits.purchases).toHaveLength(1);
      expect(s.postedKeys()).toEqual(Array(3).fill(s.ownAt(0).key));
      expect(s.told(s.ownAt(0).id)).toEqual(['top-up-started', 'top-up-succeeded']);
      s.check();
    });
  });
});

describe('issue 19, sequence 5: racing runs', () => {
  it('a run that reads the ledger after another run bought follows that purchase', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      // Act: b is about to read the ledger; a buys, the purchase succeeds and is listed at once
      const ledger = s.ngrok.hold('GET /credits/transactions');
      const b = s.start();
      await ledger.arrived;
      await s.run();
      expect(s.own()).toHaveLength(1);
      s.credits.settle(s.ownAt(0).id, 'succeeded');
      ledger.release();
      expect((await b).status).toContain('bought $20.00, waiting for the balance to show it');

      // Assess: one purchase between them
      expect(s.credits.purchases).toHaveLength(1);
      expect(s.told(s.ownAt(0).id)).toEqual(['top-up-started', 'top-up-succeeded']);
      s.check();
    });
  });

  it('two runs that both see the success announce it once', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      await s.run();
      s.credits.settle(s.ownAt(0).id, 'succeeded');
      s.advance(5 * MIN);
      // Act: both runs read the purchase's status before either records what it read
      const reads = [s.ngrok.hold(PURCHASE_STATUS), s.ngrok.hold(PURCHASE_STATUS)];
      const runs = [s.start(), s.start()];
      await Promise.all(reads.map((r) => r.arrived));
      for (const r of reads) r.release();
      await Promise.all(runs);

      // Assess
      expect(s.told(s.ownAt(0).id)).toEqual(['top-up-started', 'top-up-succeeded']);
      expect(s.published().filter((n) => n.kind === 'top-up-succeeded')).toHaveLength(1);
      s.check();
    });
  });
});

describe('issue 19, sequence 6: a resend after the ledger moved', () => {
  it('keeps its own key: one charge, announced, and a lost record does not buy it again', async () => {
    await sequence(tight, '2026-12-10T12:00:00Z', async (s) => {
      // Every try of the first run's purchase goes unanswered, and none reached ngrok
      s.fault('POST /credits/purchases', ...Array<NgrokFault>(ATTEMPTS).fill('drop'));
      await s.run();
      expect(s.own()).toHaveLength(0);
      // Act: a purchase by hand moves the ledger; the request is resent
      s.credits.buyByHand(500);
      s.advance(10 * MIN);
      s.lowSpell();
      await s.run();
      expect(s.own()).toHaveLength(1);
      expect(new Set(s.postedKeys()).size).toBe(1);
      s.credits.settle(s.ownAt(0).id, 'succeeded', { listAfterMs: 20 * HOUR });
      s.advance(10 * MIN);
      await s.run();
      // then the record is lost (after the purchase was announced: nothing of it may repeat),
      // and the balance is low at every check for 30 hours
      await s.standIns.wipeState(STATE_KEY);
      for (const hours of [3, 12, 12, 3]) {
        s.advance(hours * HOUR);
        s.lowSpell();
        await s.run();
      }

      // Assess: $5 by hand + $20 = the $25 cap: no second charge, and the one was announced
      expect(s.own()).toHaveLength(1);
      expect(s.told(s.ownAt(0).id)).toEqual(['top-up-started', 'top-up-succeeded']);
      s.check();
    });
  });
});

describe('issue 19, also', () => {
  it('a request unanswered at a month change is followed into the next month and announced', async () => {
    await sequence(roomy, '2026-12-31T23:50:00Z', async (s) => {
      // Every try lands (the first starts it, the others replay it) and loses its answer
      s.fault('POST /credits/purchases', ...Array<NgrokFault>(ATTEMPTS).fill('landThenDrop'));
      await s.run();
      expect(s.own()).toHaveLength(1);
      s.advance(20 * MIN);
      s.credits.settle(s.ownAt(0).id, 'succeeded', { listAfterMs: HOUR });
      s.advance(MIN);
      await s.run();

      expect(s.credits.purchases).toHaveLength(1);
      expect(s.ownAt(0).createdAt).toMatch(/^2026-12/);
      expect(s.ownAt(0).succeededAt).toMatch(/^2027-01/);
      expect(s.told(s.ownAt(0).id)).toEqual(['top-up-started', 'top-up-succeeded']);
      s.check();
    });
  });

  it('a clock minutes ahead of ngrok at midnight waits minutes, not the month', async () => {
    const ahead = 4 * MIN;
    await sequence(tight, '2026-12-31T22:00:00Z', async (s) => {
      await s.run(ahead);
      s.credits.settle(s.ownAt(0).id, 'succeeded');
      s.advance(10 * MIN);
      await s.run(ahead);
      // Act: 23:58:30 at ngrok is past midnight on the monitor's clock
      s.at('2026-12-31T23:58:30Z');
      s.lowSpell();
      await s.run(ahead);
      expect(s.own()).toHaveLength(1);
      s.at('2027-01-01T01:00:00Z');
      s.lowSpell();
      await s.run(ahead);

      // Assess: January buys
      expect(s.own()).toHaveLength(2);
      expect(s.ownAt(1).createdAt).toBe('2027-01-01T01:00:00.000Z');
      s.check();
    });
  });

  it('a refunded grant gives no second success and no stall; its refund row is read', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      await s.run();
      s.credits.settle(s.ownAt(0).id, 'succeeded');
      s.advance(5 * MIN);
      await s.run();
      // Act: the grant is refunded (it leaves the list, a negative row appears)
      s.credits.refund(s.ownAt(0).id);
      expect(s.credits.transactions()).toMatchObject([{ amountCents: -2000 }]);
      s.advance(2 * HOUR);
      s.lowSpell();
      await s.run();

      // Assess
      expect(s.told(s.ownAt(0).id)).toEqual(['top-up-started', 'top-up-succeeded']);
      expect(s.own()).toHaveLength(2);
      s.check();
    });
  });

  it('a status read that keeps failing: one notice after an hour, followed to the end', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      const start = s.t;
      await s.run();
      for (const minutes of [15, 45, 80, 140]) {
        s.at(new Date(start + minutes * MIN).toISOString());
        s.fault(PURCHASE_STATUS, ...Array<NgrokFault>(ATTEMPTS).fill('unavailable'));
        await s.run();
      }
      const id = s.ownAt(0).id;
      const failed = s.ngrok.requests.filter((r) => r.fault === 'unavailable');
      expect(failed).toHaveLength(4 * ATTEMPTS);
      expect(s.told(id).filter((k) => k === 'top-up-pending-long')).toHaveLength(1);
      s.credits.settle(id, 'succeeded');
      s.advance(15 * MIN);
      await s.run();

      expect(s.told(id)).toEqual(['top-up-started', 'top-up-pending-long', 'top-up-succeeded']);
      s.check();
    });
  });

  it('a purchase still pending after an hour: one notice, followed to the end', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      await s.run();
      for (const minutes of [30, 40, 60]) {
        s.advance(minutes * MIN);
        await s.run();
      }
      const id = s.ownAt(0).id;
      s.credits.settle(id, 'succeeded');
      s.advance(15 * MIN);
      await s.run();

      expect(s.told(id)).toEqual(['top-up-started', 'top-up-pending-long', 'top-up-succeeded']);
      s.check();
    });
  });

  it('a dry run announces what it would buy once per low spell and never buys', async () => {
    await sequence(dryRun, '2026-12-10T12:00:00Z', async (s) => {
      await s.run();
      s.advance(HOUR);
      await s.run();
      s.credits.setBalance(5000);
      s.advance(HOUR);
      await s.run();
      s.lowSpell();
      s.advance(HOUR);
      await s.run();

      expect(s.postedKeys()).toEqual([]);
      expect(s.credits.purchases).toHaveLength(0);
      expect(
        s
          .published()
          .map((n) => n.kind)
          .filter((k) => k.startsWith('top-up-')),
      ).toEqual(['top-up-dry-run', 'top-up-dry-run']);
      s.check();
    });
  });
});

describe('holes the model found', () => {
  it('a purchase by hand of the same amount, listed while ours lags, is not taken for ours', async () => {
    await sequence(roomy, '2026-12-10T12:00:00Z', async (s) => {
      await s.run();
      s.credits.settle(s.ownAt(0).id, 'succeeded', { listAfterMs: 23 * HOUR });
      s.advance(5 * MIN);
      await s.run();
      // Act: $20 by hand, listed at once; ours is still not listed
      s.credits.buyByHand(2000);
      s.advance(2 * HOUR);
      s.lowSpell();
      const last = await s.run();

      // Assess: $20 + $20 + $20 would pass $50
      expect(s.own()).toHaveLength(1);
      expect(last.status).toContain('blocked by the monthly cap ($40.00 of $50.00 bought)');
      s.check();
    });
  });

  it('a record lost while a purchase is pending lets at most that one purchase through', async () => {
    // The bound the README states: ngrok allows one unresolved purchase, and a lost record
    // cannot know it if it ends during the hold, unseen, and is not listed yet.
    await sequence(tight, '2026-12-10T12:00:00Z', async (s) => {
      await s.run();
      await s.wipe();
      await s.run();
      s.advance(HOLD_MS + HOUR);
      s.credits.settle(s.ownAt(0).id, 'succeeded', { listAfterMs: 20 * HOUR });
      s.lowSpell();
      await s.run();

      expect(s.own().length).toBeLessThanOrEqual(2);
      s.overCapCents = 2000;
      s.check();
    });
  });
});
