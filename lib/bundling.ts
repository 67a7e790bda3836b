import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * ESM bundles that include the AWS SDK still contain CommonJS `require` calls; without a
 * real `require` in scope they fail at load with "Dynamic require of ... is not supported".
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
