import { defineConfig } from 'vitest/config';

// The unit tests that Stryker runs against each mutant. Not Stryker's `testFiles` option:
// it activates mutants that run at module load too late, so they always "survive".
// Tests that synthesize or bundle the app cannot run in Stryker's worker threads.
export default defineConfig({
  test: {
    include: [
      'test/alert-policy.test.ts',
      'test/forecast.test.ts',
      'test/decimal.test.ts',
      'test/snooze.test.ts',
      'test/digest.test.ts',
      'test/expiry.test.ts',
    ],
  },
});
