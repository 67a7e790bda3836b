/**
 * `npm run build` (run by `npm test`, `npm pack` and the standalone app's `cdk synth`):
 *
 * - dist/lambda/<entry>/index.mjs: the Lambda handlers (monitor, Slack webhook, channels), bundled with ESM_BUNDLING. The
 *   construct deploys these files as they are, so a consumer needs no esbuild or Docker.
 * - dist/index.mjs and dist/index.cjs: the library entry (lib/index.ts) for `import` and
 *   `require`, with aws-cdk-lib and constructs left to the consumer's copies.
 * - dist/cli.mjs: the `check` command, bundled for Node 20 and later.
 * - dist/types/ and dist/types-cjs/: declarations, by tsc, for `import` and `require`.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { ESM_BUNDLING } from './bundling.ts';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const skipTypes = process.argv.includes('--no-types');

/**
 * Builds in memory and replaces each output file by a rename, so a synth or test reading
 * dist/ while another rebuilds it never sees half a file. `executable` sets the execute bits,
 * which a bin script needs to run from a clone (`npx ngrok-balance-alert` in the repository).
 */
async function buildAtomically(
  options: BuildOptions & { outfile: string },
  executable = false,
): Promise<void> {
  const result = await build({ ...options, write: false });
  for (const file of result.outputFiles) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    if (executable) chmodSync(temporary, 0o755);
    renameSync(temporary, file.path);
  }
}

await Promise.all([
  ...['handler', 'slack-webhook', 'channel'].map((entry) =>
    buildAtomically({
      ...ESM_BUNDLING,
      entryPoints: [path.join(root, 'lambda', `${entry}.ts`)],
      outfile: path.join(dist, 'lambda', entry, 'index.mjs'),
      absWorkingDir: root,
    }),
  ),
  buildAtomically(
    {
      ...ESM_BUNDLING,
      entryPoints: [path.join(root, 'bin', 'cli-entry.ts')],
      outfile: path.join(dist, 'cli.mjs'),
      target: 'node20',
      banner: { js: `#!/usr/bin/env node\n${ESM_BUNDLING.banner.js}` },
      absWorkingDir: root,
    },
    true,
  ),
  ...(['esm', 'cjs'] as const).map((format) =>
    buildAtomically({
      entryPoints: [path.join(root, 'lib', 'index.ts')],
      outfile: path.join(dist, format === 'esm' ? 'index.mjs' : 'index.cjs'),
      bundle: true,
      platform: 'node',
      format,
      target: 'node20',
      packages: 'external',
      absWorkingDir: root,
      // lib/package-root.ts reads import.meta.url only where __dirname is missing (ESM).
      logOverride: { 'empty-import-meta': 'silent' },
      logLevel: 'warning',
    }),
  ),
]);
if (!skipTypes) {
  rmSync(path.join(dist, 'types'), { recursive: true, force: true });
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // The sources import with .ts extensions; a consumer's TypeScript resolves .js ones.
  const types = path.join(dist, 'types');
  for (const file of readdirSync(types, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.d.ts')) continue;
    const full = path.join(types, file);
    const text = readFileSync(full, 'utf8');
    writeFileSync(full, text.replace(/(from '\.{1,2}\/[^']+)\.ts'/g, "$1.js'"));
  }
  // The same declarations marked CommonJS, for TypeScript projects that `require` the
  // package: the package is "type": "module", so dist/types alone reads as ES modules.
  const typesCjs = path.join(dist, 'types-cjs');
  rmSync(typesCjs, { recursive: true, force: true });
  cpSync(types, typesCjs, { recursive: true });
  writeFileSync(path.join(typesCjs, 'package.json'), '{ "type": "commonjs" }\n');
}
