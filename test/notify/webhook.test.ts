import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../lambda/common/types.ts';
import { ChannelPostError } from '../../lambda/notify/channels/post.ts';
import {
  postToWebhook,
  SIGNATURE_HEADER,
  signatureFor,
} from '../../lambda/notify/channels/webhook.ts';
import { renderNotification } from '../../lambda/notify/render.ts';
import { FakeWebhookReceiver, verifySignature } from '../support/stand-ins/webhook-receiver.ts';

const SECRET = 'whsec_0123456789abcdef';
const PATH = '/hooks/T0KEN-in-the-path?key=QUERYSECRET';

const notification: Notification = {
  kind: 'balance-alert',
  account: 'prod',
  level: 'low',
  reason: 'balance',
  balanceCents: 499,
  thresholds: { thresholdCents: 1000, recoveryMarginCents: 100 },
  thresholdParameterName: '/ngrok-balance-alert/prod/threshold-cents',
  configProblems: [],
  at: '2025-06-02T09:00:00.000Z',
};
const body = JSON.stringify(renderNotification(notification, { region: 'eu-west-1' }).structured);

const receivers: FakeWebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(...script: FakeWebhookReceiver['script']): Promise<FakeWebhookReceiver> {
  const r = await new FakeWebhookReceiver().start();
  if (script.length > 0) r.script = script;
  receivers.push(r);
  return r;
}

/** Fast, deterministic retries on the real clock. */
const options = (extra: Partial<Parameters<typeof postToWebhook>[3]> = {}) => ({
  deadline: Date.now() + 10_000,
  random: () => 0,
  sleep: async () => {},
  ...extra,
});

describe('postToWebhook', () => {
  it('posts the version 2 JSON as it is, signed so the receiver can verify it', async () => {
    // Prepare
    const r = await receiver();

    // Act
    const result = await postToWebhook(`${r.url}${PATH}`, body, SECRET, options());

    // Assess
    expect(result).toEqual({ status: 200, attempts: 1 });
    const [delivery] = r.deliveries;
    expect(delivery?.body).toBe(body);
    expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({ version: 2, kind: 'balance-alert' });
    const header = delivery?.headers[SIGNATURE_HEADER] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verifySignature(SECRET, header, body, Date.now() / 1000)).toBe(true);
  });

  it('gives a signature that fails for another secret, another body or an old time', async () => {
    // Prepare
    const now = 1_750_000_000;
    const header = signatureFor(SECRET, body, now);

    // Assess
    expect(await verifySignature(SECRET, header, body, now)).toBe(true);
    expect(await verifySignature('another secret', header, body, now)).toBe(false);
    expect(await verifySignature(SECRET, header, `${body} `, now)).toBe(false);
    expect(await verifySignature(SECRET, header, body, now + 301)).toBe(false);
  });

  it('sends no signature header without a secret', async () => {
    const r = await receiver();
    await postToWebhook(`${r.url}/hook`, body, undefined, options());
    expect(r.deliveries[0]?.headers[SIGNATURE_HEADER]).toBeUndefined();
  });

  it('retries a 429 after Retry-After and a 5xx, each attempt signed afresh', async () => {
    // Prepare
    const r = await receiver(
      { status: 429, headers: { 'retry-after': '0' }, body: 'slow down' },
      { status: 503, headers: {}, body: '' },
      { status: 204, headers: {}, body: '' },
    );

    // Act
    const result = await postToWebhook(`${r.url}/hook`, body, SECRET, options());

    // Assess
    expect(result).toEqual({ status: 204, attempts: 3 });
    for (const delivery of r.deliveries) {
      const header = delivery.headers[SIGNATURE_HEADER] as string;
      expect(await verifySignature(SECRET, header, body, Date.now() / 1000)).toBe(true);
    }
  });

  it('does not retry a 400, and says what to check without the URL or the secret', async () => {
    // Prepare
    const r = await receiver({ status: 400, headers: {}, body: `bad ${PATH} ${SECRET}` });

    // Act
    const error = await postToWebhook(`${r.url}${PATH}`, body, SECRET, options()).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(ChannelPostError);
    expect(r.deliveries).toHaveLength(1);
    const message = (error as Error).message;
    expect(message).toContain('Webhook answered HTTP 400');
    expect(message).toContain('version 2');
    expect(message).not.toContain('T0KEN');
    expect(message).not.toContain('QUERYSECRET');
    expect(message).not.toContain(SECRET);
  });

  it('gives up within the deadline when the receiver never answers in time', async () => {
    // Prepare
    const r = await receiver();
    r.latencyMs = 2_000;

    // Act
    const error = await postToWebhook(
      `${r.url}/hook`,
      body,
      SECRET,
      options({ deadline: Date.now() + 1_000, attemptTimeoutMs: 300 }),
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ChannelPostError);
    expect((error as ChannelPostError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/did not answer within \d+ ms/);
  });
});

describe('the README verification example', () => {
  /** The `verify` function exactly as the README prints it. */
  async function readmeVerify() {
    const { readFileSync } = await import('node:fs');
    const crypto = await import('node:crypto');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### A signed webhook'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const body = code.replace(/^import .*$/m, '');
    return new Function('createHmac', 'timingSafeEqual', `${body}\nreturn verify;`)(
      crypto.createHmac,
      crypto.timingSafeEqual,
    ) as (secret: string, header: string, raw: string, now?: number) => boolean;
  }

  it('accepts what the poster signs, and refuses another body, secret or an old time', async () => {
    // Prepare
    const verify = await readmeVerify();
    const now = 1_750_000_000;
    const header = signatureFor(SECRET, body, now);

    // Assess
    expect(verify(SECRET, header, body, now)).toBe(true);
    expect(verify(SECRET, header, `${body} `, now)).toBe(false);
    expect(verify('another secret', header, body, now)).toBe(false);
    expect(verify(SECRET, header, body, now + 301)).toBe(false);
  });
});
