// Model-based property tests (fast-check): random interleavings of
// acquire/release/put/get/cancel/shutdown on Lock, Semaphore,
// BoundedSemaphore, Queue and PriorityQueue, executed one command at a time
// and checked after every command against a small model: no item lost or
// duplicated, FIFO order kept, permits never above the bound, no waiter left
// waiting while a permit, an item or a slot is free, cancelled waiters take
// nothing, and every promise the test made settles by the end.
//
// Wake, then cancel: a waiter with a signal resumes one microtask after it
// is woken, and an abort that lands before that cancels it (it takes or puts
// nothing; the grant goes on). The models follow the microtask queue job by
// job: a wake queues the waiter's resumption, and an abort `depth` jobs
// later is a chain of `depth` jobs, queued by the test with queueMicrotask.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import {
  BoundedSemaphore,
  CancelledError,
  InvalidStateError,
  Lock,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  Semaphore,
  type Held,
} from '../src/index.ts';

const SEED = 20_240_613;
const NUM_RUNS = 300;
const MAX_COMMANDS = 40;

/** Lets every microtask and the next turns of the loop run. */
async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

/** Records how a promise settled, and when (a global tick, in callback order). */
let tick = 0;
class Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  value: T | undefined = undefined;
  error: unknown = undefined;
  at = -1;
  constructor(promise: Promise<T>, onFulfilled?: (value: T) => void) {
    void promise.then(
      (value) => {
        this.state = 'fulfilled';
        this.value = value;
        this.at = tick++;
        onFulfilled?.(value);
      },
      (error: unknown) => {
        this.state = 'rejected';
        this.error = error;
        this.at = tick++;
      },
    );
  }
}

function assertCancelled(t: Tracked<unknown>, reason: unknown, what: string): void {
  assert.equal(t.state, 'rejected', `${what}: expected a rejection, got ${t.state}`);
  assert.ok(t.error instanceof CancelledError, `${what}: expected CancelledError, got ${String(t.error)}`);
  assert.equal(
    (t.error as Error).cause,
    reason,
    `${what}: the CancelledError's cause is the signal's reason`,
  );
}

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

/** An abort of one of the waiters that waited before a command, `depth` microtasks after it (1..3). */
interface Later {
  i: number;
  depth: number;
}
const laterArb: fc.Arbitrary<Later | undefined> = opt(
  fc.record({ i: fc.nat(31), depth: fc.integer({ min: 1, max: 3 }) }),
);

/** Runs `fn` in the `depth`-th microtask from now (a chain of jobs, one after another). */
function inMicrotask(depth: number, fn: () => void): void {
  const step = (n: number): void => (n === 0 ? fn() : queueMicrotask(() => step(n - 1)));
  queueMicrotask(() => step(depth - 1));
}

/** The model's microtask queue: jobs run first in, first out, and may queue more. */
class Jobs {
  private readonly queue: (() => void)[] = [];
  push(job: () => void): void {
    this.queue.push(job);
  }
  /** The same chain as `inMicrotask`. */
  later(depth: number, fn: () => void): void {
    const step = (n: number): void => (n === 0 ? fn() : this.push(() => step(n - 1)));
    this.push(() => step(depth - 1));
  }
  run(): void {
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) job();
  }
}

// ---------------------------------------------------------------------------
// Lock, Semaphore, BoundedSemaphore
// ---------------------------------------------------------------------------

type LockCmd =
  | { k: 'acquire' }
  | { k: 'acquirePreAborted' }
  | { k: 'abort'; i: number; live: boolean }
  | {
      k: 'release';
      i: number;
      dispose: boolean;
      abortAfter: number | undefined;
      abortLater: Later | undefined;
      /** Release in this microtask (0: at once), so that a later abort can land between wake and resumption. */
      delay: number;
    }
  | { k: 'releaseAgain'; i: number }
  | { k: 'rawRelease' };

const lockCmd: fc.Arbitrary<LockCmd> = fc.oneof(
  { arbitrary: fc.constant({ k: 'acquire' as const }), weight: 5 },
  { arbitrary: fc.constant({ k: 'acquirePreAborted' as const }), weight: 1 },
  {
    arbitrary: fc.record({ k: fc.constant('abort' as const), i: fc.nat(31), live: fc.boolean() }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('release' as const),
      i: fc.nat(31),
      dispose: fc.boolean(),
      abortAfter: opt(fc.nat(31)),
      abortLater: laterArb,
      delay: fc.integer({ min: 0, max: 2 }),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ k: fc.constant('releaseAgain' as const), i: fc.nat(31) }), weight: 1 },
  { arbitrary: fc.constant({ k: 'rawRelease' as const }), weight: 1 },
);

interface LockWaiter {
  id: number;
  ctl: AbortController;
  reason: Error;
  t: Tracked<Held>;
  status: 'waiting' | 'woken' | 'holding' | 'released' | 'cancelled';
  handle: Held | undefined;
}

