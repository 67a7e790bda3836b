/**
 * Access keys by name: which name to show for a key, and when to read the names again.
 * The names come from GET /access-keys (access-keys.ts) and are cached in the account's
 * state for a day. Best effort: a key without a known name is shown by its id, and a
 * failed read is not retried for an hour, so names never hold up or crowd out an alert.
 * Pure: the clock is passed in.
 */
import { cutAt } from '../common/text.ts';

/** Names are read again after this long: a renamed key shows its new name within a day. */
export const NAME_CACHE_MS = 86_400_000;

/** After a failed read, or for a key the last read did not know, wait this long. */
export const NAME_RETRY_MS = 3_600_000;

/** Names kept in state: the keys a message can show (top spenders and spike drivers). */
export const MAX_CACHED_NAMES = 6;

/** A longer name is cut: it is shown in subjects and Slack lines, and saved in 4 KB of state. */
export const MAX_NAME_CHARS = 40;

/** Saved in the account's state. About 60 bytes plus 80 per cached name as JSON. */
export interface KeyNameCache {
  /** When the names were last read (ISO 8601). */
  readonly fetchedAt?: string;
  /** When the last read failed (ISO 8601); absent after a success. */
  readonly failedAt?: string;
  /** Display name by access key id, for the keys the monitor has had to show. */
  readonly names: Readonly<Record<string, string>>;
}

/** What GET /access-keys says about one key, as far as naming goes. */
export interface AccessKeyRecord {
  readonly id: string;
  readonly name?: string;
  readonly keyRedacted?: string;
}

/**
 * The name to show for a key: its name, else its redacted token ("ak_...x9Qz"), else its
 * id. Control characters become spaces and a long name is cut, since names are chosen by
 * whoever created the key.
 */
export function accessKeyDisplayName(key: AccessKeyRecord): string {
  for (const candidate of [key.name, key.keyRedacted]) {
    const clean = typeof candidate === 'string' ? tidy(candidate) : '';
    if (clean !== '') return clean;
  }
  return key.id;
}

/**
 * Whether this run should read the names: some key to show lacks a fresh name, and no read
 * failed in the last NAME_RETRY_MS. A name older than NAME_CACHE_MS is stale; a key the
 * cache does not know is looked up at most once per NAME_RETRY_MS (it may be new, or gone).
 */
export function shouldFetchKeyNames(
  cache: KeyNameCache | undefined,
  wantedIds: readonly string[],
  now: Date,
): boolean {
  if (wantedIds.length === 0) return false;
  const nowMs = now.getTime();
  const since = (iso: string | undefined) =>
    iso === undefined ? Number.POSITIVE_INFINITY : nowMs - Date.parse(iso);
  if (since(cache?.failedAt) < NAME_RETRY_MS) return false;
  const age = since(cache?.fetchedAt);
  if (!(age < NAME_CACHE_MS)) return true;
  return age >= NAME_RETRY_MS && wantedIds.some((id) => !Object.hasOwn(cache?.names ?? {}, id));
}

/**
 * The cache after a read: on success (`fetched` holds every key's display name), the names
 * of the wanted keys, at most MAX_CACHED_NAMES of them; on failure (`fetched` undefined),
 * the names it had, marked as failed so the read is not retried at once.
 */
export function updateKeyNameCache(
  cache: KeyNameCache | undefined,
  fetched: ReadonlyMap<string, string> | undefined,
  wantedIds: readonly string[],
  now: Date,
): KeyNameCache {
  const at = now.toISOString();
  if (fetched === undefined) {
    return {
      ...(cache?.fetchedAt ? { fetchedAt: cache.fetchedAt } : {}),
      failedAt: at,
      names: cache?.names ?? {},
    };
  }
  const names: Record<string, string> = {};
  for (const id of wantedIds) {
    const name = fetched.get(id);
    if (name !== undefined && Object.keys(names).length < MAX_CACHED_NAMES) names[id] = name;
  }
  return { fetchedAt: at, names };
}

/** The name to show for an access key id: the cached name, else the id itself. */
export function keyName(cache: KeyNameCache | undefined, id: string): string {
  // Saved state is parsed JSON: the type says string, but the value may be anything.
  const name: unknown = Object.hasOwn(cache?.names ?? {}, id) ? cache?.names[id] : undefined;
  return typeof name === 'string' && name !== '' ? name : id;
}

function tidy(text: string): string {
  const clean = text
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > MAX_NAME_CHARS ? `${cutAt(clean, MAX_NAME_CHARS - 1)}…` : clean;
}
