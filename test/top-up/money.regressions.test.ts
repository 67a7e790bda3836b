/**
 * The sequences of issue 19, each scripted step by step in the money model (real runTopUp,
 * real ngrok client, the ngrok model, the in-memory store), plus the holes the model found.
 * Every test ends with the model's oracles (`world.check()`), as the random sequences do.
 */
import { describe, expect, it } from 'vitest';
import type { TopUpSettings } from '../../lambda/watches/top-up/decide.ts';
import { HOLD_MS } from '../../lambda/watches/top-up/decide.ts';
import type { ModelPurchase } from './model/ngrok-model.ts';
import { KEY, type Run, SETTINGS, World } from './model/world.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

function world(start: string, settings: Partial<TopUpSettings> = {}, skew = 0): World {
  const w = new World({
    seed: 1,
    start: Date.parse(start),
    settings: { ...SETTINGS, ...settings },
    faults: false,
    damage: false,
    trace: true,
  });
  w.skew = skew;
  return w;
}

/** A record that has been kept for a day (no hold), at a high balance. */
async function established(w: World): Promise<void> {
  const start = w.t;
  w.t -= HOLD_MS + HOUR;
  w.ngrok.baseCents = 5000;
  await run(w);
  w.t = start;
}

async function run(w: World): Promise<Run> {
  const r = await w.startRun(w.skew);
  await w.complete(r);
  return r;
}

async function stepUntil(w: World, r: Run, label: string): Promise<void> {
  for (let i = 0; i < 50 && r.gate?.label !== label; i++) await w.step(r);
  expect(r.gate?.label).toBe(label);
}

/** Sets the balance ngrok shows now. */
function balance(w: World, cents: number): void {
  w.ngrok.baseCents = cents - (w.ngrok.balance() - w.ngrok.baseCents);
}

const own = (w: World) => w.ngrok.purchases.filter((p) => p.key !== undefined);
const first = (w: World) => own(w)[0] as ModelPurchase;
const decided = (w: World, id: string) =>
  [...w.decided.values()].filter((d) => d.purchaseId === id).map((d) => d.kind);
const said = (w: World, text: string) => w.trace.some((line) => line.includes(text));

describe('issue 19, sequence 1: month boundary', () => {
  it('a purchase started at 23:55 and granted after midnight counts in the new month', async () => {
    // Prepare: $20 a purchase, $25 a month
    const w = world('2026-12-31T23:55:00Z', { amountCents: 2000, monthlyCapCents: 2500 });
    await established(w);
    balance(w, 300);
    // Act: bought at 23:55, succeeds at 00:05 and is listed 20 h later
    await run(w);
    w.advance(10 * MIN);
    w.ngrok.settle(first(w), 'succeeded', 20 * HOUR, 2 * MIN);
    w.advance(5 * MIN);
    await run(w);
    w.advance(2 * HOUR);
    balance(w, 300);
    await run(w);
    // Assess: January does not buy again past its cap
    expect(own(w)).toHaveLength(1);
    expect(said(w, 'blocked by the monthly cap ($20.00 of $25.00 bought)')).toBe(true);
    expect(w.check()).toEqual([]);
  });
});

describe('issue 19, sequence 2: lost-state hold', () => {
  it('a purchase pending when the hold ends blocks new ones and is counted when it succeeds', async () => {
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 2500 });
    await established(w);
    balance(w, 300);
    await run(w);
    const pending = first(w);
    // Act: the record is lost; the hold ends with the purchase still pending
    w.wipe();
    await run(w);
    expect(said(w, 'its purchase records were started afresh')).toBe(true);
    w.advance(HOLD_MS + HOUR);
    balance(w, 300);
    await run(w);
    expect(said(w, "a purchase is in progress at ngrok (not one of auto top-up's)")).toBe(true);
    // it succeeds hours later, its grant listed a day after that
    w.advance(3 * HOUR);
    w.ngrok.settle(pending, 'succeeded', 23 * HOUR, MIN);
    w.advance(HOUR);
    await run(w);
    w.advance(2 * HOUR);
    balance(w, 300);
    await run(w);
    // Assess: nothing more was bought: $20 + $20 would pass the $25 cap
    expect(own(w)).toHaveLength(1);
    expect(w.ngrok.purchases).toHaveLength(1);
    expect(w.check()).toEqual([]);
  });
});

