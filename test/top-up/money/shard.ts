/**
 * `npm run test:money`: the money model on many seeds, split over a few files that vitest
 * runs in parallel. MONEY_RUNS (default 200,000) sequences in all; MONEY_SEED the first seed
 * (default: taken from the clock, and printed, so any failure can be run again). A failing
 * seed is printed with its trace: add it to FAILED_SEEDS in money.property.test.ts.
 */
import { expect, it } from 'vitest';
import { runSequence } from '../model/sequence.ts';

export const SHARDS = 2;

export function moneyShard(shard: number): void {
  const runs = Number(process.env.MONEY_RUNS ?? 200_000);
  const base = Number(process.env.MONEY_SEED ?? Date.now() % 2_000_000_000);
  it(`keeps every promise over seeds ${base}.. (shard ${shard + 1} of ${SHARDS})`, async () => {
    const started = Date.now();
    const failed: number[] = [];
    let count = 0;
    let first = '';
    for (let i = shard; i < runs; i += SHARDS) {
      const seed = base + i;
      const result = await runSequence(seed);
      count++;
      if (count % 1000 === 0) {
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        console.log(
          `shard ${shard + 1}: ${count} sequences, ${failed.length} failed, ${seconds} s`,
        );
      }
      if (result.violations.length > 0) {
        failed.push(seed);
        if (!first) {
          const traced = await runSequence(seed, { trace: true });
          first = `seed ${seed}: ${traced.violations.join('; ')}\n${traced.trace.join('\n')}`;
        }
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    console.log(
      `money model shard ${shard + 1}/${SHARDS}: ${count} sequences, every ${SHARDS}th seed ` +
        `from ${base + shard} to ${base + runs - 1} (MONEY_SEED=${base} MONEY_RUNS=${runs}), ` +
        `${seconds} s, ${failed.length} failed${failed.length ? `: ${failed.slice(0, 20).join(', ')}` : ''}`,
    );
    if (first) console.log(first);
    expect(failed).toEqual([]);
  });
}
