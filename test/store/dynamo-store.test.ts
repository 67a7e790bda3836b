import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../lambda/store/dynamo-store.ts';
import { update } from '../../lambda/store/store.ts';
import { type LocalDynamo, startDynalite } from '../support/dynalite.ts';

let local: LocalDynamo;
beforeAll(async () => {
  local = await startDynalite();
});
afterAll(async () => local.stop());

async function freshStore() {
  return new DynamoStore(local.client, await local.createTable());
}

describe('DynamoStore (against dynalite)', () => {
  it('reads a key never written as version 0 with no value', async () => {
    const store = await freshStore();
    expect(await store.read('account#prod')).toEqual({ version: 0, value: undefined });
  });

  it('writes on the version it read, and refuses a second writer holding the same version', async () => {
    const store = await freshStore();
    expect(await store.write('k', 0, { n: 1 })).toBe(1);
    expect(await store.write('k', 0, { n: 2 })).toBeUndefined();
    expect(await store.write('k', 1, { n: 3 })).toBe(2);
    expect(await store.write('k', 1, { n: 4 })).toBeUndefined();
    expect(await store.read('k')).toEqual({ version: 2, value: { n: 3 } });
  });

  it('lets exactly one of two writers racing from the same read win', async () => {
    const store = await freshStore();
    await store.write('k', 0, { by: 'seed' });
    const read = await store.read('k');
    const results = await Promise.all([
      store.write('k', read.version, { by: 'a' }),
      store.write('k', read.version, { by: 'b' }),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it("re-applies a lost writer's own change on top of the winner's, so neither change is lost", async () => {
    const store = await freshStore();
    await store.write('k', 0, { a: 0, b: 0 });
    const start = await store.read('k');
    // Writer A wins first; writer B started from the same read and must not undo A.
    await update(store, 'k', (c) => ({ ...(c.value as object), a: 1 }), start);
    const after = await update(store, 'k', (c) => ({ ...(c.value as object), b: 1 }), start);
    expect(after.value).toEqual({ a: 1, b: 1 });
    expect((await store.read('k')).value).toEqual({ a: 1, b: 1 });
  });

  it('treats a record that is not JSON as lost rather than failing every run', async () => {
    const table = await local.createTable();
    const store = new DynamoStore(local.client, table);
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    await local.client.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: 'k' }, version: { N: '3' }, record: { S: '{not json' } },
      }),
    );
    expect(await store.read('k')).toEqual({ version: 3, value: null });
    expect(await store.write('k', 3, { ok: true })).toBe(4);
  });
});
