/**
 * A local DynamoDB for tests: dynalite (the DynamoDB API on an in-memory LevelDB), started on
 * a free loopback port by the test that needs it. No Docker, no Java, nothing to install.
 * It records the operation of every request it receives (for the IAM check and the
 * benchmark's call counts) and can delay each one by `latencyMs`, like the other stand-ins.
 */
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { type SignedScope, signedScope } from './stand-ins/server.ts';

export interface DynamoRequest {
  /** The operation from `x-amz-target`, e.g. `GetItem`. */
  readonly action: string;
  /** Who signed it: the function's credentials, or the test's own client. */
  readonly scope: SignedScope;
}

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Every request received, in order (the test's own client's included). */
  readonly requests: DynamoRequest[];
  /** Delay before each request is handled, in milliseconds. May be changed between runs. */
  latencyMs: number;
  /** Creates a table shaped as the stack creates it (partition key `pk`), and returns its name. */
  createTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let tables = 0;

export async function startDynalite(options: { latencyMs?: number } = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Put the recorder (and the delay) in front of dynalite's own request handler.
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const requests: DynamoRequest[] = [];
  server.on('request', (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    requests.push({ action: target.replace(/^DynamoDB_\d+\./, ''), scope: signedScope(req) });
    const handle = () => {
      for (const handler of handlers) handler(req, res);
    };
    if (local.latencyMs > 0) setTimeout(handle, local.latencyMs);
    else handle();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const local: LocalDynamo = {
    endpoint,
    client,
    requests,
    latencyMs: options.latencyMs ?? 0,
    async createTable(name = `state-${++tables}`) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      return name;
    },
    async stop() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return local;
}
