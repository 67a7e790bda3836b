import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * This package's root directory, found from this module's own location: lib/ when run from
 * the sources, dist/ when run from the built package (CommonJS or ESM), so the prebuilt
 * Lambda code is found the same way in the repository and in node_modules.
 */
function packageRoot(): string {
  // `__dirname` exists in the CommonJS build only; the ES module builds use import.meta.url.
  let dir =
    typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      JSON.parse(readFileSync(manifest, 'utf8')).name === 'ngrok-balance-alert'
    ) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('ngrok-balance-alert: cannot find its own package.json');
    dir = parent;
  }
}

/** Where `npm run build` puts the bundled Lambda handlers, one directory each. */
export const LAMBDA_DIST = path.join(packageRoot(), 'dist', 'lambda');