describe('issue 19, sequence 3: never adopt', () => {
  it('a 409 naming a purchase by hand means wait: not announced, not counted as a failure', async () => {
    const w = world('2026-12-10T12:00:00Z');
    await established(w);
    balance(w, 300);
    w.ngrok.byHand(2500, 'actionRequired', 0, 0);
    const hand = w.ngrok.purchases[0] as ModelPurchase;
    // Act: the monitor's POST is refused with 409 purchase_in_progress naming it
    await run(w);
    expect(said(w, "a purchase is in progress at ngrok (not one of auto top-up's)")).toBe(true);
    w.ngrok.settle(hand, 'failed', 0, 0);
    w.advance(10 * MIN);
    await run(w);
    // Assess: the hand purchase's end is not announced nor counted; the monitor buys once
    expect(decided(w, hand.id)).toEqual([]);
    expect(own(w)).toHaveLength(1);
    expect(w.current?.topUp?.failures).toBe(0);
    expect(decided(w, first(w).id)).toEqual(['top-up-started']);
    expect(w.check()).toEqual([]);
  });

  it('an intent refused while a purchase by hand was open is decided again when it ends', async () => {
    const w = world('2026-12-10T12:00:00Z');
    await established(w);
    balance(w, 300);
    w.ngrok.byHand(2500, 'actionRequired', 0, 0);
    await run(w);
    // Act: the user confirms the payment: the balance is fine again
    w.ngrok.settle(w.ngrok.purchases[0] as ModelPurchase, 'succeeded', 0, 0);
    w.advance(10 * MIN);
    await run(w);
    // Assess: nothing bought on top of the purchase by hand
    expect(own(w)).toHaveLength(0);
    expect(w.check()).toEqual([]);
  });
});

describe('issue 19, sequence 4: stale state', () => {
  it('a record rolled back to before a purchase replays it instead of buying again', async () => {
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 2500 });
    await established(w);
    const before = w.current;
    balance(w, 300);
    await run(w);
    w.ngrok.settle(first(w), 'succeeded', 20 * HOUR, MIN);
    w.advance(5 * MIN);
    await run(w);
    // Act: an older copy is written back; the balance is low again two hours later
    w.damaged = true;
    w.mem.put(KEY, before);
    w.current = before;
    w.advance(2 * HOUR);
    balance(w, 300);
    await run(w);
    // Assess: the next intent's key is the lost one's: ngrok replayed it, nothing charged
    expect(w.ngrok.purchases).toHaveLength(1);
    expect(w.check()).toEqual([]);
  });

  it('a POST that landed and timed out, whose retry got 429, stays counted and is followed', async () => {
    const w = world('2026-12-10T12:00:00Z');
    await established(w);
    balance(w, 300);
    w.script.post.push('landThenTimeout', 'rateLimited');
    await run(w);
    expect(own(w)).toHaveLength(1);
    expect(said(w, "requested, waiting for ngrok's answer")).toBe(true);
    // Act: it succeeds; the next run resends the key and ngrok replays it
    w.ngrok.settle(first(w), 'succeeded', 0, MIN);
    w.advance(10 * MIN);
    await run(w);
    // Assess
    expect(w.ngrok.purchases).toHaveLength(1);
    expect(decided(w, first(w).id)).toEqual(['top-up-started', 'top-up-succeeded']);
    expect(w.check()).toEqual([]);
  });
});

