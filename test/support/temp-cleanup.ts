/**
 * Setup for every test file: removes the cloud assemblies that an `App` without `outdir`
 * writes to the temp directory (`cdk.out*`). aws-cdk-lib removes them only when the process
 * exits, which a test worker that is reused or stopped does not reliably do.
 */
import { afterAll } from 'vitest';

afterAll(async () => {
  const { CloudAssembly } = await import('aws-cdk-lib/cx-api');
  CloudAssembly.cleanupTemporaryDirectories();
});
