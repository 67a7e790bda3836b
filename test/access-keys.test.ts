/**
 * GET /access-keys against the stand-in on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  ACCESS_KEYS_PAGE_SIZE,
  fetchAccessKeyNames,
  MAX_ACCESS_KEY_PAGES,
  parseAccessKeyPage,
} from '../lambda/ngrok/access-keys.ts';
import { NgrokApiError, type NgrokClientOptions } from '../lambda/ngrok/ngrok-client.ts';
import { type StandInAccessKey, startAccessKeysStandIn } from './support/access-keys-stand-in.ts';
import type { TestHttpServer } from './support/http-server.ts';

const KEY = 'ngrok-test-key-DO-NOT-LOG-1234';

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
