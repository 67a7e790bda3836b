/**
 * A consumer's app around the packed package: `npm pack` (whose prepack builds dist/ from
 * the sources), the tarball unpacked into `node_modules/ngrok-balance-alert` of a fresh
 * directory, and the dependencies a consumer installs beside it linked from this repository.
 * Nothing in the app can reach the sources, esbuild, tsx or TypeScript through module
 * resolution.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './stand-ins/server.ts';

export interface ConsumerApp {
  /** A temporary directory holding the tarball and the app; the caller removes it. */
  readonly work: string;
  /** The app's directory: a package.json and node_modules. */
  readonly appDir: string;
  /** The tarball's file name, e.g. ngrok-balance-alert-0.2.0.tgz, in `work`. */
  readonly tarball: string;
  /** The paths the tarball holds, relative to the package root. */
  readonly tarballFiles: readonly string[];
}

/**
 * Packs the package and makes a CommonJS app (as `cdk init app --language javascript`
 * makes it) with `dependencies` linked from this repository's node_modules.
 */
export function makeConsumerApp(
  prefix: string,
  dependencies: readonly string[] = ['aws-cdk-lib', 'constructs'],
): ConsumerApp {
  const work = mkdtempSync(path.join(tmpdir(), prefix));
  const packed = JSON.parse(
    oneAtATime(() =>
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ),
  ) as [{ filename: string; files: { path: string }[] }];
  const appDir = path.join(work, 'app');
  const installed = path.join(appDir, 'node_modules', 'ngrok-balance-alert');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', [
    '-xzf',
    path.join(work, packed[0].filename),
    '-C',
    installed,
    '--strip-components=1',
  ]);
  for (const dependency of dependencies) {
    symlinkSync(
      path.join(REPO_ROOT, 'node_modules', dependency),
      path.join(appDir, 'node_modules', dependency),
    );
  }
  writeFileSync(path.join(appDir, 'package.json'), '{ "name": "consumer", "private": true }\n');
  return {
    work,
    appDir,
    tarball: packed[0].filename,
    tarballFiles: packed[0].files.map((f) => f.path),
  };
}

/** Longer than any pack takes: a lock this old was left by a test process that died. */
const STALE_LOCK_MS = 300_000;

/**
 * Runs `pack` while no other test file packs: prepack rebuilds dist/ (it removes and rewrites
 * the declarations), so a second pack at the same time could tar a half-written dist/. The
 * lock is a directory, which only one process can create.
 */
function oneAtATime<T>(pack: () => T): T {
  const lock = path.join(REPO_ROOT, 'dist', '.pack-lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`another npm pack held ${lock} for too long`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
  }
  try {
    return pack();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
