/**
 * "Buy $X now" through the whole run, against local stand-ins: a low-balance alert with auto
 * top-up off carries one checkout link, its reminder carries the same link while the page is
 * valid and a new one after it expired, a failing checkout call leaves the alert on time
 * without a link, and nothing is created for a run that sends no alert.
 */
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../lambda/common/types.ts';
import { runMonitor } from '../../lambda/run/monitor.ts';
import type { AlertState } from '../../lambda/store/state.ts';
import { WATCHES } from '../../lambda/watches/index.ts';
import { CHECKOUT_LIFETIME_MS } from '../../lambda/watches/pay-link-policy.ts';
import { watch } from '../../lambda/watches/watch.ts';
import { accountConfig, HOUR, MINUTE, monitorConfig, NOW, World } from '../support/run-harness.ts';

const prod = accountConfig('prod', { thresholdCents: 1000 });
const at = (ms: number) => new Date(NOW.getTime() + ms);

/** The World with a checkout stand-in: numbered sessions, or failures while `failing`. */
function checkoutWorld() {
  const world = new World();
  const checkout = { calls: [] as number[], failing: false, status: 500 };
  const base = world.fetch;
  const fetchWithCheckout: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname !== '/credits/checkout-session') return base(input, init);
    const amount = (JSON.parse(String(init?.body)) as { amount: number }).amount;
    checkout.calls.push(amount);
    if (checkout.failing) return new Response('{}', { status: checkout.status });
    const n = checkout.calls.length;
    return new Response(
      JSON.stringify({
        sessionId: `cs_${n}`,
        sessionUrl: `https://checkout.stripe.test/c/cs_${n}`,
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  };
  // Every notification the run decided to send, as the last watch sees them.
  const decided: Notification[] = [];
  const spy = watch<undefined>({
    name: 'spy',
    decide(_input, step) {
      decided.push(...step.notifications);
      return step;
    },
  });
  const deps = (now: Date) => {
    const d = world.deps(now, { watches: [...WATCHES, spy] });
    return { ...d, ngrok: { ...d.ngrok, fetch: fetchWithCheckout } };
  };
  return { world, checkout, decided, deps };
}

async function alertState(world: World): Promise<AlertState | undefined> {
  return (await world.record(prod))?.alert as AlertState | undefined;
}

describe('the pay link in alerts', () => {
  it('gives a low-balance alert with auto top-up off one checkout link, saved for the episode', async () => {
    // Prepare
    const { world, checkout, decided, deps } = checkoutWorld();
    world.seed(prod, 400);
    const config = monitorConfig([prod]);
    // Act
    await runMonitor(config, deps(NOW), { eventId: 'e1' });
    // Assess
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    expect(checkout.calls).toEqual([1000]);
    expect(decided.map((n) => [n.kind, n.payLink])).toEqual([
      [
        'balance-alert',
        {
          url: 'https://checkout.stripe.test/c/cs_1',
          amountCents: 1000,
          expiresAt: at(CHECKOUT_LIFETIME_MS).toISOString(),
        },
      ],
    ]);
    expect((await alertState(world))?.checkout).toEqual({
      episodeSince: NOW.toISOString(),
      link: {
        url: 'https://checkout.stripe.test/c/cs_1',
        amountCents: 1000,
        createdAt: NOW.toISOString(),
        expiresAt: at(CHECKOUT_LIFETIME_MS).toISOString(),
      },
    });
  });

  it('reuses the link in reminders while it is valid, and makes a new one after it expired', async () => {
    const { world, checkout, decided, deps } = checkoutWorld();
    world.seed(prod, 400);
    const config = monitorConfig([prod], { renotifyHours: 8 });
    // The alert, a quiet run, then reminders at 8 h, 16 h (link still valid 8 h) and 24 h
    // (expired): one page for the first three, a second one for the last.
    for (const [i, hours] of [0, 0.25, 8, 16, 24].entries()) {
      await runMonitor(config, deps(at(hours * HOUR)), { eventId: `e${i}` });
    }
    expect(world.published.map((p) => p.kind)).toEqual([
      'balance-alert',
      'balance-reminder',
      'balance-reminder',
      'balance-reminder',
    ]);
    expect(checkout.calls).toHaveLength(2);
    expect(decided.map((n) => n.payLink?.url)).toEqual([
      'https://checkout.stripe.test/c/cs_1',
      'https://checkout.stripe.test/c/cs_1',
      'https://checkout.stripe.test/c/cs_1',
      'https://checkout.stripe.test/c/cs_2',
    ]);
  });

  it('sends the alert on time without a link when the checkout call fails', async () => {
    const { world, checkout, decided, deps } = checkoutWorld();
    world.seed(prod, 400);
    checkout.failing = true;
    await runMonitor(monitorConfig([prod]), deps(NOW), { eventId: 'e1' });
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    expect(decided[0]?.payLink).toBeUndefined();
    expect((await alertState(world))?.checkout).toEqual({ episodeSince: NOW.toISOString() });
    expect(world.logs.some((l) => l.includes('checkout link unavailable'))).toBe(true);
    // The 500 was retried once within the budget. The next try is with the next alert that
    // needs a link (the reminder), not on quiet runs.
    expect(checkout.calls).toHaveLength(2);
    checkout.failing = false;
    await runMonitor(monitorConfig([prod]), deps(at(15 * MINUTE)), { eventId: 'e2' });
    expect(checkout.calls).toHaveLength(2);
    await runMonitor(monitorConfig([prod]), deps(at(24 * HOUR)), { eventId: 'e3' });
    expect(checkout.calls).toHaveLength(3);
    expect(decided.at(-1)?.payLink?.url).toBe('https://checkout.stripe.test/c/cs_3');
  });

  it('gives up on a checkout call that hangs within its 2 s budget, and still alerts', async () => {
    const { world, decided, deps } = checkoutWorld();
    world.seed(prod, 400);
    const d = deps(NOW);
    const base = d.ngrok.fetch;
    const hanging: typeof fetch = async (input, init) => {
      if (!String(input).includes('/credits/checkout-session')) return base(input, init);
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    };
    const started = Date.now();
    await runMonitor(
      monitorConfig([prod]),
      { ...d, ngrok: { ...d.ngrok, fetch: hanging } },
      {
        eventId: 'e1',
      },
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert']);
    expect(decided[0]?.payLink).toBeUndefined();
  });

  it('makes no page for a healthy account, and forgets the link when the alert ends', async () => {
    const { world, checkout, deps } = checkoutWorld();
    world.seed(prod, 5000);
    const config = monitorConfig([prod]);
    await runMonitor(config, deps(NOW), { eventId: 'e1' });
    expect(checkout.calls).toEqual([]);
    world.setBalance(prod, 400);
    await runMonitor(config, deps(at(15 * MINUTE)), { eventId: 'e2' });
    world.setBalance(prod, 5000);
    await runMonitor(config, deps(at(30 * MINUTE)), { eventId: 'e3' });
    expect(world.published.map((p) => p.kind)).toEqual(['balance-alert', 'balance-recovered']);
    expect(checkout.calls).toHaveLength(1);
    expect((await alertState(world))?.checkout).toBeUndefined();
    // A new episode gets a page of its own, though the first is still valid.
    world.setBalance(prod, 400);
    await runMonitor(config, deps(at(45 * MINUTE)), { eventId: 'e4' });
    expect(checkout.calls).toHaveLength(2);
  });

  it('uses checkoutAmountCents when it is set', async () => {
    const account = accountConfig('prod', { thresholdCents: 1000, checkoutAmountCents: 2500 });
    const { world, checkout, deps } = checkoutWorld();
    world.seed(account, 400);
    await runMonitor(monitorConfig([account]), deps(NOW), { eventId: 'e1' });
    expect(checkout.calls).toEqual([2500]);
  });
});
