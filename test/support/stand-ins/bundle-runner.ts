/**
 * Runs the bundled handler in a fresh Node process, the way Lambda would load it, and
 * reports what happened; shared by the artifact smoke test and the benchmark.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** Prefix of the line on which the runner reports; everything else is the function's log. */
export const RUNNER_MARKER = '@@bundle-runner@@ ';

/**
 * A tiny ES module that imports a bundle, optionally invokes its handler once, and prints
 * one marker line of JSON: the import time, the result or error, Node's version and the
 * peak resident set size. argv: bundle path, mode (`invoke` | `import`), event JSON,
 * milliseconds the fake Lambda context reports as remaining, and optionally the instant
 * (epoch milliseconds) the bundle's clock starts at: then its `Date` and `Date.now()`
 * read that instant plus the real time elapsed since the runner started (timers, timeouts
 * and `performance.now()` keep real time).
 */
export const RUNNER_SOURCE = `import { pathToFileURL } from 'node:url';
const [bundle, mode = 'invoke', eventJson = '{}', remaining = '60000', startAt] = process.argv.slice(2);
if (startAt !== undefined && startAt !== '') {
  const RealDate = Date;
  const offset = Number(startAt) - RealDate.now();
  const now = () => RealDate.now() + offset;
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args, newTarget) =>
      Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
    apply: () => new RealDate(now()).toString(),
    get: (target, key, receiver) => (key === 'now' ? now : Reflect.get(target, key, receiver)),
  });
}
const report = { node: process.version };
const t0 = performance.now();
try {
  const mod = await import(pathToFileURL(bundle).href);
  report.importMs = performance.now() - t0;
  if (mode === 'invoke') {
    const t1 = performance.now();
    try {
      report.result = await mod.handler(JSON.parse(eventJson), {
        getRemainingTimeInMillis: () => Number(remaining),
      });
    } catch (error) {
      report.error = { phase: 'invoke', name: error?.name, message: String(error?.message ?? error) };
    }
    report.invokeMs = performance.now() - t1;
  }
} catch (error) {
  report.error = { phase: 'import', name: error?.name, message: String(error?.message ?? error) };
}
report.maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write('\\n${RUNNER_MARKER}' + JSON.stringify(report) + '\\n', () => process.exit(0));
`;

/** Writes the runner into `dir` and returns its path. */
export function writeRunner(dir: string): string {
  const file = path.join(dir, 'bundle-runner.mjs');
  writeFileSync(file, RUNNER_SOURCE);
  return file;
}

export interface RunnerReport {
  readonly node: string;
  readonly importMs?: number;
  readonly invokeMs?: number;
  readonly result?: unknown;
  readonly error?: { phase: 'import' | 'invoke'; name?: string; message: string };
  readonly maxRssMb: number;
}

export interface BundleRun {
  readonly report: RunnerReport;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  /** Wall time of the whole child process, spawn to exit. */
  readonly wallMs: number;
}

/**
 * Runs the bundle in a fresh `node` (the one running this process) with only the given
 * environment plus PATH and a throwaway HOME, so no real AWS configuration can leak in.
 * Asynchronous on purpose: the stand-ins answer from this process's event loop.
 */
export async function runBundle(options: {
  runner: string;
  bundle: string;
  env: Record<string, string>;
  mode?: 'invoke' | 'import';
  event?: unknown;
  remainingMs?: number;
  home: string;
  timeoutMs?: number;
  /**
   * Where the bundle's clock starts (its `Date` and `Date.now()` then advance in real
   * time from there); the real clock when absent.
   */
  startAt?: Date | number;
}): Promise<BundleRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: options.home,
    AWS_CONFIG_FILE: path.join(options.home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(options.home, 'no-aws-credentials'),
    ...options.env,
  };
  const started = performance.now();
  const run = await runProcess(
    process.execPath,
    [
      options.runner,
      options.bundle,
      options.mode ?? 'invoke',
      JSON.stringify(options.event ?? {}),
      String(options.remainingMs ?? 60_000),
      ...(options.startAt === undefined ? [] : [String(new Date(options.startAt).getTime())]),
    ],
    { cwd: options.home, env, timeoutMs: options.timeoutMs ?? 60_000 },
  );
  const wallMs = performance.now() - started;
  const line = run.stdout.split('\n').find((l) => l.startsWith(RUNNER_MARKER));
  if (!line) {
    throw new Error(
      `the runner printed no report (exit ${run.exitCode}):\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-3000)}`,
    );
  }
  const report = JSON.parse(line.slice(RUNNER_MARKER.length)) as RunnerReport;
  const stdout = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith(RUNNER_MARKER))
    .join('\n');
  return { report, stdout, stderr: run.stderr, exitCode: run.exitCode, wallMs };
}

interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${command} ${args.slice(0, 2).join(' ')} timed out after ${options.timeoutMs} ms`,
        ),
      );
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
      });
    });
  });
}