type LockKind = 'lock' | 'semaphore' | 'bounded';

async function runLockModel(kind: LockKind, bound: number, cmds: LockCmd[]): Promise<void> {
  const prim =
    kind === 'lock' ? new Lock() : kind === 'bounded' ? new BoundedSemaphore(bound) : new Semaphore(bound);
  const free = (): number => {
    if (prim instanceof Lock) return prim.locked() ? 0 : 1;
    return prim.statistics().value;
  };
  const waiters: LockWaiter[] = [];
  const released: LockWaiter[] = [];
  // The model.
  let mFree = bound;
  const mQueue: LockWaiter[] = [];
  const mGrants: number[] = [];
  const realGrants: number[] = [];
  const jobs = new Jobs();

  /** The longest waiter is handed the permit: it holds it once it resumes, a microtask later. */
  const grantNext = (): void => {
    const next = mQueue.shift();
    if (next === undefined) {
      mFree++;
      return;
    }
    next.status = 'woken';
    jobs.push(() => {
      if (next.status !== 'woken') return; // cancelled before it resumed
      next.status = 'holding';
      mGrants.push(next.id);
    });
  };

  const start = (preAborted: boolean): void => {
    const ctl = new AbortController();
    const id = waiters.length;
    const reason = new Error(`abort #${id}`);
    if (preAborted) ctl.abort(reason);
    const w: LockWaiter = {
      id,
      ctl,
      reason,
      t: new Tracked(prim.acquire({ signal: ctl.signal }), () => realGrants.push(id)),
      status: 'waiting',
      handle: undefined,
    };
    waiters.push(w);
    if (preAborted) {
      w.status = 'cancelled';
    } else if (mFree > 0) {
      assert.equal(mQueue.length, 0, 'model: a free permit with waiters');
      mFree--;
      w.status = 'holding';
      mGrants.push(id);
    } else {
      mQueue.push(w);
    }
  };

  const modelAbort = (w: LockWaiter): void => {
    if (w.status === 'woken') {
      // Handed the permit but not yet resumed: it is cancelled and the permit goes on.
      w.status = 'cancelled';
      grantNext();
    } else if (w.status === 'waiting') {
      mQueue.splice(mQueue.indexOf(w), 1);
      w.status = 'cancelled';
    }
  };
  const abort = (w: LockWaiter): void => {
    w.ctl.abort(w.reason);
    modelAbort(w);
  };

  const check = (where: string): void => {
    let holding = 0;
    let pending = 0;
    for (const w of waiters) {
      const what = `${where}: waiter #${w.id} (${w.status})`;
      assert.notEqual(w.status, 'woken', `${what}: every woken waiter has resumed by now`);
      switch (w.status) {
        case 'waiting':
          assert.equal(w.t.state, 'pending', what);
          pending++;
          break;
        case 'holding':
          holding++;
          assert.equal(w.t.state, 'fulfilled', what);
          w.handle ??= w.t.value;
          break;
        case 'released':
          assert.equal(w.t.state, 'fulfilled', what);
          break;
        case 'cancelled':
          assertCancelled(w.t, w.reason, what);
          break;
      }
    }
    const actualPending = waiters.filter((w) => w.t.state === 'pending').length;
    const actualHolding = waiters.filter((w) => w.t.state === 'fulfilled' && w.status !== 'released').length;
    assert.ok(actualHolding <= bound, `${where}: ${actualHolding} holders above the bound ${bound}`);
    assert.equal(free(), mFree, `${where}: free permits`);
    assert.equal(holding + mFree, bound, `${where}: holders + free permits = bound`);
    assert.equal(actualHolding + free(), bound, `${where}: observed holders + free permits = bound`);
    if (free() > 0) assert.equal(actualPending, 0, `${where}: a waiter is stuck while a permit is free`);
    assert.equal(prim.locked(), mFree === 0, `${where}: locked()`);
    const stats = prim.statistics();
    assert.equal(stats.waiters, pending, `${where}: statistics().waiters`);
    assert.equal(stats.waiters, actualPending, `${where}: statistics().waiters vs pending promises`);
    assert.deepEqual(realGrants, mGrants, `${where}: grants in FIFO order`);
  };

  const exec = (cmd: LockCmd): void => {
    switch (cmd.k) {
      case 'acquire':
        start(false);
        break;
      case 'acquirePreAborted':
        start(true);
        break;
      case 'abort': {
        // A live waiter, or any waiter at all (aborting a settled one must change nothing).
        const pool = cmd.live && mQueue.length > 0 ? mQueue : waiters;
        if (pool.length > 0) abort(pool[cmd.i % pool.length]!);
        break;
      }
      case 'release': {
        const holders = waiters.filter((w) => w.status === 'holding');
        if (holders.length === 0) break;
        const h = holders[cmd.i % holders.length]!;
        const snapshot = [...mQueue];
        const handle = h.handle!;
        const release = (): void => (cmd.dispose ? handle[Symbol.dispose]() : handle.release());
        const modelRelease = (): void => {
          h.status = 'released';
          released.push(h);
          grantNext();
        };
        if (cmd.delay === 0) {
          release();
          modelRelease();
        } else {
          h.status = 'released'; // on its way out: no other command releases it
          inMicrotask(cmd.delay, release);
          jobs.later(cmd.delay, modelRelease);
        }
        if (cmd.abortAfter !== undefined && snapshot.length > 0) {
          abort(snapshot[cmd.abortAfter % snapshot.length]!);
        }
        if (cmd.abortLater !== undefined && snapshot.length > 0) {
          const w = snapshot[cmd.abortLater.i % snapshot.length]!;
          inMicrotask(cmd.abortLater.depth, () => w.ctl.abort(w.reason));
          jobs.later(cmd.abortLater.depth, () => modelAbort(w));
        }
        break;
      }
      case 'releaseAgain':
        // A handle releases once; a second release does nothing.
        if (released.length > 0) released[cmd.i % released.length]!.handle!.release();
        break;
      case 'rawRelease':
        if (prim instanceof Lock && mFree === 1) {
          assert.throws(() => prim.release(), InvalidStateError);
        } else if (prim instanceof BoundedSemaphore && mFree === bound) {
          assert.throws(() => prim.release(), RangeError);
        }
        break;
    }
  };

  for (const [n, cmd] of cmds.entries()) {
    exec(cmd);
    jobs.run();
    await settle();
    check(`after command ${n} ${JSON.stringify(cmd)}`);
  }
  // Release everything until every waiter has had its turn.
  for (let round = 0; waiters.some((w) => w.status === 'holding' || w.status === 'waiting'); round++) {
    assert.ok(round <= waiters.length + 1, 'release-all does not end');
    for (const h of waiters.filter((w) => w.status === 'holding')) {
      h.handle!.release();
      h.status = 'released';
      grantNext();
    }
    jobs.run();
    await settle();
    check(`release-all round ${round}`);
  }
  for (const w of waiters) {
    assert.notEqual(w.t.state, 'pending', `waiter #${w.id} never settled`);
    assert.equal(getEventListeners(w.ctl.signal, 'abort').length, 0, `waiter #${w.id} left a listener`);
  }
  assert.equal(free(), bound);
  assert.equal(prim.statistics().waiters, 0);
}

