import { defineConfig } from 'vitest/config';

// `npm run test:money`: the long run of the money model (see test/top-up/money/shard.ts).
// The first seed is chosen once here, so that every shard runs its part of one range.
const seed = process.env.MONEY_SEED ?? String(Date.now() % 2_000_000_000);

export default defineConfig({
  test: {
    include: ['test/top-up/money/*.money.ts'],
    testTimeout: 6 * 60 * 60 * 1000,
    maxWorkers: 2,
    env: { MONEY_SEED: seed },
  },
});
