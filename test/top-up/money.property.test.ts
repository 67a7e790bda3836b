/**
 * The money model (test/top-up/model/) on fixed seeds: deterministic, part of `npm test`.
 * `npm run test:money` runs the same model on 200,000 seeds or more.
 */
import { describe, expect, it } from 'vitest';
import { runSequence } from './model/sequence.ts';

/** Seeds the model runs on every `npm test`: a fixed range, no randomness. */
const FIXED = Array.from({ length: 200 }, (_, i) => 1000 + i);

/**
 * Every seed that ever failed (`npm run test:money` prints them). The sequences they stood
 * for while the model was built each also have a scripted test in money.regressions.test.ts:
 * 2968 and 4837 a purchase by hand taken for ours; 3865 a run's length not allowed for;
 * 8129 the outbox and runs whose clocks differ; 9541 and 9806 a record lost while a purchase
 * was pending (the stated bound). Two more showed the model's oracle wrong, not the monitor:
 * 20650081 judged a refused intent sent again by what was known when it was first written
 * (the monitor decides it again, on that run's balance, ledger and cap); 20541606 left out
 * of the lost-record bound a purchase whose POST was on its way when the record was lost.
 * The twelve after them failed while the oracle took a replay of a refused intent's key for
 * its start; among them, runs that sent an intent from an older copy of the record, which
 * the monitor no longer does (the write that decides a send is always made).
 */
const FAILED_SEEDS = [
  2968, 3865, 4837, 8129, 9541, 9806, 20541606, 20650081, 20462072, 20477627, 20484874, 20494755,
  20511119, 20533361, 20538204, 20587505, 20592681, 20654505, 20659362, 20659745,
];

describe('money model on fixed seeds', () => {
  it('keeps the cap, charges each low spell once and announces every charge once', async () => {
    const failures: string[] = [];
    for (const seed of [...FIXED, ...FAILED_SEEDS]) {
      const result = await runSequence(seed);
      if (result.violations.length > 0) {
        failures.push(`seed ${seed}: ${result.violations.join('; ')}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