// ---------------------------------------------------------------------------
// Queue, PriorityQueue
// ---------------------------------------------------------------------------

interface Item {
  uid: number;
  prio: number;
}

/**
 * `abortAfter`: right after the operation, in the same synchronous run, abort
 * one of the waiters that were waiting before it (maybe the one it just
 * served). `thenShutdown`: then, still in the same run, shut the queue down
 * (`true`: immediately), before the served waiters resume. `abortLater`:
 * abort one of those waiters a few microtasks later (before or after it
 * resumed, or while a waiter it woke resumes).
 */
interface SameTick {
  abortAfter: number | undefined;
  thenShutdown: boolean | undefined;
  abortLater: Later | undefined;
}
type QueueCmd =
  | ({ k: 'put'; prio: number } & SameTick)
  | { k: 'putPreAborted'; prio: number }
  | ({ k: 'putNowait'; prio: number } & SameTick)
  | ({ k: 'get' } & SameTick)
  | { k: 'getPreAborted' }
  | ({ k: 'getNowait' } & SameTick)
  | ({ k: 'taskDone' } & SameTick)
  | { k: 'join' }
  | { k: 'abort'; i: number; live: boolean }
  | { k: 'shutdown'; immediate: boolean }
  | {
      // putNowait/getNowait/taskDone run in microtask `depth`; one waiter is aborted in microtask
      // `depth + abortLag` (0: before the waiter it wakes resumes; 1: after).
      k: 'later';
      op: 'putNowait' | 'getNowait' | 'taskDone';
      prio: number;
      depth: number;
      i: number;
      abortLag: number;
    };

