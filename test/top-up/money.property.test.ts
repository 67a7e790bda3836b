/**
 * The money model (test/top-up/model/) on fixed seeds: deterministic, part of `npm test`.
 * `npm run test:money` runs the same model on 200,000 seeds or more.
 */
import { describe, expect, it } from 'vitest';
import { runSequence } from './model/sequence.ts';

/** Seeds the model runs on every `npm test`: a fixed range, no randomness. */
const FIXED = Array.from({ length: 300 }, (_, i) => 1000 + i);

describe('money model on fixed seeds', () => {
  it('keeps the cap, charges each low spell once and announces every charge once', async () => {
    const failures: string[] = [];
    for (const seed of FIXED) {
      const result = await runSequence(seed);
      if (result.violations.length > 0) {
        failures.push(`seed ${seed}: ${result.violations.join('; ')}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
