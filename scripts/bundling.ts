import type { BuildOptions } from 'esbuild';

/**
 * A real `require` for ESM bundles. Any CommonJS dependency that reaches the bundle calls
 * `require` for Node built-ins, and without one in scope the bundle fails at load with
 * "Dynamic require of ... is not supported". Today's SDK resolves to its ES modules
 * (mainFields module first), so this is a safeguard against a dependency update; the
 * artifact smoke test proves the banner works and that the bundle loads.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** How every Lambda function is bundled when the package is built: by esbuild, never Docker. */
export const ESM_BUNDLING = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: false,
  // Bundle the AWS SDK instead of using the runtime's copy: pins the tested version and
  // loads faster than the runtime's unbundled one (see `npm run bench`).
  external: [],
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: 'warning',
} as const satisfies BuildOptions;
