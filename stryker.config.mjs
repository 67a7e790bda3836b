// Mutation testing of the pure decision modules (`npm run mutation`). Slow (minutes per
// module on two cores), so it is not part of `npm test` or CI; run it when a decision
// module or its tests change. Narrow it with `npm run mutation -- --mutate lambda/x.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  // TypeScript 7 has no parseConfigFileTextToJson, on which Stryker's tsconfig rewriting
  // relies: naming a file that does not exist skips that step (tsconfig.json has no
  // extends or references, so nothing is lost).
  tsconfigFile: 'tsconfig.stryker-skip.json',
  mutate: [
    'lambda/alert-policy.ts',
    'lambda/forecast.ts',
    'lambda/notify/content.ts',
    'lambda/notify/render-subject.ts',
    'lambda/notify/render-email.ts',
    'lambda/http-retry.ts',
    'lambda/config/validate.ts',
    'lambda/notify/render-pagerduty.ts',
    'lambda/notify/incoming.ts',
    'lambda/top-up/decide.ts',
    'lambda/top-up/settings.ts',
    'lambda/snooze.ts',
    'lambda/digest.ts',
    'lambda/expiry.ts',
    'lambda/decimal.ts',
    'lambda/recent-rate.ts',
    'lambda/runway.ts',
    'lambda/notify/runway-text.ts',
    'lambda/spike-policy.ts',
    'lambda/spike-drivers.ts',
    'lambda/access-key-names.ts',
    'lambda/state.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  reporters: ['clear-text', 'progress'],
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};