const prioArb = fc.integer({ min: 0, max: 2 });
const queueCmd = (withShutdown: boolean): fc.Arbitrary<QueueCmd> => {
  const sameTick = {
    abortAfter: opt(fc.nat(31)),
    thenShutdown: withShutdown
      ? fc.oneof({ arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: fc.boolean(), weight: 1 })
      : fc.constant<boolean | undefined>(undefined),
    abortLater: laterArb,
  };
  return fc.oneof(
    { arbitrary: fc.record({ k: fc.constant('put' as const), prio: prioArb, ...sameTick }), weight: 4 },
    { arbitrary: fc.record({ k: fc.constant('putPreAborted' as const), prio: prioArb }), weight: 1 },
    { arbitrary: fc.record({ k: fc.constant('putNowait' as const), prio: prioArb, ...sameTick }), weight: 3 },
    { arbitrary: fc.record({ k: fc.constant('get' as const), ...sameTick }), weight: 4 },
    { arbitrary: fc.constant({ k: 'getPreAborted' as const }), weight: 1 },
    { arbitrary: fc.record({ k: fc.constant('getNowait' as const), ...sameTick }), weight: 3 },
    { arbitrary: fc.record({ k: fc.constant('taskDone' as const), ...sameTick }), weight: 2 },
    { arbitrary: fc.constant({ k: 'join' as const }), weight: 1 },
    {
      arbitrary: fc.record({ k: fc.constant('abort' as const), i: fc.nat(31), live: fc.boolean() }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        k: fc.constant('later' as const),
        op: fc.constantFrom('putNowait' as const, 'getNowait' as const, 'taskDone' as const),
        prio: prioArb,
        depth: fc.integer({ min: 1, max: 2 }),
        i: fc.nat(31),
        abortLag: fc.integer({ min: 0, max: 1 }),
      }),
      weight: 3,
    },
    ...(withShutdown
      ? [
          {
            arbitrary: fc.record({ k: fc.constant('shutdown' as const), immediate: fc.boolean() }),
            weight: 1,
          },
        ]
      : []),
  );
};

interface QueueWaiter {
  id: number;
  kind: 'get' | 'put' | 'join';
  ctl: AbortController;
  reason: Error;
  t: Tracked<unknown>;
  item: Item | undefined; // what a putter brings, or what the model says a getter got
  // woken: served, resumes in a microtask; refused: shut down, learns it in a microtask.
  status: 'waiting' | 'woken' | 'refused' | 'done' | 'cancelled' | 'shutdown';
}

/** The model's store: the smallest (priority, sequence) first; a FIFO queue ignores priorities. */
class ModelStore {
  private entries: { item: Item; seq: number }[] = [];
  private seq = 0;
  constructor(private readonly byPriority: boolean) {}
  get size(): number {
    return this.entries.length;
  }
  push(item: Item): void {
    this.entries.push({ item, seq: this.seq++ });
  }
  pop(): Item {
    let best = 0;
    for (let i = 1; i < this.entries.length; i++) {
      const a = this.entries[i]!;
      const b = this.entries[best]!;
      const pa = this.byPriority ? a.item.prio : 0;
      const pb = this.byPriority ? b.item.prio : 0;
      if (pa < pb || (pa === pb && a.seq < b.seq)) best = i;
    }
    return this.entries.splice(best, 1)[0]!.item;
  }
  clear(): void {
    this.entries = [];
  }
}

/**
 * Every wait in this model has a signal, so it follows asyncio: a put wakes
 * the longest-waiting getter, which takes an item from the queue when it
 * resumes; a freed slot wakes the longest-waiting putter, which puts its
 * item when it resumes (the slot is kept for it from other waiters, not from
 * a putNowait). A waiter whose item or slot was taken meanwhile waits again,
 * first in line; one cancelled before it resumed takes or puts nothing and
 * wakes the next.
 */
