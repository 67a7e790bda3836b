import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  backoffDelay,
  definedOnly,
  isRetryableStatus,
  isTimeoutError,
  networkErrorReason,
  parseRetryAfter,
  type RetryLoop,
  readCapped,
  retry,
} from '../lambda/common/http-retry.ts';

/** A response whose body arrives in the given chunks, recording whether it was cancelled. */
function streamed(chunks: readonly Uint8Array[]): { response: Response; cancelled: () => boolean } {
  let cancelled = false;
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { response: new Response(body), cancelled: () => cancelled };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('isRetryableStatus', () => {
  test.each([408, 429, 500, 502, 503, 504, 599])('%i may pass on another attempt', (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });

  test.each([200, 301, 400, 401, 403, 404, 410, 422])('%i is final', (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');

  test('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(' 7 ', now)).toBe(7_000);
  });

  test('reads an HTTP date as the time until then, never negative', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 11:59:00 GMT', now)).toBe(0);
  });

  test('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('5 seconds', now)).toBeUndefined();
    expect(parseRetryAfter('x5', now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  test('doubles from the base up to the cap, scaled by the jitter', () => {
    const full = { baseMs: 250, capMs: 4_000, random: () => 1 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, full))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 4_000,
    ]);
    expect(backoffDelay(3, { ...full, random: () => 0.5 })).toBe(500);
    expect(backoffDelay(3, { ...full, random: () => 0 })).toBe(0);
  });

  test('stays within [0, min(cap, base * 2^(attempt - 1))) for any jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, capMs, r) => {
          const wait = backoffDelay(attempt, { baseMs, capMs, random: () => r });
          expect(wait).toBeGreaterThanOrEqual(0);
          expect(wait).toBeLessThanOrEqual(Math.min(capMs, baseMs * 2 ** (attempt - 1)));
        },
      ),
    );
  });
});

describe('readCapped', () => {
  test('reads a body within the cap whole', async () => {
    const { response } = streamed([bytes('{"ok":'), bytes('true}')]);
    expect(await readCapped(response, 11)).toEqual({ text: '{"ok":true}', truncated: false });
  });

  test('keeps the first maxBytes of a longer body and cancels the rest', async () => {
    const { response, cancelled } = streamed([bytes('abcd'), bytes('efgh'), bytes('ijkl')]);
    expect(await readCapped(response, 6)).toEqual({ text: 'abcdef', truncated: true });
    expect(cancelled()).toBe(true);
  });

  test('reads an empty or absent body as empty text', async () => {
    expect(await readCapped(new Response(null), 10)).toEqual({ text: '', truncated: false });
    expect(await readCapped(new Response(''), 10)).toEqual({ text: '', truncated: false });
  });

  test('decodes UTF-8 split across chunks', async () => {
    const euro = bytes('€'); // three bytes
    const { response } = streamed([euro.subarray(0, 1), euro.subarray(1)]);
    expect(await readCapped(response, 3)).toEqual({ text: '€', truncated: false });
  });
});

describe('network errors', () => {
  test('a timed-out or aborted fetch is a timeout; anything else is not', () => {
    expect(isTimeoutError(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(isTimeoutError(new DOMException('aborted', 'AbortError'))).toBe(true);
    expect(isTimeoutError(new TypeError('fetch failed'))).toBe(false);
    expect(isTimeoutError('TimeoutError')).toBe(false);
  });

  test("the reason is the cause's message when there is one", () => {
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    expect(networkErrorReason(refused)).toBe('connect ECONNREFUSED');
    expect(networkErrorReason(new Error('socket hang up'))).toBe('socket hang up');
    expect(networkErrorReason('a string')).toBe('a string');
    const odd = new Error('fetch failed', { cause: { message: 'not an Error' } });
    expect(networkErrorReason(odd)).toBe('fetch failed');
  });
});

describe('definedOnly', () => {
  test('drops undefined properties, so spreading keeps the defaults', () => {
    const options = { maxAttempts: undefined, attemptTimeoutMs: 1_000, random: null };
    expect(definedOnly(options)).toEqual({ attemptTimeoutMs: 1_000, random: null });
    expect({ maxAttempts: 4, ...definedOnly(options) }.maxAttempts).toBe(4);
  });
});

describe('retry', () => {
  /** A loop on a fake clock: sleeping advances it, and each attempt takes `attemptMs`. */
  function loop(
    outcomes: readonly ('ok' | 'retry' | 'fail' | { retryAfter: string })[],
    overrides: Partial<RetryLoop<string, string>> = {},
  ) {
    // Not zero: a deadline measured from the wrong end must show.
    let clock = 1_000_000;
    const waits: number[] = [];
    const timeouts: number[] = [];
    const options: RetryLoop<string, string> = {
      deadline: clock + 10_000,
      minAttemptMs: 100,
      maxAttempts: 4,
      attemptTimeoutMs: 3_000,
      backoffBaseMs: 500,
      backoffCapMs: 4_000,
      random: () => 0.5,
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
      attempt: async (timeoutMs, n) => {
        timeouts.push(timeoutMs);
        clock += 1_000;
        const outcome = outcomes[Math.min(n - 1, outcomes.length - 1)];
        if (outcome === 'ok') return { done: `value ${n}` };
        if (outcome === 'fail') return { error: `final ${n}`, retry: false };
        if (outcome === 'retry') return { error: `transient ${n}`, retry: true };
        const response = new Response('', {
          status: 429,
          headers: { 'retry-after': outcome?.retryAfter ?? '' },
        });
        return { error: `throttled ${n}`, retry: true, response };
      },
      ...overrides,
      ...(overrides.deadline !== undefined && { deadline: 1_000_000 + overrides.deadline }),
    };
    return { run: () => retry(options), waits, timeouts };
  }

  test('returns the first success and how many attempts it took', async () => {
    // Prepare
    const { run, waits } = loop(['retry', 'ok']);

    // Act
    const result = await run();

    // Assess
    expect(result).toEqual({ ok: true, value: 'value 2', attempts: 2 });
    expect(waits).toEqual([250]);
  });

  test('stops at a final error without waiting', async () => {
    const { run, waits } = loop(['fail']);
    const result = await run();
    expect(result).toMatchObject({ ok: false, error: 'final 1', attempts: 1, final: true });
    expect(waits).toEqual([]);
  });

  test('gives up after the last attempt with the last error', async () => {
    const { run } = loop(['retry'], { deadline: 100_000 });
    const result = await run();
    expect(result).toMatchObject({ ok: false, error: 'transient 4', attempts: 4, final: false });
  });

  test('waits as long as Retry-After asks when that is longer than the backoff', async () => {
    const { run, waits } = loop([{ retryAfter: '2' }, 'ok']);
    await run();
    expect(waits).toEqual([2_000]);
  });

  test('reports running out of time rather than waiting past the deadline', async () => {
    const { run, waits } = loop([{ retryAfter: '30' }]);
    const result = await run();
    expect(waits).toEqual([]);
    expect(result).toMatchObject({ ok: false, outOfTime: true, retryAfterMs: 30_000, attempts: 1 });
  });

  test('bounds each attempt by the time left, and starts none without enough', async () => {
    const { run, timeouts } = loop(['retry'], { deadline: 2_600, attemptTimeoutMs: 5_000 });
    const result = await run();
    expect(timeouts[0]).toBe(2_600);
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    const none = await loop(['ok'], { deadline: 99 }).run();
    expect(none).toEqual({
      ok: false,
      error: undefined,
      attempts: 0,
      final: false,
      outOfTime: false,
    });
  });
});
