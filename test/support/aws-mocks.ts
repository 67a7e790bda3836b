/**
 * What the in-process monitor tests share: SSM and SNS client mocks (GetParameters reads an
 * in-memory map of settings, every publish succeeds) and an in-memory state store that
 * counts its reads and writes per key.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { type AccountRecord, accountKey } from '../../lambda/store/account-record.ts';
import { MemoryStore, type Versioned } from '../../lambda/store/store.ts';

/** `parameters` is read on every call, so a test may replace its map in `beforeEach`. */
export function serveParameters(
  ssm: AwsClientStub<SSMClient>,
  sns: AwsClientStub<SNSClient>,
  parameters: () => Map<string, string>,
): void {
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => {
    const values = parameters();
    return {
      Parameters: input.Names.filter((n) => values.has(n)).map((Name) => ({
        Name,
        Value: values.get(Name),
      })),
      InvalidParameters: input.Names.filter((n) => !values.has(n)),
    };
  });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
}

/**
 * A MemoryStore that records which keys were read and written (a write that lost its race
 * included), seeds account records and lets a test look at one without counting it.
 */
export class TestStore extends MemoryStore<unknown> {
  readonly readKeys: string[] = [];
  readonly writeKeys: string[] = [];

  override async read(key: string): Promise<Versioned<unknown>> {
    this.readKeys.push(key);
    return super.read(key);
  }

  override async write(key: string, version: number, value: unknown): Promise<number | undefined> {
    this.writeKeys.push(key);
    return super.write(key, version, value);
  }

  /** Seeds an account's alert state, with nothing unsent. */
  seedAlert(account: string, alert: NonNullable<AccountRecord['alert']>): void {
    this.put(accountKey(account), { alert, outbox: [] } satisfies AccountRecord);
  }

  /** The account's record as stored, without counting a read. */
  async record(account: string): Promise<AccountRecord | undefined> {
    return (await this.peek(accountKey(account))) as AccountRecord | undefined;
  }

  /** Any record as stored, without counting a read. */
  async peek(key: string): Promise<unknown> {
    return (await super.read(key)).value;
  }

  /** How many times `key` was read and written. */
  calls(key: string): { reads: number; writes: number } {
    return {
      reads: this.readKeys.filter((k) => k === key).length,
      writes: this.writeKeys.filter((k) => k === key).length,
    };
  }
}
