/**
 * The ngrok API base URL from `NGROK_API_URL`. The API key travels with every request, so
 * only https is accepted, and plain http only on a loopback address (a local stand-in).
 */
import { isLoopbackHost } from './contract.ts';

export class ApiUrlError extends Error {
  override readonly name = 'ApiUrlError';
}

/**
 * `value` if it is an acceptable API base URL, `fallback` when it is unset or empty; throws
 * an ApiUrlError that says why and what to set instead.
 */
export function checkedApiUrl(value: string | undefined, fallback: string): string {
  const text = value?.trim() ?? '';
  if (text === '') return fallback;
  const shown = JSON.stringify(text.length > 100 ? `${text.slice(0, 97)}...` : text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApiUrlError(
      `NGROK_API_URL ${shown} is not a URL. Expected ${fallback} (unset the variable for it), ` +
        'or http://127.0.0.1:PORT for a local stand-in.',
    );
  }
  const problem =
    url.username || url.password
      ? 'has a user name or password in it'
      : url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
        ? undefined
        : 'is not an https URL, and the API key is sent with every request';
  if (problem !== undefined) {
    throw new ApiUrlError(
      `NGROK_API_URL ${shown} ${problem}. Expected ${fallback} (unset the variable for it), ` +
        'or http:// only on a loopback address (127.0.0.1, localhost, [::1]) for a local stand-in.',
    );
  }
  return text;
}
