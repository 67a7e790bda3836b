import { describe, expect, it } from 'vitest';
import { createLimiter, mapWithConcurrency } from '../lambda/common/concurrency.ts';

/** A task that records how many tasks were running when it started. */
function tracker() {
  let running = 0;
  let peak = 0;
  const task = async <T>(value: T) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
    return value;
  };
  return { task, peak: () => peak };
}

describe('mapWithConcurrency', () => {
  it('keeps input order and never runs more than the limit', async () => {
    const t = tracker();
    const out = await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, (n) => t.task(n * 10));
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(t.peak()).toBe(3);
  });

  it('handles an empty list', async () => {
    expect(await mapWithConcurrency([], 4, async () => 1)).toEqual([]);
  });
});

describe('createLimiter', () => {
  it('runs at most `max` tasks at once and all of them eventually', async () => {
    const t = tracker();
    const limit = createLimiter(2);
    const out = await Promise.all([1, 2, 3, 4, 5].map((n) => limit(() => t.task(n))));
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(t.peak()).toBe(2);
  });

  it('frees the slot of a task that fails', async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });
});
