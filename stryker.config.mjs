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
    'lambda/watches/alert-policy.ts',
    'lambda/observe/forecast.ts',
    'lambda/notify/content.ts',
    'lambda/notify/render-subject.ts',
    'lambda/notify/render-email.ts',
    'lambda/common/http-retry.ts',
    'lambda/config/validate.ts',
    'lambda/notify/render-pagerduty.ts',
    'lambda/notify/incoming.ts',
    'lambda/watches/top-up/decide.ts',
    'lambda/watches/top-up/settings.ts',
    'lambda/watches/snooze.ts',
    'lambda/watches/digest.ts',
    'lambda/watches/expiry.ts',
    'lambda/common/decimal.ts',
    'lambda/observe/recent-rate.ts',
    'lambda/observe/runway.ts',
    'lambda/notify/runway-text.ts',
    'lambda/watches/spike-policy.ts',
    'lambda/watches/spike-drivers.ts',
    'lambda/watches/access-key-names.ts',
    'lambda/store/state.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  reporters: ['clear-text', 'progress'],
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};
