/**
 * GET /access-keys against the stand-in on 127.0.0.1, and the naming and cache rules.
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  accessKeyDisplayName,
  type KeyNameCache,
  keyName,
  MAX_CACHED_NAMES,
  MAX_NAME_CHARS,
  NAME_CACHE_MS,
  NAME_RETRY_MS,
  shouldFetchKeyNames,
  updateKeyNameCache,
} from '../lambda/access-key-names.ts';
import {
  ACCESS_KEYS_PAGE_SIZE,
  fetchAccessKeyNames,
  MAX_ACCESS_KEY_PAGES,
  parseAccessKeyPage,
} from '../lambda/access-keys.ts';
import { NgrokApiError, type NgrokClientOptions } from '../lambda/ngrok-client.ts';
import { type StandInAccessKey, startAccessKeysStandIn } from './support/access-keys-stand-in.ts';
import type { TestHttpServer } from './support/http-server.ts';

const KEY = 'ngrok-test-key-DO-NOT-LOG-1234';
const NOW = new Date('2026-11-24T12:00:00Z');

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function standIn(keys: StandInAccessKey[], failWith?: number): Promise<TestHttpServer> {
  const server = await startAccessKeysStandIn(keys, { failWith });
  servers.push(server);
  return server;
}

function options(server: TestHttpServer): NgrokClientOptions {
  return { baseUrl: server.url, sleep: async () => undefined, maxAttempts: 2 };
}

const budget = () => ({ deadline: Date.now() + 10_000 });

function manyKeys(count: number): StandInAccessKey[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `ak_${String(i).padStart(5, '0')}`,
    name: `key ${i}`,
  }));
}

describe('fetchAccessKeyNames', () => {
  test('reads each key’s name, falling back to its redacted token, then its id', async () => {
    // Prepare
    const server = await standIn([
      { id: 'ak_1', name: 'batch-worker', keyRedacted: 'ak_...x9Qz' },
      { id: 'ak_2', keyRedacted: 'ak_...7Lm2' },
      { id: 'ak_3' },
    ]);

    // Act
    const names = await fetchAccessKeyNames(KEY, budget(), options(server));

    // Assess
    expect(Object.fromEntries(names)).toEqual({
      ak_3: 'ak_3',
      ak_2: 'ak_...7Lm2',
      ak_1: 'batch-worker',
    });
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  test('follows the pages, 100 keys a page, with beforeId', async () => {
    // Prepare
    const server = await standIn(manyKeys(250));

    // Act
    const names = await fetchAccessKeyNames(KEY, budget(), options(server));

    // Assess
    expect(names.size).toBe(250);
    expect(names.get('ak_00007')).toBe('key 7');
    expect(server.requests.map((r) => r.url)).toEqual([
      `/access-keys?limit=${ACCESS_KEYS_PAGE_SIZE}`,
      `/access-keys?limit=${ACCESS_KEYS_PAGE_SIZE}&beforeId=ak_00150`,
      `/access-keys?limit=${ACCESS_KEYS_PAGE_SIZE}&beforeId=ak_00050`,
    ]);
  });

  test('reads an account without keys in one request', async () => {
    // Prepare
    const server = await standIn([]);

    // Act
    const names = await fetchAccessKeyNames(KEY, budget(), options(server));

    // Assess
    expect([names.size, server.requests.length]).toEqual([0, 1]);
  });

  test(`gives up after ${MAX_ACCESS_KEY_PAGES} pages rather than run on`, async () => {
    // Prepare
    const server = await standIn(manyKeys(MAX_ACCESS_KEY_PAGES * ACCESS_KEYS_PAGE_SIZE + 1));

    // Act
    const result = fetchAccessKeyNames(KEY, budget(), options(server));

    // Assess
    await expect(result).rejects.toThrow(
      `GET /access-keys has more than ${MAX_ACCESS_KEY_PAGES} pages of 100 keys; the names were not read`,
    );
    expect(server.requests).toHaveLength(MAX_ACCESS_KEY_PAGES);
  });

  test('fails with an NgrokApiError that never quotes the API key', async () => {
    // Prepare
    const server = await standIn([], 403);

    // Act
    const error = await fetchAccessKeyNames(KEY, budget(), options(server)).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(NgrokApiError);
    expect((error as NgrokApiError).kind).toBe('auth');
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain(KEY);
  });
});

describe('parseAccessKeyPage', () => {
  const page = (value: unknown) => parseAccessKeyPage({ value, numberSources: new WeakMap() });

  test('keeps the id and, when they are strings, the name and redacted token', () => {
    // Act
    const parsed = page({
      aiGatewayAccessKeys: [
        { id: 'ak_1', name: 'prod', keyRedacted: 'ak_...1', extra: true },
        { id: 'ak_2', name: 7, keyRedacted: null },
      ],
      nextPageUri: 'https://api.ngrok.ai/access-keys?beforeId=ak_2',
    });

    // Assess
    expect(parsed).toEqual({
      keys: [{ id: 'ak_1', name: 'prod', keyRedacted: 'ak_...1' }, { id: 'ak_2' }],
      last: false,
    });
  });

  test.each([
    ['a null nextPageUri', null],
    ['no nextPageUri', undefined],
    ['an empty nextPageUri', ''],
  ])('treats a page with %s as the last', (_name, nextPageUri) => {
    // Act
    const parsed = page({ aiGatewayAccessKeys: [], nextPageUri });

    // Assess
    expect(parsed.last).toBe(true);
  });

  test.each([
    ['a list', [], 'a body that is not a JSON object'],
    ['null', null, 'a body that is not a JSON object'],
    ['no keys', { uri: '/access-keys' }, 'no aiGatewayAccessKeys array'],
    [
      'a key without an id',
      { aiGatewayAccessKeys: [{ name: 'x' }] },
      'access key 0 without an id string',
    ],
    [
      'an empty id',
      { aiGatewayAccessKeys: [{ id: 'a' }, { id: '' }] },
      'access key 1 without an id string',
    ],
    [
      'a key that is not an object',
      { aiGatewayAccessKeys: ['ak_1'] },
      'access key 0 without an id string',
    ],
  ])('refuses %s', (_name, value, problem) => {
    // Act
    const act = () => page(value);

    // Assess
    expect(act).toThrow(
      new NgrokApiError(`GET /access-keys returned ${problem}`, 'transient', 200),
    );
  });
});

describe('accessKeyDisplayName', () => {
  test.each([
    ['its name', { id: 'ak_1', name: 'batch-worker', keyRedacted: 'r' }, 'batch-worker'],
    ['its redacted token without a name', { id: 'ak_1', keyRedacted: 'ak_...9Qz' }, 'ak_...9Qz'],
    ['its redacted token for a blank name', { id: 'ak_1', name: ' \n', keyRedacted: 'r' }, 'r'],
    ['its id without either', { id: 'ak_1', name: '', keyRedacted: '' }, 'ak_1'],
    ['its name on one line', { id: 'ak_1', name: ' two\nlines\u0007 ' }, 'two lines'],
  ])('shows a key by %s', (_name, key, expected) => {
    // Act
    const name = accessKeyDisplayName(key);

    // Assess
    expect(name).toBe(expected);
  });

  test(`cuts a name longer than ${MAX_NAME_CHARS} characters`, () => {
    // Act
    const name = accessKeyDisplayName({ id: 'ak_1', name: 'n'.repeat(MAX_NAME_CHARS + 1) });
    const exact = accessKeyDisplayName({ id: 'ak_1', name: 'n'.repeat(MAX_NAME_CHARS) });

    // Assess
    expect(name).toBe(`${'n'.repeat(MAX_NAME_CHARS - 1)}…`);
    expect(exact).toBe('n'.repeat(MAX_NAME_CHARS));
  });
});

describe('shouldFetchKeyNames', () => {
  const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
  const cache = (overrides: Partial<KeyNameCache> = {}): KeyNameCache => ({
    fetchedAt: ago(NAME_RETRY_MS),
    names: { ak_1: 'prod' },
    ...overrides,
  });

  test.each([
    ['nothing to show', cache({ fetchedAt: undefined }), [], false],
    ['no cache yet', undefined, ['ak_1'], true],
    ['fresh names for every key shown', cache(), ['ak_1'], false],
    ['names a day old', cache({ fetchedAt: ago(NAME_CACHE_MS) }), ['ak_1'], true],
    [
      'names a moment short of a day',
      cache({ fetchedAt: ago(NAME_CACHE_MS - 1) }),
      ['ak_1'],
      false,
    ],
    ['an unknown key, names an hour old', cache(), ['ak_1', 'ak_new'], true],
    [
      'an unknown key, names read just now',
      cache({ fetchedAt: ago(NAME_RETRY_MS - 1) }),
      ['ak_new'],
      false,
    ],
    ['a read that failed just now', cache({ failedAt: ago(NAME_RETRY_MS - 1) }), ['ak_new'], false],
    ['a read that failed an hour ago', cache({ failedAt: ago(NAME_RETRY_MS) }), ['ak_new'], true],
    ['an unreadable fetch time', cache({ fetchedAt: 'soon' }), ['ak_1'], true],
  ])('with %s: %s', (_name, saved, wanted, expected) => {
    // Act
    const fetch = shouldFetchKeyNames(saved, wanted, NOW);

    // Assess
    expect(fetch).toBe(expected);
  });
});

describe('updateKeyNameCache', () => {
  test('keeps only the names of the keys to show', () => {
    // Prepare
    const fetched = new Map([
      ['ak_1', 'prod'],
      ['ak_2', 'batch'],
      ['ak_3', 'dev'],
    ]);

    // Act
    const cache = updateKeyNameCache(undefined, fetched, ['ak_3', 'ak_1', 'ak_gone'], NOW);

    // Assess
    expect(cache).toEqual({ fetchedAt: NOW.toISOString(), names: { ak_3: 'dev', ak_1: 'prod' } });
  });

  test(`keeps at most ${MAX_CACHED_NAMES} names`, () => {
    // Prepare
    const ids = Array.from({ length: MAX_CACHED_NAMES + 2 }, (_, i) => `ak_${i}`);
    const fetched = new Map(ids.map((id) => [id, `name of ${id}`]));

    // Act
    const cache = updateKeyNameCache(undefined, fetched, ids, NOW);

    // Assess
    expect(Object.keys(cache.names)).toEqual(ids.slice(0, MAX_CACHED_NAMES));
  });

  test('after a failure keeps the names it had and notes when it failed', () => {
    // Prepare
    const saved: KeyNameCache = { fetchedAt: '2026-11-24T01:00:00.000Z', names: { ak_1: 'prod' } };

    // Act
    const cache = updateKeyNameCache(saved, undefined, ['ak_1'], NOW);
    const first = updateKeyNameCache(undefined, undefined, ['ak_1'], NOW);

    // Assess
    expect(cache).toEqual({ ...saved, failedAt: NOW.toISOString() });
    expect(first).toEqual({ failedAt: NOW.toISOString(), names: {} });
  });

  test('saved as JSON, a full cache stays under 600 bytes', () => {
    // Prepare
    const ids = Array.from(
      { length: MAX_CACHED_NAMES },
      (_, i) => `ak_2pQx8bLr0Zm4Nc7Yt1Hs9Fg${i}`,
    );
    const fetched = new Map(ids.map((id) => [id, 'n'.repeat(MAX_NAME_CHARS)]));

    // Act
    const cache = updateKeyNameCache(undefined, fetched, ids, NOW);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(cache))).toBeLessThan(600);
  });
});

describe('keyName', () => {
  test('shows the cached name, else the id', () => {
    // Prepare
    const cache = { names: { ak_1: 'prod', ak_2: 7, ak_3: '' } } as unknown as KeyNameCache;

    // Act
    const shown = ['ak_1', 'ak_2', 'ak_3', 'ak_4', 'toString'].map((id) => keyName(cache, id));

    // Assess
    expect(shown).toEqual(['prod', 'ak_2', 'ak_3', 'ak_4', 'toString']);
    expect(keyName(undefined, 'ak_1')).toBe('ak_1');
  });
});
