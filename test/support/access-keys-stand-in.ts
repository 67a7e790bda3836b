/**
 * A stand-in for GET /access-keys: pages of AI Gateway access keys in descending id order,
 * `limit` and `beforeId` as the API reads them, `nextPageUri` null on the last page. Any
 * other path is a 404 in the API's error shape.
 *
 * ```ts
 * const api = await startAccessKeysStandIn([{ id: 'ak_1', name: 'batch-worker' }]);
 * try {
 *   await fetchAccessKeyNames('key', budget, { baseUrl: api.url });
 * } finally {
 *   await api.close();
 * }
 * ```
 */
import { startHttpServer, type TestHttpServer } from './http-server.ts';

/** What the stand-in lists for one key; the rest of the record is filled in. */
export interface StandInAccessKey {
  readonly id: string;
  readonly name?: string;
  readonly keyRedacted?: string;
}

export interface AccessKeysStandInOptions {
  /** Answer every request with this status and an error body instead. */
  readonly failWith?: number;
}

/** Serves `keys` (any order; listed by descending id) until closed. */
export async function startAccessKeysStandIn(
  keys: readonly StandInAccessKey[],
  options: AccessKeysStandInOptions = {},
): Promise<TestHttpServer> {
  const sorted = sortKeys(keys);
  return startHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (options.failWith !== undefined) {
      json(options.failWith, {
        statusCode: options.failWith,
        msg: 'stand-in failure',
        details: {},
      });
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/access-keys') {
      json(404, { statusCode: 404, msg: 'not found', details: {} });
      return;
    }
    json(200, accessKeysPage(sorted, url));
  });
}

/** The keys in the order GET /access-keys lists them: by descending id. */
export function sortKeys(keys: readonly StandInAccessKey[]): StandInAccessKey[] {
  return [...keys].sort((a, b) => (a.id < b.id ? 1 : -1));
}

/**
 * One page of GET /access-keys for `sorted` (by descending id), as `limit` and `beforeId`
 * in `url` ask; shared with the fake ngrok.ai API of the stand-ins folder.
 */
export function accessKeysPage(sorted: readonly StandInAccessKey[], url: URL): unknown {
  const limit = Number(url.searchParams.get('limit') ?? '100');
  const beforeId = url.searchParams.get('beforeId');
  const start = beforeId === null ? 0 : sorted.findIndex((k) => k.id < beforeId);
  const from = start === -1 ? sorted.length : start;
  const page = sorted.slice(from, from + limit);
  const more = from + limit < sorted.length;
  return {
    aiGatewayAccessKeys: page.map((k) => ({
      id: k.id,
      uri: `https://api.ngrok.ai/access-keys/${k.id}`,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      createdBy: { id: 'usr_1', uri: 'https://api.ngrok.com/users/usr_1' },
      lastUpdatedBy: { id: 'usr_1', uri: 'https://api.ngrok.com/users/usr_1' },
      keyRedacted: k.keyRedacted ?? '',
      lastUsed: null,
      ...(k.name === undefined ? {} : { name: k.name }),
    })),
    uri: `https://api.ngrok.ai${url.pathname}${url.search}`,
    nextPageUri: more
      ? `https://api.ngrok.ai/access-keys?limit=${limit}&beforeId=${page.at(-1)?.id}`
      : null,
  };
}
