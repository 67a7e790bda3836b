/**
 * The state store on DynamoDB: one item per key, `{pk, version, record}`, the record as JSON
 * (an account's record is a few KB; an item may hold 400 KB). Reads are strongly consistent;
 * a write is a PutItem conditional on the version read, so two writers can never both win.
 * The function needs only dynamodb:GetItem and dynamodb:PutItem on the table.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { RecordStore, Versioned } from './store.ts';

/** Any single store call, the SDK's retries included, gives up after this long. */
export const STORE_CALL_TIMEOUT_MS = 10_000;

export class StateStoreError extends Error {
  override readonly name = 'StateStoreError';
}

export class DynamoStore implements RecordStore<unknown> {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
  ) {}

  async read(key: string): Promise<Versioned<unknown>> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: key } },
        ConsistentRead: true,
      }),
      { abortSignal: AbortSignal.timeout(STORE_CALL_TIMEOUT_MS) },
    );
    const item = out.Item;
    if (item === undefined) return { version: 0, value: undefined };
    const version = Number(item.version?.N);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new StateStoreError(
        `The saved state "${key}" has no valid version: delete the item from the table ${this.tableName} to start it afresh.`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(item.record?.S ?? '');
    } catch {
      // An unreadable record is a lost one: the run starts it afresh, carefully (see account-record.ts).
      value = null;
    }
    return { version, value };
  }

  async write(key: string, version: number, value: unknown): Promise<number | undefined> {
    const next = version + 1;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: key },
            version: { N: String(next) },
            record: { S: JSON.stringify(value) },
          },
          ...(version === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#v = :read',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':read': { N: String(version) } },
              }),
        }),
        { abortSignal: AbortSignal.timeout(STORE_CALL_TIMEOUT_MS) },
      );
      return next;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }
}
