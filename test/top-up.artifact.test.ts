/**
 * Auto top-up as a new user would try it: the app synthesized with
 * `-c autoTopUpCents=2000 -c autoTopUpMonthlyCapCents=6000`, the monitor function's bundle
 * from the cloud assembly run in fresh Node processes against local SSM and SNS and an ngrok
 * that serves the balance, the purchases and the ledger with ngrok's idempotency rules.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRecord } from '../lambda/store/account-record.ts';
import { CreditsStandIn } from './support/ngrok-credits-stand-in.ts';
import {
  type BundleRun,
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
  scheduledEvent as eventWithId,
  type Notified,
  notified,
  PARAMS,
  STATE_KEY,
} from './support/top-up-artifact.ts';

/** Below the default $10.00 warning threshold, where auto top-up buys. */
const LOW_BALANCE = 400;
const CONTEXT = {
  emails: 'a@example.com',
  autoTopUpCents: '2000',
  autoTopUpMonthlyCapCents: '6000',
};

let work: string;
let runner: string;
let home: string;
let buying: SynthResult;
let dryRun: SynthResult;
let events = 0;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'ngrok-top-up-artifact-'));
  home = path.join(work, 'home');
  mkdirSync(home);
  runner = writeRunner(work);
  [buying, dryRun] = await Promise.all([
    synthesize(path.join(work, 'buying.out'), CONTEXT),
    synthesize(path.join(work, 'dry-run.out'), { ...CONTEXT, autoTopUpDryRun: 'true' }),
  ]);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function scheduledEvent(id = `top-up-event-${++events}`) {
  return eventWithId(id);
}

interface Deployment {
  readonly standIns: StandIns;
  readonly credits: CreditsStandIn;
  /** One cold start of the deployed bundle. */
  invoke(event?: unknown): Promise<BundleRun>;
  /** The notifications published so far, as the version 2 JSON subscribers get. */
  published(): Notified[];
  setBalance(balanceCents: number): void;
  /** The account's record as the function saved it. */
  saved(): Promise<AccountRecord | undefined>;
}

async function deployed(
  synth: SynthResult,
  body: (d: Deployment) => Promise<void>,
  prepare: (credits: CreditsStandIn) => void = () => {},
  /** The record to start from; null for none (a first deployment, or a lost record). */
  state: AccountRecord | null = ESTABLISHED,
): Promise<void> {
  const standIns = await startStandIns();
  const credits = new CreditsStandIn();
  prepare(credits);
  standIns.ssm.put(PARAMS.apiKey, API_KEY, 'SecureString');
  standIns.ssm.put(PARAMS.threshold, '1000');
  if (state !== null) await standIns.state.write(STATE_KEY, 0, state);
  const setBalance = (balanceCents: number) =>
    standIns.ngrok.setAccount(API_KEY, { balanceCents, credits });
  setBalance(LOW_BALANCE);
  try {
    await body({
      standIns,
      credits,
      setBalance,
      saved: async () => (await standIns.state.read(STATE_KEY)).value as AccountRecord | undefined,
      invoke: async (event = scheduledEvent()) => {
        const run = await runBundle({
          runner,
          bundle: synth.bundle,
          env: standIns.env(),
          event,
          home,
        });
        expect(run.report.error, `${run.stderr}\n${run.stdout}`).toBeUndefined();
        expect(run.stdout + run.stderr).not.toContain(API_KEY);
        return run;
      },
      published: () => notified(standIns.sns),
    });
  } finally {
    await standIns.close();
  }
}

const posts = (d: Deployment) =>
  d.standIns.ngrok.requests.filter((r) => r.method === 'POST' && r.path === '/credits/purchases');

