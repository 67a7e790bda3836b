import { describe, expect, it } from 'vitest';
import { CHECKOUT_BUDGET_MS, createCheckoutSession, isHttpsUrl } from '../lambda/ngrok/checkout.ts';
import { NgrokApiError, type NgrokClientOptions } from '../lambda/ngrok/ngrok-client.ts';

const KEY = 'ngrok-secret-key-0123456789';

function respond(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': type },
  });
}

function client(responses: (() => Response | Promise<Response>)[]) {
  const requests: { url: string; init: RequestInit | undefined }[] = [];
  let clock = 0;
  const options: NgrokClientOptions = {
    baseUrl: 'https://api.example.test',
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    random: () => 0.5,
    fetch: async (input, init) => {
      requests.push({ url: String(input), init });
      const next = responses.shift();
      if (!next) throw new Error('no more responses');
      return next();
    },
  };
  return { options, requests, budget: { deadline: CHECKOUT_BUDGET_MS } };
}

describe('createCheckoutSession', () => {
  it('POSTs the amount in cents and returns the session', async () => {
    // Prepare
    const c = client([
      () => respond(200, { sessionId: 'cs_1', sessionUrl: 'https://checkout.stripe.com/c/cs_1' }),
    ]);
    // Act
    const session = await createCheckoutSession(KEY, { amountCents: 2500 }, c.budget, c.options);
    // Assess
    expect(session).toEqual({
      sessionId: 'cs_1',
      sessionUrl: 'https://checkout.stripe.com/c/cs_1',
    });
    expect(c.requests).toHaveLength(1);
    expect(c.requests[0]?.url).toBe('https://api.example.test/credits/checkout-session');
    expect(c.requests[0]?.init?.method).toBe('POST');
    expect(c.requests[0]?.init?.body).toBe('{"amount":2500}');
  });

  it.each([
    ['http', { sessionId: 'cs_1', sessionUrl: 'http://checkout.stripe.com/c/cs_1' }],
    ['javascript', { sessionId: 'cs_1', sessionUrl: 'javascript:alert(1)' }],
    ['relative', { sessionId: 'cs_1', sessionUrl: '/c/cs_1' }],
    ['with credentials', { sessionId: 'cs_1', sessionUrl: 'https://a:b@checkout.stripe.com/' }],
    ['with a space', { sessionId: 'cs_1', sessionUrl: 'https://checkout.stripe.com/a b' }],
    ['no id', { sessionUrl: 'https://checkout.stripe.com/c/cs_1' }],
    ['no url', { sessionId: 'cs_1' }],
    ['an array', [1]],
  ])('refuses a 200 with %s as a failure, without retrying', async (_name, body) => {
    const c = client([() => respond(200, body)]);
    await expect(
      createCheckoutSession(KEY, { amountCents: 500 }, c.budget, c.options),
    ).rejects.toBeInstanceOf(NgrokApiError);
    expect(c.requests).toHaveLength(1);
  });

  it('retries a 503 once within its budget', async () => {
    const c = client([
      () => respond(503, 'busy', 'text/plain'),
      () => respond(200, { sessionId: 'cs_2', sessionUrl: 'https://checkout.stripe.com/c/cs_2' }),
    ]);
    const session = await createCheckoutSession(KEY, { amountCents: 500 }, c.budget, c.options);
    expect(session.sessionId).toBe('cs_2');
    expect(c.requests).toHaveLength(2);
  });

  it('reports a rejected key as auth, and never puts the key in the error', async () => {
    const c = client([() => respond(401, { msg: `bad key ${KEY}` })]);
    const error = await createCheckoutSession(KEY, { amountCents: 500 }, c.budget, c.options).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NgrokApiError);
    expect((error as NgrokApiError).kind).toBe('auth');
    expect(
      JSON.stringify({ m: (error as Error).message, s: (error as Error).stack }),
    ).not.toContain(KEY);
  });

  it('redacts the key from a network error and its cause', async () => {
    const c = client([
      () => {
        throw new Error(`connect failed for ${KEY}`);
      },
      () => {
        throw new Error(`connect failed for ${KEY}`);
      },
    ]);
    const error = (await createCheckoutSession(
      KEY,
      { amountCents: 500 },
      c.budget,
      c.options,
    ).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(KEY);
    expect(String((error.cause as Error).message)).not.toContain(KEY);
  });

  it('sends nothing for an amount below $5', async () => {
    const c = client([]);
    await expect(
      createCheckoutSession(KEY, { amountCents: 499 }, c.budget, c.options),
    ).rejects.toThrow(/at least 500/);
    expect(c.requests).toHaveLength(0);
  });
});

describe('isHttpsUrl', () => {
  it('accepts https URLs with a host and refuses the rest', () => {
    expect(isHttpsUrl('https://checkout.stripe.com/c/pay/cs_test_a1#fid')).toBe(true);
    expect(isHttpsUrl('https://')).toBe(false);
    expect(isHttpsUrl(`https://example.com/${'a'.repeat(3000)}`)).toBe(false);
    expect(isHttpsUrl('https://example.com/\u0007')).toBe(false);
  });
});
