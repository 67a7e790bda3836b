import { describe, expect, test } from 'vitest';
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
} from '../lambda/watches/access-key-names.ts';

const NOW = new Date('2026-11-24T12:00:00Z');

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
