/**
 * What every local stand-in shares: an HTTP server on 127.0.0.1 with an ephemeral port that
 * can delay every response by `latencyMs` (for the benchmark), the fake AWS identity, and
 * the SigV4 scope of a request. A new stand-in (a channel's receiver) extends StandInServer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in test/support/stand-ins). */
export const REPO_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
);

/** Fake identifiers used wherever the function needs an AWS value. */
export const FAKE_AWS = {
  region: 'us-east-1',
  accountId: '123456789012',
  partition: 'aws',
  accessKeyId: 'AKIDSTANDIN00000000',
  secretAccessKey: 'stand-in-secret-access-key',
  topicArn: 'arn:aws:sns:us-east-1:123456789012:NgrokBalanceAlert-AlertTopic-STANDIN',
  functionName: 'NgrokBalanceAlert-MonitorFunction-STANDIN',
} as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Close the connection instead of answering (the client sees a network error). */
  readonly drop?: true;
}

/** The SigV4 credential scope of a request: which region and service it was signed for. */
export interface SignedScope {
  readonly accessKeyId?: string;
  readonly region?: string;
  readonly service?: string;
}

export function signedScope(req: IncomingMessage): SignedScope {
  const auth = req.headers.authorization ?? '';
  const match = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
  if (!match) return {};
  return { accessKeyId: match[1], region: match[2], service: match[3] };
}

export abstract class StandInServer {
  /** Delay applied to every response, in milliseconds. May be changed between runs. */
  latencyMs: number;
  protected server: Server | undefined;
  private baseUrl = '';

  constructor(options: { latencyMs?: number } = {}) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** `http://127.0.0.1:<port>`; valid after `start()`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('the stand-in has not been started');
    return this.baseUrl;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.receive(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`stand-in failure: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const reply = await this.handle(req, body);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (reply.drop) {
      req.socket.destroy();
      return;
    }
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-length': String(Buffer.byteLength(reply.body)),
    });
    res.end(reply.body);
  }

  /** Answers one request; may wait (a stand-in that holds a request until a test lets it go). */
  protected abstract handle(req: IncomingMessage, body: string): Reply | Promise<Reply>;
}