async function runQueueModel(priority: boolean, maxsize: number, cmds: QueueCmd[]): Promise<void> {
  const q = priority ? new PriorityQueue<Item>(maxsize, (a, b) => a.prio - b.prio) : new Queue<Item>(maxsize);
  const waiters: QueueWaiter[] = [];
  let uid = 0;
  // Observations, independent of the model.
  const accepted = new Set<number>(); // uids whose put resolved or putNowait returned
  const rejectedPuts = new Set<number>();
  const got: number[] = []; // uids taken, in order, from get() and getNowait()
  let dropped = 0; // items dropped by shutdown(true), read from qsize() just before
  const laterSeen: unknown[] = []; // what the 'later' operations did, in order
  const laterExpected: unknown[] = []; // what the model says they did
  // The model.
  const store = new ModelStore(priority);
  const mGetters: QueueWaiter[] = [];
  const mPutters: QueueWaiter[] = [];
  const mJoiners: QueueWaiter[] = [];
  let unfinished = 0;
  let isShutdown = false;
  let promisedSlots = 0; // putters woken (or refused) that have not resumed
  const jobs = new Jobs();

  const full = (): boolean => maxsize > 0 && store.size >= maxsize;
  const freeSlots = (): number => (maxsize > 0 ? maxsize - store.size - promisedSlots : Infinity);
  const lists = { get: mGetters, put: mPutters, join: mJoiners };

  const wake = (w: QueueWaiter, refused = false): void => {
    w.status = refused ? 'refused' : 'woken';
    if (w.kind === 'put') promisedSlots++;
    jobs.push(() => resume(w));
  };
  const resume = (w: QueueWaiter): void => {
    if (w.status !== 'woken' && w.status !== 'refused') return; // cancelled before it resumed
    if (w.kind === 'put') promisedSlots--;
    if (w.status === 'refused') w.status = 'shutdown';
    else if (w.kind === 'get') {
      if (store.size > 0) {
        w.item = take();
        w.status = 'done';
      } else if (isShutdown) w.status = 'shutdown';
      else {
        w.status = 'waiting';
        mGetters.unshift(w);
      }
    } else if (w.kind === 'put') {
      if (isShutdown) w.status = 'shutdown';
      else if (full()) {
        w.status = 'waiting';
        mPutters.unshift(w);
      } else {
        add(w.item!);
        w.status = 'done';
      }
    } else w.status = 'done';
  };
  const add = (item: Item): void => {
    store.push(item);
    unfinished++;
    const g = mGetters.shift();
    if (g !== undefined) wake(g);
  };
  const take = (): Item => {
    const item = store.pop();
    admitPutters();
    return item;
  };
  const admitPutters = (): void => {
    while (mPutters.length > 0 && freeSlots() > 0) wake(mPutters.shift()!);
  };
  const finished = (): void => {
    for (const j of mJoiners.splice(0)) wake(j);
  };

  const start = (kind: QueueWaiter['kind'], preAborted: boolean, item?: Item): QueueWaiter => {
    const ctl = new AbortController();
    const id = waiters.length;
    const reason = new Error(`abort #${id}`);
    if (preAborted) ctl.abort(reason);
    const opts = { signal: ctl.signal };
    let t: Tracked<unknown>;
    if (kind === 'get') t = new Tracked(q.get(opts), (v) => got.push(v.uid));
    else if (kind === 'put') t = new Tracked(q.put(item!, opts), () => accepted.add(item!.uid));
    else t = new Tracked(q.join(opts));
    const w: QueueWaiter = { id, kind, ctl, reason, t, item, status: 'waiting' };
    waiters.push(w);
    return w;
  };

  const modelAbort = (w: QueueWaiter): void => {
    if (w.status === 'waiting') {
      const list = lists[w.kind];
      list.splice(list.indexOf(w), 1);
      w.status = 'cancelled';
    } else if (w.status === 'woken' || w.status === 'refused') {
      // Served (or shut down) but not yet resumed: it takes or puts nothing, and what it was woken for goes on.
      const served = w.status === 'woken';
      w.status = 'cancelled';
      if (w.kind === 'put') promisedSlots--;
      if (served && w.kind === 'put') admitPutters();
      if (served && w.kind === 'get' && store.size > 0) {
        const g = mGetters.shift();
        if (g !== undefined) wake(g);
      }
    }
  };
  const abort = (w: QueueWaiter): void => {
    w.ctl.abort(w.reason);
    modelAbort(w);
  };

  const newItem = (prio: number): Item => ({ uid: uid++, prio });

  /** A 'later' operation on the queue, in its microtask: what it did (or threw). */
  const laterReal = (op: 'putNowait' | 'getNowait' | 'taskDone', item: Item): unknown => {
    try {
      if (op === 'putNowait') {
        q.putNowait(item);
        accepted.add(item.uid);
        return `put #${item.uid}`;
      }
      if (op === 'getNowait') {
        const got1 = q.getNowait();
        got.push(got1.uid);
        return `got #${got1.uid}`;
      }
      q.taskDone();
      return 'done';
    } catch (e) {
      return (e as Error).name;
    }
  };
  /** The same operation on the model, in the same place of the microtask queue. */
  const laterModel = (op: 'putNowait' | 'getNowait' | 'taskDone', item: Item): unknown => {
    if (op === 'putNowait') {
      if (isShutdown) return 'QueueShutDown';
      if (full()) return 'QueueFull';
      add(item);
      return `put #${item.uid}`;
    }
    if (op === 'getNowait') {
      if (store.size > 0) return `got #${take().uid}`;
      return isShutdown ? 'QueueShutDown' : 'QueueEmpty';
    }
    if (unfinished === 0) return 'RangeError';
    if (--unfinished === 0) finished();
    return 'done';
  };

  const exec = (cmd: QueueCmd): void => {
    const snapshot = [...mGetters, ...mPutters, ...mJoiners];
    switch (cmd.k) {
      case 'put': {
        const item = newItem(cmd.prio);
        const w = start('put', false, item);
        if (isShutdown) w.status = 'shutdown';
        else if (!full()) {
          add(item);
          w.status = 'done';
        } else mPutters.push(w);
        break;
      }
      case 'putPreAborted': {
        const w = start('put', true, newItem(cmd.prio));
        w.status = isShutdown ? 'shutdown' : 'cancelled';
        break;
      }
      case 'putNowait': {
        const item = newItem(cmd.prio);
        if (isShutdown) assert.throws(() => q.putNowait(item), QueueShutDown);
        else if (full()) assert.throws(() => q.putNowait(item), QueueFull);
        else {
          q.putNowait(item);
          accepted.add(item.uid);
          add(item);
        }
        break;
      }
      case 'get': {
        const w = start('get', false);
        if (store.size > 0) {
          w.status = 'done';
          w.item = take();
        } else if (isShutdown) w.status = 'shutdown';
        else mGetters.push(w);
        break;
      }
      case 'getPreAborted':
        start('get', true).status = 'cancelled';
        break;
      case 'getNowait':
        if (store.size > 0) {
          const expected = take();
          const item = q.getNowait();
          got.push(item.uid);
          assert.equal(item, expected, `getNowait gave #${item.uid}, the model says #${expected.uid}`);
        } else if (isShutdown) assert.throws(() => q.getNowait(), QueueShutDown);
        else assert.throws(() => q.getNowait(), QueueEmpty);
        break;
      case 'taskDone':
        if (unfinished === 0) assert.throws(() => q.taskDone(), RangeError);
        else {
          q.taskDone();
          if (--unfinished === 0) finished();
        }
        break;
      case 'join': {
        const w = start('join', false);
        if (unfinished === 0) w.status = 'done';
        else mJoiners.push(w);
        break;
      }
      case 'abort': {
        const live = [...mGetters, ...mPutters, ...mJoiners];
        const pool = cmd.live && live.length > 0 ? live : waiters;
        if (pool.length > 0) abort(pool[cmd.i % pool.length]!);
        break;
      }
      case 'later': {
        const op = cmd.op;
        const item = newItem(cmd.prio);
        inMicrotask(cmd.depth, () => laterSeen.push(laterReal(op, item)));
        jobs.later(cmd.depth, () => laterExpected.push(laterModel(op, item)));
        const live = [...mGetters, ...mPutters, ...mJoiners];
        if (live.length > 0) {
          const w = live[cmd.i % live.length]!;
          inMicrotask(cmd.depth + cmd.abortLag, () => w.ctl.abort(w.reason));
          jobs.later(cmd.depth + cmd.abortLag, () => modelAbort(w));
        }
        break;
      }
      case 'shutdown':
        if (cmd.immediate) dropped += q.qsize();
        q.shutdown(cmd.immediate);
        isShutdown = true;
        if (cmd.immediate) {
          unfinished = Math.max(0, unfinished - store.size);
          store.clear();
          if (unfinished === 0) finished();
        }
        for (const w of [...mGetters.splice(0), ...mPutters.splice(0)]) wake(w, true);
        break;
    }
    if ('abortAfter' in cmd) {
      if (cmd.abortAfter !== undefined && snapshot.length > 0)
        abort(snapshot[cmd.abortAfter % snapshot.length]!);
      if (cmd.thenShutdown !== undefined) exec({ k: 'shutdown', immediate: cmd.thenShutdown });
      if (cmd.abortLater !== undefined && snapshot.length > 0) {
        const w = snapshot[cmd.abortLater.i % snapshot.length]!;
        inMicrotask(cmd.abortLater.depth, () => w.ctl.abort(w.reason));
        jobs.later(cmd.abortLater.depth, () => modelAbort(w));
      }
    }
  };

  const check = (where: string): void => {
    for (const w of waiters) {
      const what = `${where}: ${w.kind} #${w.id} (${w.status})`;
      assert.ok(
        w.status !== 'woken' && w.status !== 'refused',
        `${what}: every woken waiter has resumed by now`,
      );
      switch (w.status) {
        case 'waiting':
          assert.equal(w.t.state, 'pending', what);
          break;
        case 'done':
          assert.equal(w.t.state, 'fulfilled', `${what}: ${w.t.state} ${String(w.t.error)}`);
          if (w.kind === 'get') {
            const v = w.t.value as Item;
            assert.equal(v, w.item, `${what}: got #${v.uid}, the model says #${w.item!.uid}`);
          }
          break;
        case 'cancelled':
          assertCancelled(w.t, w.reason, what);
          break;
        case 'shutdown':
          assert.equal(w.t.state, 'rejected', what);
          assert.ok(w.t.error instanceof QueueShutDown, `${what}: ${String(w.t.error)}`);
          break;
      }
      if (w.kind === 'put' && w.t.state === 'rejected') rejectedPuts.add(w.item!.uid);
    }
    const stats = q.statistics();
    assert.deepEqual(
      stats,
      {
        qsize: store.size,
        maxsize,
        unfinished,
        getters: mGetters.length,
        putters: mPutters.length,
      },
      `${where}: statistics()`,
    );
    assert.deepEqual(laterSeen, laterExpected, `${where}: the operations run in a later microtask`);
    assert.equal(q.qsize(), store.size, `${where}: qsize()`);
    assert.equal(q.empty(), store.size === 0, `${where}: empty()`);
    assert.equal(q.full(), full(), `${where}: full()`);
    // No waiter stuck: getters wait only on an empty queue, putters only on a full one.
    const pendingGets = waiters.filter((w) => w.kind === 'get' && w.t.state === 'pending').length;
    const pendingPuts = waiters.filter((w) => w.kind === 'put' && w.t.state === 'pending').length;
    assert.equal(stats.getters, pendingGets, `${where}: getters vs pending gets`);
    assert.equal(stats.putters, pendingPuts, `${where}: putters vs pending puts`);
    if (pendingGets > 0) assert.equal(q.qsize(), 0, `${where}: a getter is stuck while an item is queued`);
    if (pendingPuts > 0) assert.ok(q.full(), `${where}: a putter is stuck while a slot is free`);
    if (maxsize > 0) assert.ok(q.qsize() <= maxsize, `${where}: qsize above maxsize`);
    // No item lost, none duplicated.
    assert.equal(new Set(got).size, got.length, `${where}: an item was got twice: ${JSON.stringify(got)}`);
    for (const u of got) {
      assert.ok(accepted.has(u), `${where}: item #${u} got but never accepted`);
      assert.ok(!rejectedPuts.has(u), `${where}: item #${u} got though its put was rejected`);
    }
    for (const u of rejectedPuts) assert.ok(!accepted.has(u), `${where}: #${u} both accepted and rejected`);
    assert.equal(accepted.size - got.length - dropped, q.qsize(), `${where}: items accepted - got - dropped`);
  };

  const step = async (cmd: QueueCmd, where: string): Promise<void> => {
    exec(cmd);
    jobs.run();
    await settle();
    check(where);
  };

  for (const [n, cmd] of cmds.entries()) await step(cmd, `after command ${n} ${JSON.stringify(cmd)}`);
  // The end: drain, shut down, finish every task; then nothing may be pending.
  const plain = { abortAfter: undefined, thenShutdown: undefined, abortLater: undefined };
  for (let n = 0; store.size > 0; n++) await step({ k: 'getNowait', ...plain }, `drain ${n}`);
  assert.equal(mPutters.length, 0, 'putters left after draining');
  await step({ k: 'shutdown', immediate: false }, 'final shutdown');
  while (unfinished > 0) await step({ k: 'taskDone', ...plain }, 'final taskDone');
  assert.throws(() => q.taskDone(), RangeError);
  assert.throws(() => q.getNowait(), QueueShutDown);
  for (const w of waiters) {
    assert.notEqual(w.t.state, 'pending', `${w.kind} #${w.id} never settled`);
    assert.equal(getEventListeners(w.ctl.signal, 'abort').length, 0, `${w.kind} #${w.id} left a listener`);
  }
  assert.equal(accepted.size - dropped, got.length, 'every accepted item was got once or dropped');
}

