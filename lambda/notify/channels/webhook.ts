/**
 * The generic webhook channel: POSTs the version 2 notification JSON (render-json.ts) as it
 * is, signed when a secret is configured, so a receiver can check that the body came from
 * this monitor and refuse replays:
 *
 *   X-Ngrok-Balance-Alert-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
 *
 * The signature is made when each attempt starts, so a retried post carries a fresh time.
 * The URL and the secret never appear in an error or a log.
 */
import { createHmac } from 'node:crypto';
import { type Channel, type PostOptions, type PostResult, postJson } from './post.ts';

export const SIGNATURE_HEADER = 'x-ngrok-balance-alert-signature';

/** What each permanent failure means and what fixes it. */
const PERMANENT_HINTS: Readonly<Record<number, string>> = {
  400: 'the receiver refused the body; check that it accepts version 2 of the notification JSON',
  401: 'the receiver refused the signature; check that both sides hold the same secret',
  403: 'the receiver refused the signature; check that both sides hold the same secret',
  404: 'nothing answers at this URL; update the webhook URL parameter',
  410: 'the receiver is gone; update the webhook URL parameter',
};

/** The signature header's value for `body` at `unixSeconds`. */
export function signatureFor(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * Posts `body` (the version 2 JSON, exactly as it will be signed) to the webhook. With a
 * `secret`, every attempt carries a signature header.
 */
export async function postToWebhook(
  url: string,
  body: string,
  secret: string | undefined,
  options: PostOptions,
): Promise<PostResult> {
  const channel: Channel = {
    label: 'Webhook',
    who: 'the receiver',
    hints: PERMANENT_HINTS,
    redact: (text) => redactSecrets(text, url, secret),
    ...(secret !== undefined && {
      headers: (nowMs: number) => ({
        [SIGNATURE_HEADER]: signatureFor(secret, body, nowMs / 1000),
      }),
    }),
  };
  return postJson(url, body, channel, options);
}

/**
 * Removes the URL, its path and query, each long part of them (a token a receiver may echo
 * on its own) and the secret from text that may be shown.
 */
export function redactSecrets(text: string, url: string, secret: string | undefined): string {
  let out = text.split(url).join('[webhook URL]');
  try {
    const { pathname, search, searchParams } = new URL(url);
    if (search.length > 1) out = out.split(search).join('[webhook query]');
    if (pathname.length > 1) out = out.split(pathname).join('[webhook path]');
    const parts = [...pathname.split('/'), ...searchParams.values()]
      .filter((part) => part.length >= 8)
      .sort((a, b) => b.length - a.length);
    for (const part of parts) out = out.split(part).join('[redacted]');
  } catch {
    // Not a URL: the exact text has been removed already.
  }
  return secret ? out.split(secret).join('[webhook secret]') : out;
}