describe('issue 19, sequence 5: racing runs', () => {
  it('a run that reads the ledger after another run bought follows that purchase', async () => {
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 6000 });
    await established(w);
    balance(w, 300);
    const a = await w.startRun(0);
    const b = await w.startRun(0);
    // Act: b is about to read the ledger; a buys, the purchase succeeds and is listed at once
    await stepUntil(w, b, 'GET /credits/transactions');
    await w.complete(a);
    w.ngrok.settle(first(w), 'succeeded', 0, 0);
    await w.complete(b);
    // Assess: one purchase between them
    expect(w.ngrok.purchases).toHaveLength(1);
    expect(w.check()).toEqual([]);
  });

  it('two runs that both see the success announce it once', async () => {
    const w = world('2026-12-10T12:00:00Z');
    await established(w);
    balance(w, 300);
    await run(w);
    w.ngrok.settle(first(w), 'succeeded', 0, MIN);
    w.advance(5 * MIN);
    const a = await w.startRun(0);
    const b = await w.startRun(0);
    const read = `GET /credits/purchases/${first(w).id}`;
    await stepUntil(w, a, read);
    await stepUntil(w, b, read);
    await w.step(a);
    await w.step(b);
    await w.complete(a);
    await w.complete(b);
    expect(decided(w, first(w).id)).toEqual(['top-up-started', 'top-up-succeeded']);
    expect(w.published.filter((e) => e.kind === 'top-up-succeeded')).toHaveLength(1);
    expect(w.check()).toEqual([]);
  });
});

describe('issue 19, sequence 5: a run holding an older copy of the record', () => {
  it('decides again, from the record as it is, before it sends', async () => {
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 4000 });
    await established(w);
    balance(w, 300);
    w.ngrok.byHand(2500, 'pending', 0, 0);
    const hand = w.ngrok.purchases[0] as ModelPurchase;
    // a writes its intent and is about to send it; b reads that record (the intent looks
    // unanswered) and goes on to its next call
    const a = await w.startRun(0);
    await stepUntil(w, a, 'POST /credits/purchases');
    const b = await w.startRun(0);
    await stepUntil(w, b, 'store read');
    await w.step(b);
    // Act: a hears that a purchase by hand is in progress and records it; that purchase
    // then succeeds, so nothing at ngrok would refuse b's request any more
    await w.complete(a);
    w.ngrok.settle(hand, 'succeeded', 0, 0);
    await w.complete(b);
    // Assess: $25.00 by hand + $20.00 would pass the $40.00 cap: b bought nothing
    expect(own(w)).toHaveLength(0);
    expect(w.check()).toEqual([]);
  });
});

describe('issue 19, sequence 6: a resend after the ledger moved', () => {
  it('keeps its own key: one charge, announced, and a lost record does not buy it again', async () => {
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 2500 });
    await established(w);
    balance(w, 300);
    w.script.post.push('timeout', 'timeout');
    await run(w);
    expect(own(w)).toHaveLength(0);
    // Act: a purchase by hand moves the ledger; the request is resent
    w.ngrok.byHand(500, 'succeeded', 0, 0);
    w.advance(10 * MIN);
    balance(w, 300);
    await run(w);
    expect(own(w)).toHaveLength(1);
    w.ngrok.settle(first(w), 'succeeded', 20 * HOUR, MIN);
    w.advance(10 * MIN);
    await run(w);
    // then the record is lost, and the balance is low again
    w.wipe();
    for (let h = 1; h <= 30; h += 3) {
      w.advance(3 * HOUR);
      balance(w, 300);
      await run(w);
    }
    // Assess: $5 by hand + $20 = the $25 cap: no second charge, and the one was announced
    expect(own(w)).toHaveLength(1);
    expect(decided(w, first(w).id)).toEqual(['top-up-started', 'top-up-succeeded']);
    expect(w.check()).toEqual([]);
  });
});

