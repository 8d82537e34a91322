// The one wait-queue under every primitive (src/_waitqueue.ts), tested
// directly: FIFO order across waiters with and without a signal, cancelled
// waiters leaving no trace, tombstones swept so a long-lived queue of
// cancelled waiters cannot grow without bound, and the array reused or let go;
// a waiter with a signal woken, then cancelled before it resumed, taking
// nothing (the owner's `giveBack` hands the grant on), and the owner's
// `resume` deciding the grant at resumption.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CancelledError } from '../src/index.ts';
import { NOBODY, PLAIN, ParkingLot, RETRY, SIGNALED } from '../src/_waitqueue.ts';
import { _hookCount } from '../src/_cancel.ts';
import { probe } from './_probes.ts';

/** Asserts `e` is an instance of `cls` (a message of its own: a failing `assert.ok` without one is slow to build). */
function assertIs(e: unknown, cls: abstract new (...args: never[]) => unknown): void {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
}

/** Lets every pending microtask run. */
const flush = () => new Promise((r) => setImmediate(r));

/** The private layout, read for the bounds checks. */
const layout = <T>(lot: ParkingLot<T>) =>
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

  void test('a waiter with a signal is settled the microtask after its wake; one without, at once', async () => {
    const lot = new ParkingLot<string>('test');
    const ctl = new AbortController();
    const signaled = probe(lot.park(ctl.signal));
    const plain = probe(lot.park(undefined));
    assert.equal(lot.unparkOne('s'), SIGNALED);
    assert.equal(lot.woken, 1, 'woken, not yet resumed');
    assert.equal(lot.size, 1);
    await Promise.resolve(); // one microtask
    assert.equal(lot.woken, 0, 'resumed');
    assert.equal(_hookCount(ctl.signal), 0, 'its hook goes once it resumed');
    assert.equal(lot.unparkOne('p'), PLAIN);
    await flush();
    assert.equal(signaled.value, 's');
    assert.equal(plain.value, 'p');
  });

  void test('woken, then aborted before it resumed: CancelledError, and giveBack gets the grant and the payload', async () => {
    const given: unknown[] = [];
    const lot = new ParkingLot<string>('test', {
      giveBack: (value, payload) => given.push([value, payload]),
    });
    const ctl = new AbortController();
    const w = probe(lot.park(ctl.signal, 'payload'));
    lot.unparkOne('grant');
    assert.equal(_hookCount(ctl.signal), 1, 'the hook stays until it resumes');
    ctl.abort('why');
    assert.deepEqual(given, [['grant', 'payload']], 'handed back at once');
    assert.equal(lot.woken, 0);
    await flush();
    assert.ok(w.reason instanceof CancelledError && w.reason.cause === 'why', w.describe());
    assert.equal(_hookCount(ctl.signal), 0);
  });

  void test('a broadcast (no giveBack): woken, then aborted before it resumed: CancelledError all the same', async () => {
    const lot = new ParkingLot<boolean>('test');
    const ctl = new AbortController();
    const w = probe(lot.park(ctl.signal));
    const other = probe(lot.park(new AbortController().signal));
    assert.equal(lot.unparkAll(true), 2);
    ctl.abort();
    await flush();
    assertIs(w.reason, CancelledError);
    assert.equal(other.value, true);
  });

  void test('rejected (rejectAll, rejectOne), then aborted before it resumed: CancelledError, not the error', async () => {
    const lot = new ParkingLot<void>('test');
    const a = new AbortController();
    const b = new AbortController();
    const wa = probe(lot.park(a.signal));
    const wb = probe(lot.park(b.signal));
    const wc = probe(lot.park(undefined));
    assert.equal(lot.rejectOne(new Error('one')), true);
    assert.equal(
      lot.rejectAll(() => new Error('all')),
      2,
    );
    assert.equal(lot.rejectOne(new Error('none')), false);
    a.abort();
    await flush();
    assert.ok(wa.reason instanceof CancelledError, wa.describe());
    assert.equal((wb.reason as Error).message, 'all');
    assert.equal((wc.reason as Error).message, 'all');
    assert.equal(_hookCount(b.signal), 0);
  });

  void test('resume decides what the wait resolves to; a throw rejects it', async () => {
    let fail = false;
    const lot = new ParkingLot<number>('test', {
      resume: (value, payload) => {
        if (fail) throw new Error('refused');
        return value * 10 + (payload as number);
      },
    });
    const w1 = probe(lot.park(new AbortController().signal, 1));
    const w2 = probe(lot.park(new AbortController().signal, 2));
    lot.unparkOne(4);
    await flush();
    fail = true;
    lot.unparkOne(5);
    await flush();
    assert.equal(w1.value, 41);
    assert.equal((w2.reason as Error).message, 'refused');
  });

  void test('resume returning RETRY parks the waiter again, first in line, its signal still linked', async () => {
    let retry = true;
    const lot = new ParkingLot<string>('test', { resume: (value) => (retry ? RETRY : value) });
    const ctl = new AbortController();
    const first = probe(lot.park(ctl.signal, 'first'));
    lot.unparkOne('x'); // the lot is empty now: its array starts again at 0 ...
    const others = ['b', 'c'].map((p) => probe(lot.park(undefined, p)));
    await flush(); // ... so there is no room before the head: the others move up
    assert.ok(first.pending, 'it waits again');
    assert.equal(lot.size, 3);
    assert.equal(lot.headPayload(), 'first');
    assert.equal(_hookCount(ctl.signal), 1);
    // Back at the head where the head slot is free.
    lot.unparkOne('y');
    const late = probe(lot.park(undefined, 'late'));
    await flush();
    assert.equal(lot.headPayload(), 'first');
    retry = false;
    assert.equal(lot.unparkAll('z'), 4);
    await flush();
    assert.equal(first.value, 'z');
    assert.deepEqual(
      [...others, late].map((o) => o.value),
      ['z', 'z', 'z'],
    );
    // Parked again, it can still be cancelled like any waiter.
    retry = true;
    const ctl2 = new AbortController();
    const again = probe(lot.park(ctl2.signal));
    lot.unparkOne('w');
    await flush();
    ctl2.abort();
    await flush();
    assertIs(again.reason, CancelledError);
    assert.equal(lot.size, 0);
  });

  void test('left runs when a waiter leaves on its signal before its wake', () => {
    let left = 0;
    const lot = new ParkingLot<void>('test', { left: () => left++ });
    const ctl = new AbortController();
    void lot.park(ctl.signal).catch(() => {});
    ctl.abort();
    assert.equal(left, 1);
    assert.equal(lot.size, 0);
  });

  void test('unparkPlain hands a grant only to a head without a signal', async () => {
    const lot = new ParkingLot<string>('test');
    assert.equal(lot.unparkPlain('x'), false, 'nobody waits');
    const ctl = new AbortController();
    const s = probe(lot.park(ctl.signal));
    const p = probe(lot.park(undefined));
    assert.equal(lot.unparkPlain('x'), false, 'the head has a signal');
    assert.equal(lot.size, 2);
    lot.unparkOne('a');
    assert.equal(lot.unparkPlain('b'), true);
    await flush();
    assert.deepEqual([s.value, p.value], ['a', 'b']);
  });
});
