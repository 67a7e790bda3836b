import { defineConfig } from 'vitest/config';

// The unit tests that Stryker runs against each mutant. Not Stryker's `testFiles` option:
// it activates mutants that run at module load too late, so they always "survive".
// Tests that synthesize or bundle the app cannot run in Stryker's worker threads.
export default defineConfig({
  test: {
    setupFiles: ['test/support/mutation-setup.ts'],
    include: [
      'test/alert-policy.test.ts',
      'test/forecast.test.ts',
      'test/decimal.test.ts',
      'test/config.test.ts',
      'test/contract.test.ts',
      'test/notify/content.test.ts',
      'test/notify/render.test.ts',
      'test/notify/channel-renderers.test.ts',
      'test/notify/incoming.test.ts',
      'test/http-retry.test.ts',
      'test/top-up/decide.test.ts',
      'test/top-up/decide.edges.test.ts',
      // The scripted money sequences; the model's random seeds take too long per mutant.
      'test/top-up/money.regressions.test.ts',
      'test/top-up/settings.test.ts',
      'test/snooze.test.ts',
      'test/digest.test.ts',
      'test/expiry.test.ts',
      'test/recent-rate.test.ts',
      'test/runway.test.ts',
      'test/spike-policy.test.ts',
      'test/spike-drivers.test.ts',
      'test/spike-simulation.test.ts',
      'test/access-key-names.test.ts',
      'test/state.test.ts',
    ],
    // Property tests over every kind take seconds on a busy 2-core machine.
    testTimeout: 30_000,
    // The one config test that runs `cdk synth` in a child process sees no mutant.
    testNamePattern: '^(?!.*`cdk synth)',
  },
});
