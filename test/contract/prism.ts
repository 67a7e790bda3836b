/**
 * Runs a Prism mock server (from node_modules, no network) for the contract tests.
 *
 * Prism is started through a small watchdog process that holds a pipe from the test
 * process: when the test process goes away for any reason, even a crash or SIGKILL that
 * skips every hook, the pipe closes and the watchdog stops Prism. `stop()` is the normal
 * path; an exit hook is the second line of defence. No Prism process outlives the tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The project root, so the paths below do not depend on the working directory. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRISM_BIN = fileURLToPath(new URL('../../node_modules/.bin/prism', import.meta.url));
export const SPEC_PATH = fileURLToPath(new URL('../../openapi/ngrok-ai.yaml', import.meta.url));

/**
 * Runs Prism as a child and stops it when stdin closes (the test process is gone) or on
 * SIGTERM. Prism runs in this process's group, so a group kill reaches both.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const [bin, ...args] = process.argv.slice(1);
const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => { child.kill('SIGKILL'); process.exit(1); }, 3000).unref();
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`;

export interface PrismServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** What Prism has printed so far (the tail), for failure messages. */
  output(): string;
  /** Stops Prism and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPrismOptions {
  /** Arguments after `mock <spec>`, e.g. `['--errors']` or `['-d', '--seed', '7']`. */
  readonly args: readonly string[];
  /** How long to wait for Prism to answer; startup takes seconds on a small machine. */
  readonly readyTimeoutMs?: number;
}

/** Starts `prism mock openapi/ngrok-ai.yaml <args>` on 127.0.0.1 and a free port. */
export async function startPrism(options: StartPrismOptions): Promise<PrismServer> {
  let lastError: unknown;
  // A free port can be taken between choosing it and Prism binding it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort(), options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

const running = new Set<ChildProcess>();

/** Last resort when the hooks did not run: kill every watchdog group, synchronously. */
function killAllOnExit(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function startOnce(port: number, options: StartPrismOptions): Promise<PrismServer> {
  const args = [
    'mock',
    SPEC_PATH,
    ...options.args,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    // One process: nothing forked behind the watchdog's back.
    '--no-multiprocess',
  ];
  const child = spawn(process.execPath, ['-e', WATCHDOG, PRISM_BIN, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so stop() can signal the watchdog and Prism together.
    detached: true,
  });
  if (running.size === 0) process.once('exit', killAllOnExit);
  running.add(child);

  let log = '';
  const collect = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      child.stdin?.end();
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      // The watchdog has exited; make sure nothing of its group is left behind.
      killGroup(child, 'SIGKILL');
      running.delete(child);
      if (running.size === 0) process.off('exit', killAllOnExit);
    })();
    return stopped;
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(url, exited, options.readyTimeoutMs ?? 120_000);
  } catch (error) {
    await stop();
    throw new Error(`Prism did not start: ${(error as Error).message}\n${log}`);
  }
  return { url, output: () => log, stop };
}

/** Polls until Prism answers any HTTP request, it exits, or the time runs out. */
async function waitUntilAnswering(
  url: string,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  while (Date.now() < giveUpAt) {
    if (hasExited) throw new Error('it exited');
    try {
      const response = await fetch(`${url}/credits/balance`, {
        headers: { authorization: 'Bearer readiness-probe' },
        signal: AbortSignal.timeout(2_000),
      });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`no answer within ${timeoutMs} ms`);
}
