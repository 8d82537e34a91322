// The one wait-queue under every primitive (src/_waitqueue.ts), tested
// directly: FIFO order across waiters with and without a signal, cancelled
// waiters leaving no trace, tombstones swept so a long-lived queue of
// cancelled waiters cannot grow without bound, and the array reused or let go.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CancelledError } from '../src/index.ts';
import { NOBODY, PLAIN, ParkingLot, SIGNALED } from '../src/_waitqueue.ts';
import { _hookCount } from '../src/_cancel.ts';

/** Lets every pending microtask run. */
const flush = () => new Promise((r) => setImmediate(r));

/** The private layout, read for the bounds checks. */
const layout = (lot: ParkingLot<unknown>) =>
  lot as unknown as { _slots: unknown[]; _head: number; _tail: number; _gone: number };

void describe('ParkingLot', () => {
  void test('serves waiters with and without a signal in arrival order', async () => {
    const lot = new ParkingLot<string>('test');
    const got: string[] = [];
    const ctl = new AbortController();
    for (let i = 0; i < 6; i++) {
      void lot.park(i % 2 ? ctl.signal : undefined).then((v) => got.push(`${i}:${v}`));
    }
    assert.equal(lot.size, 6);
    assert.equal(lot.unparkOne('a'), PLAIN);
    assert.equal(lot.unparkOne('b'), SIGNALED);
    assert.equal(lot.unparkAll('c'), 4);
    assert.equal(lot.unparkOne('d'), NOBODY);
    await flush();
    assert.deepEqual(got, ['0:a', '1:b', '2:c', '3:c', '4:c', '5:c']);
    assert.equal(_hookCount(ctl.signal), 0, 'no hook left on the signal');
  });

  void test('a cancelled waiter rejects with CancelledError and is skipped', async () => {
    const lot = new ParkingLot<number>('test');
    const ctl = new AbortController();
    const a = lot.park(undefined);
    const b = lot.park(ctl.signal, 'b-payload');
    const c = lot.park(undefined, 'c-payload');
    ctl.abort('why');
    await assert.rejects(b, (e) => e instanceof CancelledError && e.cause === 'why');
    assert.equal(lot.size, 2);
    assert.equal(lot.unparkOne(1), PLAIN);
    assert.equal(lot.headPayload(), 'c-payload', 'the tombstone is skipped');
    assert.equal(lot.headHasSignal(), false);
    assert.equal(lot.unparkOne(2), PLAIN);
    assert.deepEqual(await Promise.all([a, c]), [1, 2]);
    assert.equal(lot.size, 0);
    assert.equal(lot.headPayload(), undefined);
  });

  void test('rejectAll rejects every live waiter, in order, and skips the gone', async () => {
    const lot = new ParkingLot<void>('test');
    const ctl = new AbortController();
    const gone = new AbortController();
    const order: number[] = [];
    const waits = [lot.park(undefined), lot.park(gone.signal), lot.park(ctl.signal), lot.park(undefined)];
    gone.abort();
    waits.forEach((w, i) => {
      w.catch((e: Error) => e.message === 'closed' && order.push(i));
    });
    assert.equal(
      lot.rejectAll(() => new Error('closed')),
      3,
    );
    await flush();
    assert.deepEqual(order, [0, 2, 3]);
    assert.equal(_hookCount(ctl.signal), 0);
  });

  void test('tombstones are swept: 2,000 cancelled waiters behind one live one leave a small array', async () => {
    const lot = new ParkingLot<string>('test');
    const first = lot.park(undefined);
    for (let i = 0; i < 2_000; i++) {
      const ctl = new AbortController();
      const p = lot.park(ctl.signal);
      p.catch(() => {});
      ctl.abort();
    }
    const last = lot.park(undefined);
    assert.equal(lot.size, 2);
    const l = layout(lot);
    assert.ok(l._tail - l._head <= 3 * 40, `slots in use ${l._tail - l._head}: tombstones were not swept`);
    assert.equal(lot.unparkAll('x'), 2);
    assert.deepEqual(await Promise.all([first, last]), ['x', 'x']);
  });

  void test('an emptied lot reuses a small array and lets a big one go', () => {
    const lot = new ParkingLot<void>('test');
    for (let i = 0; i < 10; i++) void lot.park(undefined);
    const small = layout(lot)._slots;
    lot.unparkAll();
    assert.equal(layout(lot)._slots, small, 'a small array is kept for reuse');
    assert.ok(
      small.every((x) => x === undefined),
      'no waiter is kept alive by the array',
    );
    for (let i = 0; i < 5_000; i++) void lot.park(undefined);
    lot.unparkAll();
    assert.equal(layout(lot)._slots.length, 0, 'a big array is let go once the lot is empty');
  });

  void test('model: random park/abort/unpark keeps FIFO, loses nothing and stays bounded', async () => {
    type Cmd = { k: 'park'; signal: boolean } | { k: 'abort'; i: number } | { k: 'unpark'; n: number };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ k: fc.constant('park' as const), signal: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('abort' as const), i: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({ k: fc.constant('unpark' as const), n: fc.integer({ min: 1, max: 40 }) }),
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { maxLength: 400 }), async (cmds) => {
        const lot = new ParkingLot<number>('test');
        const model: number[] = []; // ids of live waiters, oldest first
        const ctls = new Map<number, AbortController>();
        const got = new Map<number, number | 'cancelled'>();
        const expected = new Map<number, number | 'cancelled'>();
        let nextId = 0;
        let grant = 0;
        for (const c of cmds) {
          if (c.k === 'park') {
            const id = nextId++;
            const ctl = c.signal ? new AbortController() : undefined;
            if (ctl) ctls.set(id, ctl);
            lot.park(ctl?.signal, id).then(
              (v) => got.set(id, v),
              (e) => got.set(id, e instanceof CancelledError ? 'cancelled' : -1),
            );
            model.push(id);
          } else if (c.k === 'abort') {
            const live = model.filter((id) => ctls.has(id));
            if (live.length === 0) continue;
            const id = live[c.i % live.length]!;
            ctls.get(id)!.abort();
            ctls.delete(id);
            model.splice(model.indexOf(id), 1);
            expected.set(id, 'cancelled');
          } else {
            for (let k = 0; k < c.n; k++) {
              const id = model.shift();
              assert.equal(lot.headPayload(), id);
              const who = lot.unparkOne(grant);
              if (id === undefined) {
                assert.equal(who, NOBODY);
                break;
              }
              assert.equal(who, ctls.has(id) ? SIGNALED : PLAIN);
              ctls.delete(id);
              expected.set(id, grant++);
            }
          }
          assert.equal(lot.size, model.length);
          const l = layout(lot);
          assert.ok(
            l._gone <= Math.max(32, model.length) + 1,
            `tombstones ${l._gone} for ${model.length} live`,
          );
        }
        assert.equal(lot.unparkAll(-2), model.length);
        for (const id of model) expected.set(id, -2);
        await flush();
        assert.deepEqual(
          new Map([...got].sort((a, b) => a[0] - b[0])),
          new Map([...expected].sort((a, b) => a[0] - b[0])),
        );
      }),
      { seed: 20_261_202, numRuns: 200 },
    );
  });
});
