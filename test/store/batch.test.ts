/** The Batcher (src/store/batch.ts): grouping, one-by-one retry of a failed batch, slots. */
import { expect, it } from 'vitest';
import { Batcher } from '../../src/store/batch.js';
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