// ---------------------------------------------------------------------------
// Listeners on a long-lived foreign signal
// ---------------------------------------------------------------------------

type ListenCmd =
  | { k: 'wait'; target: 0 | 1 | 2 | 3; own: boolean }
  | { k: 'abortOwn'; i: number }
  | { k: 'release'; i: number }
  | { k: 'putNowait' }
  | { k: 'getNowait' };

const listenCmd: fc.Arbitrary<ListenCmd> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant('wait' as const),
      target: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
      own: fc.boolean(),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ k: fc.constant('abortOwn' as const), i: fc.nat(63) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('release' as const), i: fc.nat(63) }), weight: 3 },
  { arbitrary: fc.constant({ k: 'putNowait' as const }), weight: 1 },
  { arbitrary: fc.constant({ k: 'getNowait' as const }), weight: 1 },
);

/**
 * Many waits on a Lock, a Semaphore(2) and a Queue(1) given one shared,
 * never-aborted foreign signal (some given an own signal that may abort): the
 * shared signal carries one `abort` listener while a wait on it is pending,
 * and none once every wait has settled.
 */
async function runListeners(cmds: ListenCmd[]): Promise<void> {
  const shared = new AbortController();
  const lock = new Lock();
  const sem = new Semaphore(2);
  const q = new Queue<number>(1);
  interface Wait {
    shared: boolean;
    ctl: AbortController | undefined;
    t: Tracked<unknown>;
    released: boolean;
  }
  const waits: Wait[] = [];
  const listeners = (): number => getEventListeners(shared.signal, 'abort').length;
  const check = (where: string): void => {
    const pendingShared = waits.filter((w) => w.shared && w.t.state === 'pending').length;
    assert.equal(
      listeners(),
      pendingShared > 0 ? 1 : 0,
      `${where}: ${pendingShared} pending on the shared signal`,
    );
    for (const w of waits) {
      if (w.ctl !== undefined && w.t.state !== 'pending') {
        assert.equal(
          getEventListeners(w.ctl.signal, 'abort').length,
          0,
          `${where}: an own signal kept a listener`,
        );
      }
    }
  };
  let n = 0;
  const exec = (cmd: ListenCmd): void => {
    switch (cmd.k) {
      case 'wait': {
        const ctl = cmd.own ? new AbortController() : undefined;
        const signal = ctl?.signal ?? shared.signal;
        const p =
          cmd.target === 0
            ? lock.acquire({ signal })
            : cmd.target === 1
              ? sem.acquire({ signal })
              : cmd.target === 2
                ? q.get({ signal })
                : q.put(n++, { signal });
        waits.push({ shared: !cmd.own, ctl, t: new Tracked<unknown>(p), released: false });
        break;
      }
      case 'abortOwn': {
        const own = waits.filter((w) => w.ctl !== undefined);
        if (own.length > 0) own[cmd.i % own.length]!.ctl!.abort();
        break;
      }
      case 'release': {
        const held = waits.filter((w) => !w.released && w.t.state === 'fulfilled' && w.t.value !== undefined);
        const h = held[cmd.i % held.length];
        if (h !== undefined && typeof (h.t.value as Held).release === 'function') {
          (h.t.value as Held).release();
          h.released = true;
        }
        break;
      }
      case 'putNowait':
        if (!q.full()) q.putNowait(n++);
        break;
      case 'getNowait':
        if (!q.empty()) q.getNowait();
        break;
    }
  };
  for (const [i, cmd] of cmds.entries()) {
    exec(cmd);
    await settle();
    check(`after command ${i} ${JSON.stringify(cmd)}`);
  }
  // Release every lock and permit until no acquire waits, then end the queue's waits.
  for (let round = 0; ; round++) {
    const held = waits.filter(
      (w) =>
        !w.released &&
        w.t.state === 'fulfilled' &&
        typeof (w.t.value as Held | undefined)?.release === 'function',
    );
    if (held.length === 0) break;
    assert.ok(round <= waits.length, 'release-all does not end');
    for (const h of held) {
      (h.t.value as Held).release();
      h.released = true;
    }
    await settle();
    check(`release-all round ${round}`);
  }
  q.shutdown(true);
  await settle();
  check('after shutdown');
  for (const w of waits) assert.notEqual(w.t.state, 'pending', 'a wait never settled');
  assert.equal(listeners(), 0, 'the shared signal kept a listener');
  assert.equal(shared.signal.aborted, false);
}