describe('auto top-up, deployed with autoTopUpCents=2000 and autoTopUpMonthlyCapCents=6000', () => {
  it('buys exactly one $20.00 top-up below the threshold and says so; a redelivered event buys nothing', async () => {
    await deployed(buying, async (d) => {
      // Act
      const event = scheduledEvent();
      await d.invoke(event);
      await d.invoke(event);

      // Assess
      expect(d.credits.purchases).toHaveLength(1);
      expect(d.credits.purchases[0]).toMatchObject({ amountCents: 2000, status: 'pending' });
      expect(d.credits.purchases[0]?.key).toBe('ngrok-balance-alert-artifact-1');
      const notified = d.published();
      // The purchase's notice is committed with its intent, before the run's alert.
      expect(notified.map((n) => n.kind)).toEqual(['top-up-started', 'balance-alert']);
      expect(notified[1]?.text).toContain('Auto top-up: $20.00 started, waiting for it');
      expect(notified[0]?.subject).toBe('ngrok auto top-up started (main): $20.00');
      expect(notified[0]?.text).toContain('Auto top-up started a purchase of $20.00');
      const saved = await d.saved();
      expect(saved?.topUp?.intents).toMatchObject([{ purchaseId: 'cp_1', amountCents: 2000 }]);
      expect(saved?.outbox).toEqual([]);
    });
  });

  it('a racing second invocation from the same state charges nothing more', async () => {
    await deployed(buying, async (d) => {
      // Act: two cold starts read the same saved state and ledger at once.
      await Promise.all([d.invoke(), d.invoke()]);

      // Assess: one run wins the intent's conditional write; the other follows it.
      expect(posts(d).length).toBeGreaterThanOrEqual(1);
      expect(d.credits.purchases).toHaveLength(1);
      // Each notification went out once, whichever run sent it.
      expect(
        d
          .published()
          .map((n) => n.kind)
          .sort(),
      ).toEqual(['balance-alert', 'top-up-started']);
      expect((await d.saved())?.outbox).toEqual([]);
    });
  });

  it('the run that sees the purchase succeed says so, and buys nothing more', async () => {
    await deployed(buying, async (d) => {
      // Prepare
      await d.invoke();
      const id = d.credits.purchases[0]?.id ?? '';
      d.credits.settle(id, 'succeeded');
      d.setBalance(LOW_BALANCE + 2000);

      // Act
      await d.invoke();
      await d.invoke();

      // Assess
      expect(d.credits.purchases).toHaveLength(1);
      const kinds = d.published().map((n) => n.kind);
      expect(kinds.filter((k) => k === 'top-up-succeeded')).toHaveLength(1);
      const succeeded = d.published().find((n) => n.kind === 'top-up-succeeded');
      expect(succeeded?.text).toContain('Auto top-up bought $20.00 of ngrok AI Gateway credits');
      expect(succeeded?.event).toBe('resolve');
    });
  });

  it('a declined card alerts with ngrok’s reason, at least as urgently as the balance', async () => {
    await deployed(
      buying,
      async (d) => {
        // Act
        await d.invoke();

        // Assess
        const failed = d.published().find((n) => n.kind === 'top-up-failed');
        expect(failed?.text).toContain('card_declined: Your card was declined.');
        expect(failed?.event).toBe('trigger');
        expect(failed?.severity).toBe('error');
        expect(d.credits.purchases.map((p) => p.status)).toEqual(['failed']);
      },
      (credits) => {
        credits.initialStatus = 'failed';
      },
    );
  });

  it('a month that already bought $60.00 buys nothing and says the cap stopped it', async () => {
    await deployed(
      buying,
      async (d) => {
        // Act
        await d.invoke();
        await d.invoke();

        // Assess
        expect(posts(d)).toHaveLength(0);
        const capped = d.published().filter((n) => n.kind === 'top-up-capped');
        expect(capped).toHaveLength(1);
        expect(capped[0]?.text).toContain(
          "this month's purchases ($60.00) plus one more would pass the monthly cap of $60.00",
        );
        const alert = d.published().find((n) => n.kind === 'balance-alert');
        expect(alert?.text).toContain('Auto top-up: blocked by the monthly cap');
      },
      (credits) => {
        for (let i = 0; i < 3; i++) credits.buyByHand(2000);
      },
    );
  });
});

describe('auto top-up, deployed without purchase records', () => {
  it('holds the first purchase for a day and says why', async () => {
    await deployed(
      buying,
      async (d) => {
        await d.invoke();
        expect(posts(d)).toHaveLength(0);
        const alert = d.published().find((n) => n.kind === 'balance-alert');
        expect(alert?.text).toContain('its purchase records were started afresh');
      },
      () => {},
      null,
    );
  });
});

describe('auto top-up, deployed with autoTopUpDryRun=true', () => {
  it('buys nothing and says what it would have bought', async () => {
    await deployed(dryRun, async (d) => {
      // Act
      await d.invoke();

      // Assess
      expect(posts(d)).toHaveLength(0);
      expect(d.credits.purchases).toHaveLength(0);
      const dry = d.published().find((n) => n.kind === 'top-up-dry-run');
      expect(dry?.subject).toContain('[DRY RUN] ngrok auto top-up would buy $20.00');
      const alert = d.published().find((n) => n.kind === 'balance-alert');
      expect(alert?.text).toContain('Auto top-up: dry run: would buy $20.00');
    });
  });
});
