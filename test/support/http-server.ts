/**
 * A real HTTP server on 127.0.0.1 with an ephemeral port, for tests that need a socket
 * rather than a fake fetch: timeouts, dropped connections, chunked bodies.
 *
 * ```ts
 * const server = await startHttpServer((req, res) => {
 *   res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
 * });
 * try {
 *   await fetch(`${server.url}/path`);
 *   expect(server.requests[0]?.headers.authorization).toBe('Bearer x');
 * } finally {
 *   await server.close();
 * }
 * ```
 *
 * The handler may also leave a request unanswered (to test timeouts) or destroy its socket
 * (to test network errors): `close()` destroys every open connection, so neither keeps the
 * test process alive.
 */
import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server saw of one request, recorded before the handler runs. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query string, as sent: `/usage/overview?startTime=...`. */
  readonly url: string;
  /** Lower-cased header names, as Node parses them. */
  readonly headers: IncomingHttpHeaders;
}

export interface TestHttpServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every request received so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Stops listening and destroys open connections, answered or not. Safe to call twice. */
  close(): Promise<void>;
}

/** Starts a server that passes each request to `handler`; resolves once it is listening. */
export async function startHttpServer(handler: RequestListener): Promise<TestHttpServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
