import { describe, expect, it } from 'vitest';
import { DEFAULTS, FUNCTION_SETTING_KEYS } from '../lambda/config/contract.ts';
import { parseMonitorConfig } from '../lambda/config/monitor-config.ts';
import { ConfigError, resolveSettings } from '../lambda/config/validate.ts';
import { readState } from '../lambda/store/state.ts';
import {
  autoTopUpWillNotBuy,
  CHECKOUT_LIFETIME_MS,
  LINK_MIN_REMAINING_MS,
  nextCheckoutState,
  savedLink,
  suggestedCheckoutCents,
  usableLink,
} from '../lambda/watches/pay-link-policy.ts';
import {
  freshTopUpState,
  type TopUpSettings,
  type TopUpState,
} from '../lambda/watches/top-up/decide.ts';

const NOW = new Date('2026-12-07T03:00:00Z');
const HOUR = 3_600_000;
const settings: TopUpSettings = {
  amountCents: 2000,
  monthlyCapCents: 6000,
  belowCents: 1000,
  dryRun: false,
};

const base = freshTopUpState('test');

describe('autoTopUpWillNotBuy', () => {
  it('says a person must buy when auto top-up is off or in dry run', () => {
    expect(autoTopUpWillNotBuy(undefined, undefined, NOW)).toBe(true);
    expect(autoTopUpWillNotBuy({ ...settings, dryRun: true }, { ...base, failures: 0 }, NOW)).toBe(
      true,
    );
  });

  it('leaves healthy auto top-up to buy, and never offers a link while a purchase is in flight', () => {
    expect(autoTopUpWillNotBuy(settings, { ...base, failures: 0 }, NOW)).toBe(false);
    expect(autoTopUpWillNotBuy(settings, undefined, NOW)).toBe(false);
    const pending = {
      ...base,
      failures: 2,
      intents: [{ phase: 'pending' }],
    } as unknown as TopUpState;
    expect(autoTopUpWillNotBuy(settings, pending, NOW)).toBe(false);
    const byHand = { ...base, foreign: [{ phase: 'actionRequired' }] } as unknown as TopUpState;
    expect(autoTopUpWillNotBuy(settings, byHand, NOW)).toBe(false);
    const holding = { ...base, holdUntil: new Date(NOW.getTime() + 3_600_000).toISOString() };
    expect(autoTopUpWillNotBuy(settings, holding, NOW)).toBe(true);
  });

  it('offers a link when auto top-up is capped this month, stopped or failing', () => {
    expect(autoTopUpWillNotBuy(settings, { ...base, cappedMonth: '2026-12' }, NOW)).toBe(true);
    expect(autoTopUpWillNotBuy(settings, { ...base, cappedMonth: '2026-11' }, NOW)).toBe(false);
    const stopped = { reason: 'no_default_payment_method' as const, config: 'x', at: 'y' };
    expect(autoTopUpWillNotBuy(settings, { ...base, stopped }, NOW)).toBe(true);
    expect(autoTopUpWillNotBuy(settings, { ...base, failures: 1 }, NOW)).toBe(true);
  });
});

describe('suggestedCheckoutCents', () => {
  it('covers 7 days at the faster of the recent and the long-term rate, rounded up to $5', () => {
    // $3.10/day for 7 days is $21.70: $25.00.
    expect(suggestedCheckoutCents({ dailySpendCents: 310, thresholdCents: 1000 })).toBe(2500);
    // A spike of $1/hour outweighs the $3.10/day average: $168.00 → $170.00.
    expect(
      suggestedCheckoutCents({
        recentCentsPerHour: 100,
        dailySpendCents: 310,
        thresholdCents: 1000,
      }),
    ).toBe(17_000);
  });

  it('asks for at least $5, at most ngrok’s largest purchase, the threshold when no rate is known', () => {
    expect(suggestedCheckoutCents({ dailySpendCents: 1, thresholdCents: 0 })).toBe(500);
    expect(suggestedCheckoutCents({ recentCentsPerHour: 1e6, thresholdCents: 0 })).toBe(50_000);
    expect(suggestedCheckoutCents({ thresholdCents: 1234 })).toBe(1500);
    expect(suggestedCheckoutCents({ recentCentsPerHour: 0, thresholdCents: 0 })).toBe(500);
  });

  it('uses checkoutAmountCents when it is set', () => {
    expect(suggestedCheckoutCents({ dailySpendCents: 310, thresholdCents: 1000 }, 4200)).toBe(4200);
  });
});

