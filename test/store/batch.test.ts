/** The Batcher (src/store/batch.ts): grouping, one-by-one retry of a failed batch, slots. */
import { describe, expect, it } from 'vitest';
import { Batcher, PARALLEL_AFTER_MS, PARALLEL_BATCH_MIN } from '../../src/store/batch.js';
import type { Db } from '../../src/store/db.js';

const db = {} as Db;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

it('sends what queues while a batch is in flight as the next batch', async () => {
  const batches: number[][] = [];
  const b = new Batcher<number, number>(db, {
    single: (_d, x) => Promise.resolve(x * 10),
    many: async (_d, xs) => {
      batches.push([...xs]);
      await tick();
      return xs.map((x) => x * 10);
    },
    maxBatch: 100,
    maxConcurrent: 1,
  });
  const first = b.call(1);
  await tick(); // the lone first call goes out alone
  const rest = [2, 3, 4, 5].map((x) => b.call(x));
  expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50]);
  expect(batches).toEqual([[2, 3, 4, 5]]);
});

it('retries a failed batch one call at a time: only the bad input fails', async () => {
  const b = new Batcher<number, number>(db, {
    single: (_d, x) => (x === 3 ? Promise.reject(new Error('bad 3')) : Promise.resolve(x)),
    many: () => Promise.reject(new Error('batch failed')),
    maxBatch: 100,
    maxConcurrent: 1,
  });
  const out = await Promise.allSettled([1, 2, 3, 4].map((x) => b.call(x)));
  expect(out.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([1, 2, 'bad 3', 4]);
});

it('frees the slot before the retries: a slow retry does not hold back the next batch', async () => {
  let releaseSlow!: () => void;
  const slow = new Promise<void>((r) => (releaseSlow = r));
  const b = new Batcher<string, string>(db, {
    // 'stuck' waits (like a lock wait) when retried alone; everything else is quick
    single: async (_d, x) => {
      if (x === 'stuck') await slow;
      return x;
    },
    many: async (_d, xs) => {
      if (xs.includes('stuck')) throw new Error('lock timeout');
      return [...xs];
    },
    maxBatch: 100,
    maxConcurrent: 1,
  });
  const firstBatch = ['stuck', 'a'].map((x) => b.call(x));
  await tick();
  await tick();
  // the failed batch's 'a' was answered by its retry; 'stuck' is still waiting
  expect(await firstBatch[1]).toBe('a');
  const later = await Promise.race([Promise.all(['b', 'c'].map((x) => b.call(x))), new Promise((r) => setTimeout(() => r('held back'), 1000))]);
  expect(later).toEqual(['b', 'c']);
  releaseSlow();
  expect(await firstBatch[0]).toBe('stuck');
});

describe('a second batch while one is in flight (maxConcurrent 2)', () => {
  const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

  it(`holds a few calls back until the batch in flight is done, then sends them as one`, async () => {
    const { b, batches, gates } = gated();
    const first = b.call(0);
    await tick();
    const few = range(1, 3).map((x) => b.call(x));
    await tick();
    await tick();
    expect(batches).toEqual([[0]]); // not sent beside the first
    gates.shift()!();
    await first;
    await waitUntil(() => batches.length === 2);
    expect(batches).toEqual([[0], [1, 2, 3]]);
    gates.shift()!();
    expect(await Promise.all(few)).toEqual([1, 2, 3]);
  });

  it(`sends ${PARALLEL_BATCH_MIN} waiting calls at once beside the batch in flight`, async () => {
    const { b, batches, gates } = gated();
    const first = b.call(0);
    await tick();
    const many = range(1, PARALLEL_BATCH_MIN).map((x) => b.call(x));
    await tick();
    expect(batches).toEqual([[0], range(1, PARALLEL_BATCH_MIN)]);
    gates.splice(0).forEach((g) => g());
    await Promise.all([first, ...many]);
  });

  it(`does not let a slow batch hold the next calls back longer than ~${PARALLEL_AFTER_MS} ms`, async () => {
    const { b, batches, gates } = gated({ parallelAfterMs: PARALLEL_AFTER_MS });
    const stuck = b.call(0); // never released until the end, like a lock wait
    await tick();
    const t0 = performance.now();
    const next = b.call(1);
    await tick();
    expect(batches).toEqual([[0]]);
    await waitUntil(() => batches.length === 2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(PARALLEL_AFTER_MS - 1);
    expect(batches).toEqual([[0], [1]]);
    gates[1]!();
    expect(await next).toBe(1);
    gates[0]!();
    expect(await stuck).toBe(0);
  });
});

describe('more than one batch at once', () => {
  it('sends the rest of an oversized queue beside a slow first batch once it has run PARALLEL_AFTER_MS', async () => {
    const { b, batches, gates } = gated({ parallelAfterMs: 20, maxBatch: 10 });
    // 13 calls in one turn: a batch of 10 goes out, 3 (fewer than PARALLEL_BATCH_MIN) are left and no call comes after them.
    const calls = Array.from({ length: 13 }, (_, i) => b.call(i));
    await waitUntil(() => batches.length === 2);
    expect(batches.map((x) => x.length)).toEqual([10, 3]);
    gates.splice(0).forEach((g) => g());
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 13 }, (_, i) => i));
  });
});

/** A batcher whose batches finish only when released, recording what each batch held. */
function gated({ parallelAfterMs = 3_600_000, maxBatch = 250 } = {}) {
  const batches: number[][] = [];
  const gates: Array<() => void> = [];
  const b = new Batcher<number, number>(db, {
    single: async (_d, x) => {
      batches.push([x]);
      await new Promise<void>((r) => gates.push(r));
      return x;
    },
    many: async (_d, xs) => {
      batches.push([...xs]);
      await new Promise<void>((r) => gates.push(r));
      return [...xs];
    },
    maxBatch,
    maxConcurrent: 2,
    parallelAfterMs,
  });
  return { b, batches, gates };
}

async function waitUntil(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}
