import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * A real `require` for ESM bundles. Any CommonJS dependency that reaches the bundle calls
 * `require` for Node built-ins, and without one in scope the bundle fails at load with
 * "Dynamic require of ... is not supported". Today's SDK resolves to its ES modules
 * (mainFields module first), so this is a safeguard against a dependency update; the
 * artifact smoke test proves the banner works and that the bundle loads.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** How every function in the app is bundled: by the local esbuild, never Docker. */
export const ESM_BUNDLING = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: false,
  // Bundle the AWS SDK instead of using the runtime's copy: pins the tested version and
  // loads faster than the runtime's unbundled one (see `npm run bench`).
  externalModules: [],
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  forceDockerBundling: false,
} as const satisfies nodejs.BundlingOptions;