describe('the episode’s link', () => {
  const link = savedLink('https://checkout.stripe.test/c/1', 2500, NOW);

  it('is assumed to work for 24 hours and is shown while it has 2 hours left', () => {
    expect(Date.parse(link.expiresAt) - NOW.getTime()).toBe(CHECKOUT_LIFETIME_MS);
    const state = { episodeSince: NOW.toISOString(), link };
    const late = new Date(NOW.getTime() + CHECKOUT_LIFETIME_MS - LINK_MIN_REMAINING_MS);
    expect(usableLink(state, late)).toEqual(link);
    expect(usableLink(state, new Date(late.getTime() + 1))).toBeUndefined();
  });

  it('starts with the episode, keeps its start, drops an expired link and ends with the episode', () => {
    const started = nextCheckoutState(undefined, true, undefined, NOW);
    expect(started).toEqual({ episodeSince: NOW.toISOString() });
    const later = new Date(NOW.getTime() + HOUR);
    expect(nextCheckoutState(started, true, link, later)).toEqual({
      episodeSince: NOW.toISOString(),
      link,
    });
    const dayLater = new Date(NOW.getTime() + 23 * HOUR);
    expect(
      nextCheckoutState({ episodeSince: NOW.toISOString(), link }, true, undefined, dayLater),
    ).toEqual({
      episodeSince: NOW.toISOString(),
    });
    expect(
      nextCheckoutState({ episodeSince: NOW.toISOString(), link }, false, undefined, later),
    ).toBeUndefined();
  });
});

describe('the saved checkout part', () => {
  const core = { level: 'low', reason: 'balance', since: NOW.toISOString(), failures: 0 };

  it('is kept when it has the expected form', () => {
    const checkout = {
      episodeSince: NOW.toISOString(),
      link: savedLink('https://checkout.stripe.test/c/1', 2500, NOW),
    };
    expect(readState({ ...core, checkout }, NOW)).toEqual({ state: { ...core, checkout } });
  });

  it.each([
    ['an http link', 'http://checkout.stripe.test/c/1'],
    ['a javascript link', 'javascript:alert(1)'],
  ])('is dropped, and named, when it holds %s', (_name, url) => {
    const checkout = { episodeSince: NOW.toISOString(), link: savedLink(url, 2500, NOW) };
    const read = readState({ ...core, checkout }, NOW);
    expect(read.state).toEqual(core);
    expect(read.problems).toEqual(['saved checkout: failed the check check']);
  });
});

describe('checkoutAmountCents', () => {
  const problems = (value: unknown): string => {
    try {
      resolveSettings({ emails: ['ops@example.com'], checkoutAmountCents: value }, 'context', {
        topicGiven: false,
      });
      return '';
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
  };

  it('takes whole cents from $5 to $500 and names the key, the value and the range otherwise', () => {
    expect(problems('2500')).toBe('');
    expect(problems('499')).toContain('"checkoutAmountCents": "499"');
    expect(problems('50001')).toContain('"checkoutAmountCents"');
    expect(problems('25.5')).toContain('"checkoutAmountCents"');
  });

  it('reaches the function, which checks it again', () => {
    const resolved = resolveSettings(
      { emails: ['ops@example.com'], checkoutAmountCents: '2500' },
      'context',
      { topicGiven: false },
    );
    expect(resolved.accounts[0]?.checkoutAmountCents).toBe(2500);
    const file = (checkoutAmountCents: number) =>
      JSON.stringify({
        ...Object.fromEntries(
          FUNCTION_SETTING_KEYS.map((key) => [key, DEFAULTS[key as keyof typeof DEFAULTS]]),
        ),
        accounts: [
          {
            name: 'main',
            tokenParameterName: '/k',
            thresholdCents: 1000,
            thresholdParameterName: '/t',
            checkoutAmountCents,
          },
        ],
      });
    expect(parseMonitorConfig(file(2500)).accounts[0]?.checkoutAmountCents).toBe(2500);
    expect(() => parseMonitorConfig(file(100))).toThrow(/invalid accounts\["main"\]/);
  });
});