describe('issue 19, also', () => {
  it('a request unanswered at a month change is followed into the next month and announced', async () => {
    const w = world('2026-12-31T23:50:00Z');
    await established(w);
    balance(w, 300);
    w.script.post.push('landThenTimeout', 'landThenTimeout');
    await run(w);
    w.advance(20 * MIN);
    w.ngrok.settle(first(w), 'succeeded', HOUR, MIN);
    w.advance(MIN);
    await run(w);
    expect(w.ngrok.purchases).toHaveLength(1);
    expect(decided(w, first(w).id)).toEqual(['top-up-started', 'top-up-succeeded']);
    expect(w.check()).toEqual([]);
  });

  it('a clock minutes ahead of ngrok at midnight waits minutes, not the month', async () => {
    const w = world('2026-12-31T22:00:00Z', { amountCents: 2000, monthlyCapCents: 2500 }, 4 * MIN);
    await established(w);
    balance(w, 300);
    await run(w);
    w.ngrok.settle(first(w), 'succeeded', 0, MIN);
    w.advance(10 * MIN);
    await run(w);
    // Act: 23:58:30 at ngrok is past midnight on the monitor's clock
    w.t = Date.parse('2026-12-31T23:58:30Z');
    balance(w, 300);
    await run(w);
    expect(own(w)).toHaveLength(1);
    w.t = Date.parse('2027-01-01T01:00:00Z');
    balance(w, 300);
    await run(w);
    // Assess: January buys
    expect(own(w)).toHaveLength(2);
    expect(w.check()).toEqual([]);
  });

  it('a refunded grant gives no second success and no stall; its refund row is read', async () => {
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 5000 });
    await established(w);
    balance(w, 300);
    await run(w);
    w.ngrok.settle(first(w), 'succeeded', 0, MIN);
    w.advance(5 * MIN);
    await run(w);
    // Act: the grant is refunded (it leaves the list, a negative row appears)
    w.ngrok.refund(first(w));
    w.advance(2 * HOUR);
    balance(w, 300);
    await run(w);
    // Assess
    expect(decided(w, first(w).id)).toEqual(['top-up-started', 'top-up-succeeded']);
    expect(own(w)).toHaveLength(2);
    expect(w.check()).toEqual([]);
  });

  it('a status read that keeps failing: one notice after an hour, followed to the end', async () => {
    const w = world('2026-12-10T12:00:00Z');
    await established(w);
    balance(w, 300);
    await run(w);
    for (let i = 0; i < 8; i++) {
      w.advance(15 * MIN);
      w.script.read.push('fail', 'fail');
      await run(w);
    }
    const notices = () => decided(w, first(w).id).filter((k) => k === 'top-up-pending-long');
    expect(notices()).toHaveLength(1);
    w.ngrok.settle(first(w), 'succeeded', 0, MIN);
    w.advance(15 * MIN);
    await run(w);
    expect(decided(w, first(w).id)).toEqual([
      'top-up-started',
      'top-up-pending-long',
      'top-up-succeeded',
    ]);
    expect(w.check()).toEqual([]);
  });

  it('a dry run announces what it would buy once per low spell and never buys', async () => {
    const w = world('2026-12-10T12:00:00Z', { dryRun: true });
    await established(w);
    balance(w, 300);
    await run(w);
    w.advance(HOUR);
    await run(w);
    balance(w, 5000);
    w.advance(HOUR);
    await run(w);
    balance(w, 300);
    w.advance(HOUR);
    await run(w);
    expect(w.ngrok.purchases).toHaveLength(0);
    expect([...w.decided.values()].map((d) => d.kind)).toEqual([
      'top-up-dry-run',
      'top-up-dry-run',
    ]);
    expect(w.check()).toEqual([]);
  });
});

describe('holes the model found', () => {
  it('a purchase by hand of the same amount, listed while ours lags, is not taken for ours', async () => {
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 4500 });
    await established(w);
    balance(w, 300);
    await run(w);
    w.ngrok.settle(first(w), 'succeeded', 23 * HOUR, MIN);
    w.advance(5 * MIN);
    await run(w);
    // Act: $20 by hand, listed at once; ours is still not listed
    w.ngrok.byHand(2000, 'succeeded', 0, 0);
    w.advance(2 * HOUR);
    balance(w, 300);
    await run(w);
    // Assess: $20 + $20 + $20 would pass $45
    expect(own(w)).toHaveLength(1);
    expect(w.check()).toEqual([]);
  });

  it('a record lost while a purchase is pending lets at most that one purchase through', async () => {
    // The bound the README states: ngrok allows one unresolved purchase, and a lost record
    // cannot know it if it ends before the next POST would have been refused for it.
    const w = world('2026-12-10T12:00:00Z', { amountCents: 2000, monthlyCapCents: 2500 });
    await established(w);
    balance(w, 300);
    await run(w);
    w.wipe();
    await run(w);
    w.advance(HOLD_MS + HOUR);
    w.ngrok.settle(first(w), 'succeeded', 20 * HOUR, MIN);
    balance(w, 300);
    await run(w);
    expect(own(w).length).toBeLessThanOrEqual(2);
    expect(w.check()).toEqual([]);
  });
});
