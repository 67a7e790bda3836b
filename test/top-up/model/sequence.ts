/**
 * One random sequence of the money model from a seed: runs interleaved step by step with
 * ngrok, the user, the store and the clock, then a calm end (no faults) in which every
 * purchase resolves and every notification goes out, then the oracles.
 */
import type { TopUpSettings } from '../../../lambda/watches/top-up/decide.ts';
import { Rng, SETTINGS, World } from './world.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Where a sequence starts: mid-month, or half an hour before a month (or year) ends. */
const STARTS = [
  Date.parse('2026-12-10T12:00:00Z'),
  Date.parse('2026-12-31T23:30:00Z'),
  Date.parse('2026-11-30T23:40:00Z'),
  Date.parse('2027-02-28T22:00:00Z'),
];

const AMOUNTS = [500, 2000, 2500];
const CAPS = [2500, 5000, 6000];

export interface SequenceResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly trace: readonly string[];
  readonly purchases: number;
}

export async function runSequence(
  seed: number,
  options: { trace?: boolean } = {},
): Promise<SequenceResult> {
  const pick = new Rng(seed ^ 0x5eed);
  const settings: TopUpSettings = {
    ...SETTINGS,
    amountCents: pick.pick(AMOUNTS),
    monthlyCapCents: pick.pick(CAPS),
    dryRun: pick.chance(0.05),
  };
  const world = new World({
    seed,
    start: pick.pick(STARTS),
    settings: {
      ...settings,
      monthlyCapCents: Math.max(settings.monthlyCapCents, settings.amountCents),
    },
    faults: pick.chance(0.85),
    damage: pick.chance(0.3),
    trace: options.trace,
  });
  const { rng } = world;
  // A record that has been running for a day already, unless the sequence starts from none.
  if (rng.chance(0.8)) {
    const start = world.t;
    world.t -= 25 * HOUR;
    world.ngrok.baseCents = 5000;
    const run = await world.startRun(0);
    const faults = world.faults;
    world.faults = false;
    await world.complete(run);
    world.faults = faults;
    world.t = start;
  }
  world.ngrok.baseCents = rng.pick([300, 800, 5000]);
  const steps = rng.between(25, 100);
  for (let i = 0; i < steps; i++) {
    const active = world.active();
    const what = rng.weighted({
      start: active.length < 3 ? 14 : 0,
      step: active.length > 0 ? 70 : 0,
      tick: 10,
      hour: active.length > 0 ? 1 : 5,
      day: active.length > 0 ? 0.5 : 2,
      settle: world.ngrok.unresolved() ? 8 : 0,
      hand: 2,
      drain: 5,
      raise: 2,
      refund: 1,
      wipe: world.options.damage ? 0.5 : 0,
      rollback: world.options.damage ? 0.7 : 0,
      hostile: world.options.damage ? 0.4 : 0,
      config: 1,
      crash: active.length > 0 ? 1 : 0,
      clock: active.length > 0 ? 0 : 0.5,
    });
    switch (what) {
      case 'start':
        await world.startRun();
        break;
      case 'step':
        await world.step(rng.pick(active));
        break;
      case 'tick':
        world.advance(rng.between(5, 180) * 1000);
        break;
      case 'hour':
        world.advance(rng.between(30, 120) * MIN);
        break;
      case 'day':
        world.advance(rng.between(6, 30) * HOUR);
        break;
      case 'settle': {
        const p = world.ngrok.unresolved();
        if (p) {
          world.settle(
            p,
            rng.weighted({
              succeeded: 6,
              failed: 3,
              actionRequired: p.status === 'pending' ? 2 : 0,
            }),
          );
        }
        break;
      }
      case 'hand':
        world.byHand();
        break;
      case 'drain':
        world.ngrok.baseCents =
          rng.between(-2000, 900) - (world.ngrok.balance() - world.ngrok.baseCents);
        break;
      case 'raise':
        world.ngrok.baseCents += rng.between(500, 5000);
        break;
      case 'refund': {
        const done = world.ngrok.purchases.filter((p) => p.status === 'succeeded');
        if (done.length > 0) world.ngrok.refund(rng.pick(done));
        break;
      }
      case 'wipe':
        world.wipe();
        break;
      case 'rollback':
        world.rollback();
        break;
      case 'hostile':
        world.hostile();
        break;
      case 'config': {
        const amountCents = rng.pick(AMOUNTS);
        world.settings = {
          ...world.settings,
          amountCents,
          monthlyCapCents: Math.max(amountCents, rng.pick(CAPS)),
          dryRun: rng.chance(0.1),
        };
        world.log(`config: ${JSON.stringify(world.settings)}`);
        break;
      }
      case 'crash':
        world.crash(rng.pick(active));
        break;
      case 'clock':
        world.clockJump();
        break;
    }
  }
  await calm(world);
  return {
    seed,
    violations: world.check(),
    trace: world.trace,
    purchases: world.ngrok.purchases.length,
  };
}

/**
 * The end of a sequence: no more faults, ngrok settles what is open, the balance dips now
 * and then, and single runs go until everything is resolved and published.
 */
export async function calm(world: World): Promise<void> {
  const { rng } = world;
  for (const run of world.active()) world.crash(run);
  world.faults = false;
  world.settings = { ...world.settings, dryRun: false };
  for (let i = 0; i < 8; i++) {
    world.advance(rng.between(2, 8) * HOUR);
    const open = world.ngrok.unresolved();
    if (open) world.settle(open, rng.chance(0.7) ? 'succeeded' : 'failed');
    if (i % 3 === 0) world.ngrok.baseCents = 300 - (world.ngrok.balance() - world.ngrok.baseCents);
    const run = await world.startRun();
    await world.complete(run);
  }
  world.advance(30 * HOUR);
  for (let i = 0; i < 2; i++) {
    const open = world.ngrok.unresolved();
    if (open) world.settle(open, 'succeeded');
    const run = await world.startRun();
    await world.complete(run);
    world.advance(2 * HOUR);
  }
}
