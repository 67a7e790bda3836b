/**
 * GET /access-keys: the names of the account's access keys, so alerts can say "batch-worker"
 * rather than "ak_2p9...". Paged, 100 keys a page. Best effort by design: the caller gives
 * it a short budget of its own and shows ids when it fails (see access-key-names.ts).
 */
import { accessKeyDisplayName } from '../watches/access-key-names.ts';
import {
  type CallBudget,
  getJson,
  NgrokApiError,
  type NgrokClientOptions,
  type ParsedBody,
} from './ngrok-client.ts';

/** Keys per page: the most the API allows. */
export const ACCESS_KEYS_PAGE_SIZE = 100;

/** Pages read at most (5,000 keys): the names are a nicety, not worth an unbounded run. */
export const MAX_ACCESS_KEY_PAGES = 50;

/** A page of 100 keys is about 60 KB; twice the size of the largest plausible page. */
const MAX_PAGE_BYTES = 256 * 1024;

/**
 * Reads every access key's display name (name, else redacted token, else id), by id.
 *
 * Pages with `beforeId` set to the last id of the page before, until a page says it is the
 * last (`nextPageUri` null or absent) or comes back empty. The `nextPageUri` itself is not
 * followed: the API key is only ever sent to the configured base URL.
 * @throws NgrokApiError when a page cannot be read or is not a list of access keys, or
 *   when the account has more than MAX_ACCESS_KEY_PAGES pages of keys.
 */
export async function fetchAccessKeyNames(
  apiKey: string,
  budget: CallBudget,
  options: NgrokClientOptions = {},
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  let beforeId: string | undefined;
  for (let page = 0; page < MAX_ACCESS_KEY_PAGES; page++) {
    const params = new URLSearchParams({ limit: String(ACCESS_KEYS_PAGE_SIZE) });
    if (beforeId !== undefined) params.set('beforeId', beforeId);
    const body = await getJson(
      `/access-keys?${params.toString()}`,
      apiKey,
      budget,
      options,
      MAX_PAGE_BYTES,
    );
    const { keys, last } = parseAccessKeyPage(body);
    for (const key of keys) names.set(key.id, accessKeyDisplayName(key));
    const lastKey = keys.at(-1);
    if (last || lastKey === undefined || lastKey.id === beforeId) return names;
    beforeId = lastKey.id;
  }
  throw new NgrokApiError(
    `GET /access-keys has more than ${MAX_ACCESS_KEY_PAGES} pages of ${ACCESS_KEYS_PAGE_SIZE} keys; the names were not read`,
    'transient',
  );
}

/** One page of GET /access-keys, as far as naming goes. */
export interface AccessKeyPage {
  readonly keys: readonly { id: string; name?: string; keyRedacted?: string }[];
  /** True when the page says no page follows. */
  readonly last: boolean;
}

/**
 * Validates the fields naming needs: a list of keys, each with a string id; `name` and
 * `keyRedacted` used only when they are strings. Extra fields are ignored.
 */
export function parseAccessKeyPage(body: ParsedBody): AccessKeyPage {
  const fail = (what: string) =>
    new NgrokApiError(`GET /access-keys returned ${what}`, 'transient', 200);
  const { value } = body;
  if (!isObject(value)) throw fail('a body that is not a JSON object');
  const list = value.aiGatewayAccessKeys;
  if (!Array.isArray(list)) throw fail('no aiGatewayAccessKeys array');
  const keys = list.map((item: unknown, index) => {
    if (!isObject(item) || typeof item.id !== 'string' || item.id === '') {
      throw fail(`access key ${index} without an id string`);
    }
    return {
      id: item.id,
      ...(typeof item.name === 'string' ? { name: item.name } : {}),
      ...(typeof item.keyRedacted === 'string' ? { keyRedacted: item.keyRedacted } : {}),
    };
  });
  const next = value.nextPageUri;
  return { keys, last: next === null || next === undefined || next === '' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
