// Seed §5 "Async Iterators". Mirrors:
//   class AsyncRange:
//       def __aiter__(self): return self
//       async def __anext__(self): ... await asyncio.sleep(0.1) ... raise StopAsyncIteration
//   async for num in AsyncRange(5): print(num)
// __aiter__ is [Symbol.asyncIterator](), __anext__ is next(), and
// StopAsyncIteration is `{ done: true }`.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/05-async-iterator.ts
import { run, sleep } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

class AsyncRange implements AsyncIterableIterator<number> {
  private i = 0;
  constructor(private readonly n: number) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<number> {
    return this;
  }

  async next(): Promise<IteratorResult<number>> {
    if (this.i >= this.n) return { done: true, value: undefined };
    await sleep(0.1 * UNIT); // simulate an async operation
    const val = this.i;
    this.i += 1;
    return { done: false, value: val };
  }
}

await run(async () => {
  const start = performance.now();
  for await (const num of new AsyncRange(5)) console.log(num);
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
