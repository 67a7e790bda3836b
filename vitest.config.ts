import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the temporary cloud assemblies that synth in a test leaves behind.
    setupFiles: ['test/support/temp-cleanup.ts', 'test/support/fixed-seed.ts'],
    // Synth and the artifact smoke test bundle real code: give them room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
