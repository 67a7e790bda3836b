/**
 * A webhook receiver: records every POST (headers and raw body) and answers from a script,
 * repeating its last entry. The signature check is an implementation of its own (WebCrypto,
 * not the poster's node:crypto HMAC), written from the documented format, as a receiver
 * would write it.
 */
import type { IncomingMessage } from 'node:http';
import { type Reply, StandInServer } from './server.ts';

export interface WebhookDelivery {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export class FakeWebhookReceiver extends StandInServer {
  readonly deliveries: WebhookDelivery[] = [];
  /** Answers in order; the last one repeats. */
  script: Reply[] = [{ status: 200, headers: {}, body: '' }];

  protected handle(req: IncomingMessage, body: string): Reply {
    this.deliveries.push({ headers: req.headers, body });
    const reply = this.script[Math.min(this.deliveries.length - 1, this.script.length - 1)];
    return reply ?? { status: 200, headers: {}, body: '' };
  }
}

/**
 * Checks `X-Ngrok-Balance-Alert-Signature: t=<unix seconds>,v1=<hex>` over "<t>.<raw body>"
 * and refuses a time more than `toleranceSeconds` from `nowSeconds` (a replay).
 */
export async function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  const fields = new Map(
    (header ?? '').split(',').map((part) => part.trim().split('=', 2) as [string, string]),
  );
  const t = Number(fields.get('t'));
  const v1 = fields.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  if (!/^[0-9a-f]{64}$/.test(v1)) return false;
  const mac = Uint8Array.from(v1.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
  // subtle.verify compares in constant time.
  return crypto.subtle.verify('HMAC', key, mac, encoder.encode(`${t}.${rawBody}`));
}
