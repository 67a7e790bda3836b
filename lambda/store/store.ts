/**
 * The state store's contract: one versioned record per key (an account, or the deployment's
 * digest), read strongly consistent and written only if nobody wrote it since it was read.
 * DynamoDB implements it in production (dynamo-store.ts); `MemoryStore` implements the same
 * promise for the models and unit tests.
 *
 * Nothing here knows what a record holds: the run loop, the snooze command and auto top-up
 * each change their own part of it through `update`, which re-reads and re-applies the
 * change when another writer got there first, so no writer overwrites another's change.
 */

/** What a read returns: the record and the version it was read at (0: no record yet). */
export interface Versioned<T> {
  readonly version: number;
  readonly value: T | undefined;
}

export interface RecordStore<T> {
  /** Strongly consistent. Throws when the store cannot be read. */
  read(key: string): Promise<Versioned<T>>;
  /**
   * Writes `value` if the stored version is still `version`. Returns the new version, or
   * `undefined` when another writer wrote first (nothing was written). Throws when the
   * outcome is not known (a timeout, a network error): the caller must re-read.
   */
  write(key: string, version: number, value: T): Promise<number | undefined>;
}

/** A change to apply to the latest record; `undefined` means "nothing to write". */
export type Change<T> = (current: Versioned<T>) => T | undefined;

/** A writer lost this many races in a row: something else writes the key without pause. */
export class StoreContentionError extends Error {
  override readonly name = 'StoreContentionError';
  constructor(
    readonly key: string,
    attempts: number,
  ) {
    super(
      `The saved state "${key}" changed under every one of ${attempts} attempts to write it; ` +
        'the next run tries again.',
    );
  }
}

export const MAX_UPDATE_ATTEMPTS = 8;

/**
 * Applies `change` to the record under `key` with a conditional write; on a lost race
 * re-reads and applies `change` again to what the other writer left. `start` skips the first
 * read when the caller already holds the latest copy. Returns what is stored afterwards
 * (unchanged when `change` returned undefined).
 */
export async function update<T>(
  store: RecordStore<T>,
  key: string,
  change: Change<T>,
  start?: Versioned<T>,
): Promise<Versioned<T>> {
  let current = start ?? (await store.read(key));
  for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
    const next = change(current);
    if (next === undefined) return current;
    const version = await store.write(key, current.version, next);
    if (version !== undefined) return { version, value: next };
    current = await store.read(key);
  }
  throw new StoreContentionError(key, MAX_UPDATE_ATTEMPTS);
}

/**
 * An in-memory store with the same promise, for models and tests. Values are copied through
 * JSON on the way in and out, as a real store would, so a caller cannot change what is
 * stored by keeping a reference. `hooks.beforeWrite` lets a model run another writer at the
 * exact moment between a read and a write.
 */
export class MemoryStore<T> implements RecordStore<T> {
  private readonly items = new Map<string, { version: number; json: string }>();
  reads = 0;
  writes = 0;

  constructor(private readonly hooks: { beforeWrite?: (key: string) => Promise<void> } = {}) {}

  async read(key: string): Promise<Versioned<T>> {
    this.reads++;
    const item = this.items.get(key);
    return item
      ? { version: item.version, value: JSON.parse(item.json) as T }
      : { version: 0, value: undefined };
  }

  async write(key: string, version: number, value: T): Promise<number | undefined> {
    await this.hooks.beforeWrite?.(key);
    this.writes++;
    const stored = this.items.get(key)?.version ?? 0;
    if (stored !== version) return undefined;
    this.items.set(key, { version: version + 1, json: JSON.stringify(value) });
    return version + 1;
  }

  /** Test access: replace or remove a record as an outside writer would (wipe, rollback). */
  put(key: string, value: T | undefined): void {
    const version = (this.items.get(key)?.version ?? 0) + 1;
    if (value === undefined) this.items.delete(key);
    else this.items.set(key, { version, json: JSON.stringify(value) });
  }
}