// ---------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------

const params = { seed: SEED, numRuns: NUM_RUNS };
const cmdsOf = <C>(arb: fc.Arbitrary<C>): fc.Arbitrary<C[]> =>
  fc.array(arb, { maxLength: MAX_COMMANDS, size: 'max' });

void describe('model-based properties', () => {
  void test('Semaphore(N), N in 1..4: bound, FIFO, no stuck waiter, cancelled waiters take nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), cmdsOf(lockCmd), (n, cmds) =>
        runLockModel('semaphore', n, cmds),
      ),
      params,
    );
  });

  void test('BoundedSemaphore(N), N in 1..4: the same, and release above the bound throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), cmdsOf(lockCmd), (n, cmds) =>
        runLockModel('bounded', n, cmds),
      ),
      { ...params, seed: SEED + 1 },
    );
  });

  void test('Lock: one holder, FIFO, no stuck waiter, release when unlocked throws', async () => {
    await fc.assert(
      fc.asyncProperty(cmdsOf(lockCmd), (cmds) => runLockModel('lock', 1, cmds)),
      { ...params, seed: SEED + 2 },
    );
  });

  void test('Queue(maxsize 0..3): no item lost or duplicated, FIFO, shutdown, taskDone/join', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), cmdsOf(queueCmd(true)), (maxsize, cmds) =>
        runQueueModel(false, maxsize, cmds),
      ),
      { ...params, seed: SEED + 3 },
    );
  });

  void test('PriorityQueue(maxsize 0..3): smallest first, stable, no item lost or duplicated', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), cmdsOf(queueCmd(true)), (maxsize, cmds) =>
        runQueueModel(true, maxsize, cmds),
      ),
      { ...params, seed: SEED + 4 },
    );
  });

  void test('Queue without shutdown: longer runs of put/get/cancel', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), cmdsOf(queueCmd(false)), (maxsize, cmds) =>
        runQueueModel(false, maxsize, cmds),
      ),
      { ...params, numRuns: 100, seed: SEED + 5 },
    );
  });

  void test('a shared foreign signal keeps one abort listener while waits are pending, none after', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(listenCmd, { maxLength: 60, size: 'max' }), (cmds) => runListeners(cmds)),
      { ...params, numRuns: 150, seed: SEED + 6 },
    );
  });
});
