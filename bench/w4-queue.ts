// W4: a bounded queue (maxsize 100), 1 producer, 4 consumers, 1,000,000 items,
// with taskDone/join.
//
// The same shape in every variant: the producer puts items 0..N-1, waits for
// the join (every item taken and marked done), then puts one end marker per
// consumer; each consumer takes items, records them and marks them done
// until it takes an end marker. `floor` is the simplest correct bounded
// queue one would write by hand (an array of items, an array of waiting
// getters, an array of waiting putters, FIFO, no cancellation), with the same
// put/get/taskDone/join surface. Effect has no join: its consumers count
// completions and the one that completes the Nth completes a `Deferred`
// the producer awaits.
//
// Each variant fails unless every item was consumed exactly once and the join
// returned after the last completion and before the end markers.
//
// The producer calls `mark()` just before its 101st put, once the queue has
// had a chance to fill: its live data is bounded, so the heap figure per item
// is ~0 by design.
import type { Mark, Workload } from './_workload.ts';

const MAXSIZE = 100;
const CONSUMERS = 4;
const END = -1;

/** The minimal bounded queue: what the floor variant measures. */
class FloorQueue<T> {
  private readonly items: T[] = [];
  private readonly getters: ((item: T) => void)[] = [];
  private readonly putters: { item: T; resolve: () => void }[] = [];
  private joiners: (() => void)[] = [];
  private unfinished = 0;

  constructor(private readonly maxsize: number) {}

  put(item: T): Promise<void> {
    const getter = this.getters.shift();
    if (getter !== undefined) {
      this.unfinished++;
      getter(item);
      return Promise.resolve();
    }
    if (this.items.length < this.maxsize) {
      this.unfinished++;
      this.items.push(item);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.putters.push({ item, resolve }));
  }

  get(): Promise<T> {
    if (this.items.length === 0) return new Promise((resolve) => this.getters.push(resolve));
    const item = this.items.shift()!;
    const putter = this.putters.shift();
    if (putter !== undefined) {
      this.unfinished++;
      this.items.push(putter.item);
      putter.resolve();
    }
    return Promise.resolve(item);
  }

  taskDone(): void {
    if (--this.unfinished > 0) return;
    const joiners = this.joiners;
    this.joiners = [];
    for (const resolve of joiners) resolve();
  }

  join(): Promise<void> {
    return this.unfinished === 0 ? Promise.resolve() : new Promise((resolve) => this.joiners.push(resolve));
  }
}

/** Records what the consumers took; `check` throws unless each item was taken once and join came right. */
function ledger(n: number) {
  const seen = new Uint8Array(n);
  let consumed = 0;
  let twice = 0;
  let joinedAt = -1;
  return {
    /** A consumer took `item` (not an end marker). */
    take(item: number): void {
      if (seen[item]++ !== 0) twice++;
      consumed++;
    },
    get consumed(): number {
      return consumed;
    },
    /** The producer's join returned. */
    joined(): void {
      joinedAt = consumed;
    },
    check(): void {
      if (consumed !== n || twice !== 0 || joinedAt !== n || seen.includes(0)) {
        throw new Error(
          `W4 check failed: ${consumed}/${n} consumed, ${twice} taken twice, ` +
            `join returned after ${joinedAt} (want ${n})`,
        );
      }
    },
  };
}

/** Producer and consumers over anything with put/get/taskDone/join. */
async function run(
  q: { put(x: number): Promise<void>; get(): Promise<number>; taskDone(): void; join(): Promise<void> },
  n: number,
  mark: Mark,
): Promise<void> {
  const log = ledger(n);
  const producer = async () => {
    for (let i = 0; i < n; i++) {
      if (i === MAXSIZE) mark();
      await q.put(i);
    }
    await q.join();
    log.joined();
    for (let c = 0; c < CONSUMERS; c++) await q.put(END);
  };
  const consumer = async () => {
    for (;;) {
      const item = await q.get();
      if (item === END) {
        q.taskDone();
        return;
      }
      log.take(item);
      q.taskDone();
    }
  };
  await Promise.all([producer(), ...Array.from({ length: CONSUMERS }, consumer)]);
  log.check();
}

export const w4: Workload = {
  id: 'W4',
  title: 'Queue(maxsize 100): 1 producer, 4 consumers, 1,000,000 items, taskDone/join',
  n: 1_000_000,
  note:
    'The producer puts N items, awaits the join, then puts one end marker per consumer; consumers take, ' +
    'record and mark done until their end marker. `floor` is the simplest correct bounded queue by hand ' +
    '(items array, waiting-getters array, waiting-putters array, FIFO, no cancellation). Effect has no ' +
    'join: consumers count completions and the Nth completes a `Deferred` the producer awaits. Each ' +
    'variant fails unless every item was consumed exactly once and the join returned after the last ' +
    'completion. `mark()` is called before the 101st put; the live data is bounded, so the heap figure ' +
    'per item is ~0 by design.',
  unit: 'item',
  baseline: 'floor',
  variants: [
    {
      name: 'floor',
      code: 'new FloorQueue(100): put / get / taskDone / join as above (bench/w4-queue.ts)',
      async load() {
        return (n, mark) => run(new FloorQueue<number>(MAXSIZE), n, mark);
      },
    },
    {
      name: 'tsaio',
      code: 'const q = new Queue(100); producer: await q.put(i) ×N, await q.join(); consumers: await q.get(), q.taskDone()',
      async load() {
        const { Queue } = await import('tsaio');
        return (n, mark) => run(new Queue<number>(MAXSIZE), n, mark);
      },
    },
    {
      name: 'effect',
      code:
        'Queue.bounded(100); producer: Effect.gen(yield* Queue.offer(q, i) ×N; yield* Deferred.await(done)); ' +
        'consumers: Effect.gen(yield* Queue.take(q); the Nth completion does Deferred.succeed(done)); ' +
        "Effect.runPromise(Effect.all([producer, ...consumers], { concurrency: 'unbounded' }))",
      async load() {
        const { Deferred, Effect, Queue } = await import('effect');
        return async (n, mark) => {
          const log = ledger(n);
          const program = Effect.gen(function* () {
            const q = yield* Queue.bounded<number>(MAXSIZE);
            const done = yield* Deferred.make<void>();
            const producer = Effect.gen(function* () {
              for (let i = 0; i < n; i++) {
                if (i === MAXSIZE) mark();
                yield* Queue.offer(q, i);
              }
              yield* Deferred.await(done);
              log.joined();
              for (let c = 0; c < CONSUMERS; c++) yield* Queue.offer(q, END);
            });
            const consumer = Effect.gen(function* () {
              for (;;) {
                const item = yield* Queue.take(q);
                if (item === END) return;
                log.take(item);
                if (log.consumed === n) yield* Deferred.succeed(done, undefined);
              }
            });
            yield* Effect.all([producer, ...Array.from({ length: CONSUMERS }, () => consumer)], {
              concurrency: 'unbounded',
              discard: true,
            });
          });
          await Effect.runPromise(program);
          log.check();
        };
      },
    },
  ],
};
