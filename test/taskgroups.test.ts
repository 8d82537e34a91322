// Behaviour tests for `TaskGroup` and `taskGroup` (SPEC "Running and waiting";
// design.md "Combinators"). Ports the cases of CPython 3.13
// Lib/test/test_asyncio/test_taskgroups.py that apply.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  TaskGroup,
  taskGroup,
  sleep,
  createTask,
  currentTask,
  Future,
  CancelledError,
  InvalidStateError,
  ExceptionGroup,
  getRunningLoop,
} from '../src/index.ts';
import type { Task } from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

const LONG = 10_000;

class MyExc extends Error {}
class ZeroDivisionError extends Error {
  constructor() {
    super('division by zero');
  }
}
class ValueError extends Error {}

/** Asserts `e` is an ExceptionGroup (and an AggregateError) and returns its errors. */
function groupErrors(e: unknown): unknown[] {
  assert.ok(e instanceof ExceptionGroup, `expected an ExceptionGroup, got ${String(e)}`);
  assert.ok(e instanceof AggregateError);
  assert.ok(Array.isArray(e.errors));
  return e.errors;
}

/** The set of constructor names of the errors of an ExceptionGroup. */
function errorTypes(e: unknown): Set<string> {
  return new Set(groupErrors(e).map((x) => (x as object).constructor.name));
}

/** Settles without throwing; for awaiting a task we expect to fail. */
async function settle(p: PromiseLike<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    /* ignore */
  }
}

void describe('taskGroup(fn): waiting for children', () => {
  void test('waits for all children (test_taskgroup_01)', async () => {
    let t1!: Task<number>;
    let t2!: Task<number>;
    await taskGroup(async (tg) => {
      t1 = tg.createTask(async (signal) => {
        await sleep(10, undefined, { signal });
        return 42;
      });
      t2 = tg.createTask(async (signal) => {
        await sleep(20, undefined, { signal });
        return 11;
      });
    });
    assert.equal(t1.done(), true);
    assert.equal(t2.done(), true);
    assert.equal(t1.result(), 42);
    assert.equal(t2.result(), 11);
    await assertNoLeaks();
  });

  void test('children created after the body awaited something (test_taskgroup_02)', async () => {
    let t1!: Task<number>;
    let t2!: Task<number>;
    await taskGroup(async (tg, signal) => {
      t1 = tg.createTask(async () => {
        await sleep(10);
        return 42;
      });
      await sleep(15, undefined, { signal });
      t2 = tg.createTask(async () => {
        await sleep(20);
        return 11;
      });
    });
    assert.equal(t1.result(), 42);
    assert.equal(t2.result(), 11);
    await assertNoLeaks();
  });

  void test('returns the value of the body', async () => {
    const value = await taskGroup(async (tg) => {
      tg.createTask(async () => sleep(5));
      return 'body value';
    });
    assert.equal(value, 'body value');
    await assertNoLeaks();
  });

  void test('children that create more children are waited for (test_taskgroup_24)', async () => {
    const finished: number[] = [];
    await taskGroup(async (tg) => {
      tg.createTask(async () => {
        await sleep(10);
        tg.createTask(async () => {
          await sleep(10);
          finished.push(1);
        });
        tg.createTask(async () => {
          await sleep(20);
          finished.push(2);
        });
      });
    });
    assert.deepEqual(finished, [1, 2]);
    await assertNoLeaks();
  });

  void test('a child started with a name keeps it (test_taskgroup_task_name)', async () => {
    let seen: string | undefined;
    await taskGroup(async (tg) => {
      const t = tg.createTask(
        async () => {
          seen = currentTask()?.getName();
          await sleep(0);
        },
        { name: 'yolo' },
      );
      assert.equal(t.getName(), 'yolo');
    });
    assert.equal(seen, 'yolo');
    await assertNoLeaks();
  });

  void test('a child cancelled explicitly does not fail the group (test_taskgroup_03)', async () => {
    let t1!: Task<number>;
    let t2!: Task<number>;
    await taskGroup(async (tg, signal) => {
      t1 = tg.createTask(async (s) => {
        await sleep(LONG, undefined, { signal: s });
        return 42;
      });
      await sleep(15, undefined, { signal });
      t1.cancel();
      t2 = tg.createTask(async (s) => {
        await sleep(20, undefined, { signal: s });
        return 11;
      });
    });
    assert.ok(t1.cancelled());
    assert.equal(t2.result(), 11);
    await assertNoLeaks();
  });

  void test('a child that rejects with CancelledError on its own is not an error', async () => {
    let sibling!: Task<string>;
    await taskGroup(async (tg) => {
      tg.createTask(async () => {
        const f = new Future<void>();
        f.cancel();
        await f; // rejects with CancelledError: the child ends cancelled
      });
      sibling = tg.createTask(async (s) => {
        await sleep(20, undefined, { signal: s });
        return 'sibling ran to its end';
      });
    });
    assert.equal(sibling.result(), 'sibling ran to its end');
    await assertNoLeaks();
  });

  void test('an empty group finishes at once', async () => {
    await taskGroup(async () => {});
    await assertNoLeaks();
  });
});

void describe('taskGroup(fn): failures', () => {
  void test('the first failure cancels siblings; ExceptionGroup of the error (test_taskgroup_04)', async () => {
    let num = 0;
    let t2Cancel = false;
    let t2SignalAborted: boolean | undefined;
    let t2!: Task<void>;
    const err = await rejection(
      createTask(async () => {
        await taskGroup(async (tg) => {
          tg.createTask(async (s) => {
            await sleep(10, undefined, { signal: s });
            throw new ZeroDivisionError();
          });
          t2 = tg.createTask(async (s) => {
            try {
              await sleep(LONG, undefined, { signal: s });
            } catch (e) {
              if (e instanceof CancelledError) t2Cancel = true;
              t2SignalAborted = s.aborted;
              throw e;
            }
            num += 1;
          });
        });
        num += 10;
      }),
    );
    assert.deepEqual(errorTypes(err), new Set(['ZeroDivisionError']));
    assert.equal(groupErrors(err).length, 1);
    assert.equal(num, 0);
    assert.ok(t2Cancel);
    assert.equal(t2SignalAborted, true);
    assert.ok(t2.cancelled());
    await assertNoLeaks();
  });

  void test("a child failure aborts the body's signal too (test_cancel_children_on_child_error)", async () => {
    let num = 0;
    let t2Cancel = false;
    let runnerCancel = false;
    const err = await rejection(
      createTask(async () => {
        await taskGroup(async (tg, signal) => {
          for (let i = 0; i < 3; i++)
            tg.createTask(async (s) => {
              await sleep(10, undefined, { signal: s });
              throw new ZeroDivisionError();
            });
          tg.createTask(async (s) => {
            try {
              await sleep(5000, undefined, { signal: s });
            } catch (e) {
              t2Cancel = true;
              throw e;
            }
            num += 1;
          });
          try {
            await sleep(LONG, undefined, { signal });
          } catch (e) {
            runnerCancel = e instanceof CancelledError;
            throw e;
          }
        });
        num += 10;
      }),
    );
    // The three failing children may race; each error that happened is listed.
    assert.deepEqual(errorTypes(err), new Set(['ZeroDivisionError']));
    const n = groupErrors(err).length;
    assert.ok(n >= 1 && n <= 3, `${n} errors`);
    assert.equal(num, 0);
    assert.ok(t2Cancel);
    assert.ok(runnerCancel, 'the body saw CancelledError from its signal');
    await assertNoLeaks();
  });

  void test('every non-cancellation error is collected, in the group error', async () => {
    const a = new Error('a');
    const b = new RangeError('b');
    const err = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          throw a;
        });
        tg.createTask(async () => {
          throw b;
        });
        tg.createTask(async (s) => sleep(LONG, undefined, { signal: s }));
      }),
    );
    const errors = groupErrors(err);
    assert.equal(errors.length, 2);
    assert.ok(errors.includes(a));
    assert.ok(errors.includes(b));
    assert.equal(
      errors.some((e) => e instanceof CancelledError),
      false,
      'cancellations are not errors',
    );
    await assertNoLeaks();
  });

  void test('a child that fails during its cancellation is collected too', async () => {
    const late = new MyExc('cleanup failed');
    const err = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async (s) => {
          await sleep(5, undefined, { signal: s });
          throw new ZeroDivisionError();
        });
        tg.createTask(async (s) => {
          try {
            await sleep(LONG, undefined, { signal: s });
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw late;
          }
        });
      }),
    );
    assert.deepEqual(errorTypes(err), new Set(['ZeroDivisionError', 'MyExc']));
    await assertNoLeaks();
  });

  void test('the group waits for cancelled children to finish their cleanup', async () => {
    let cleaned = false;
    const err = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          throw new ValueError('v');
        });
        tg.createTask(async (s) => {
          try {
            await sleep(LONG, undefined, { signal: s });
          } finally {
            await sleep(20);
            cleaned = true;
          }
        });
      }),
    );
    groupErrors(err);
    assert.equal(cleaned, true, 'the group settled before a child finished its cleanup');
    await assertNoLeaks();
  });

  void test('an error thrown by the body after a while is included, children cancelled (test_taskgroup_09)', async () => {
    let t1!: Task<number>;
    let t2!: Task<number>;
    const err = await rejection(
      taskGroup(async (tg, signal) => {
        t1 = tg.createTask(async (s) => {
          await sleep(1000, undefined, { signal: s });
          return 42;
        });
        t2 = tg.createTask(async (s) => {
          await sleep(2000, undefined, { signal: s });
          return 11;
        });
        await sleep(10, undefined, { signal });
        throw new ZeroDivisionError();
      }),
    );
    assert.deepEqual(errorTypes(err), new Set(['ZeroDivisionError']));
    assert.ok(t1.cancelled());
    assert.ok(t2.cancelled());
    await assertNoLeaks();
  });

  void test('an error thrown by the body at once is included, children cancelled (test_taskgroup_10)', async () => {
    let t1!: Task<number>;
    let t2!: Task<number>;
    const boom = new ZeroDivisionError();
    const err = await rejection(
      taskGroup(async (tg) => {
        t1 = tg.createTask(async (s) => {
          await sleep(1000, undefined, { signal: s });
          return 42;
        });
        t2 = tg.createTask(async (s) => {
          await sleep(2000, undefined, { signal: s });
          return 11;
        });
        throw boom;
      }),
    );
    assert.deepEqual(groupErrors(err), [boom]);
    assert.ok(t1.cancelled());
    assert.ok(t2.cancelled());
    await assertNoLeaks();
  });

  void test('a body error and a child error are both included (test_taskgroup_19)', async () => {
    const err = await rejection(
      taskGroup(async (tg, signal) => {
        tg.createTask(async (s) => {
          await sleep(10, undefined, { signal: s });
          throw new ZeroDivisionError();
        });
        try {
          await sleep(LONG, undefined, { signal });
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new MyExc();
        }
      }),
    );
    assert.deepEqual(errorTypes(err), new Set(['MyExc', 'ZeroDivisionError']));
    await assertNoLeaks();
  });

  void test('a failure does not leak a cancellation into the enclosing task (test_cancelling_level_preserved, …does_not_leak_out_of_tg)', async () => {
    const task: Task<string> = createTask(async (signal) => {
      const err = await rejection(
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            await sleep(0);
            throw new Error('runtime');
          });
        }),
      );
      groupErrors(err);
      assert.equal(task.cancelling(), 0);
      assert.equal(signal.aborted, false);
      await sleep(0, undefined, { signal }); // not cancelled here
      await sleep(5, undefined, { signal });
      return 'still running';
    });
    assert.equal(await task, 'still running');
    assert.equal(task.cancelled(), false);
    await assertNoLeaks();
  });

  void test('a failing child cancels a sibling it created while it was starting (test_cancels_task_if_created_during_creation)', async () => {
    let ran = false;
    const myError = new MyExc('third task failed');
    const err = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async (s) => {
          tg.createTask(async () => {
            throw myError;
          });
          await assert.rejects(async () => {
            await sleep(0, undefined, { signal: s });
            await sleep(0, undefined, { signal: s });
          }, CancelledError);
          ran = true;
        });
      }),
    );
    assert.ok(ran);
    assert.deepEqual(groupErrors(err), [myError]);
    await assertNoLeaks();
  });

  void test('many children failing at once: every error is listed', async () => {
    const err = await rejection(
      taskGroup(async (tg) => {
        for (let i = 0; i < 20; i++)
          tg.createTask(async () => {
            throw new ValueError(String(i));
          });
      }),
    );
    // All 20 start in the same turn (before any can be cancelled) and all fail.
    assert.equal(groupErrors(err).length, 20);
    await assertNoLeaks();
  });

  void test('hydras keep spawning until hercules fails (test_taskgroup_25)', async () => {
    let nhydras = 0;
    const err = await rejection(
      taskGroup(async (tg) => {
        const hydra = async (s: AbortSignal): Promise<void> => {
          nhydras++;
          await sleep(10, undefined, { signal: s });
          tg.createTask(hydra);
          tg.createTask(hydra);
        };
        tg.createTask(hydra);
        tg.createTask(async (s) => {
          while (nhydras < 10) await sleep(15, undefined, { signal: s });
          throw new ZeroDivisionError();
        });
      }),
    );
    assert.deepEqual(errorTypes(err), new Set(['ZeroDivisionError']));
    assert.ok(nhydras >= 10);
    await assertNoLeaks();
  });
});

void describe('taskGroup(fn): outer cancellation', () => {
  void test('cancelling the enclosing task cancels every child; CancelledError carries the message (test_cancellation)', async () => {
    let num = 0;
    const r = createTask(async (signal) =>
      taskGroup(
        async (tg) => {
          for (let i = 0; i < 5; i++)
            tg.createTask(async (s) => {
              try {
                await sleep(5000, undefined, { signal: s });
              } catch (e) {
                num++;
                throw e;
              }
            });
        },
        { signal },
      ),
    );
    await sleep(20);
    assert.equal(r.done(), false);
    r.cancel('test');
    const err = await rejection(r);
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal((err as Error).message, 'test');
    assert.equal(num, 5);
    assert.ok(r.cancelled());
    await assertNoLeaks();
  });

  void test('an outer signal abort gives CancelledError and cancels the children and the body (test_taskgroup_07)', async () => {
    let num = 0;
    const children: Task<void>[] = [];
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const err = await rejection(
      taskGroup(
        async (tg, signal) => {
          for (let i = 0; i < 5; i++)
            children.push(
              tg.createTask(async (s) => {
                try {
                  await sleep(5000, undefined, { signal: s });
                } catch (e) {
                  num++;
                  throw e;
                }
              }),
            );
          try {
            await sleep(LONG, undefined, { signal });
          } catch (e) {
            num += 10;
            throw e;
          }
        },
        { signal: ac.signal },
      ),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(err instanceof ExceptionGroup, false);
    assert.equal(num, 15);
    for (const c of children) assert.ok(c.cancelled());
    await assertNoLeaks();
  });

  void test('cancelled while only the body waits (test_taskgroup_17)', async () => {
    let num = 0;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const err = await rejection(
      taskGroup(
        async (_tg, signal) => {
          try {
            await sleep(LONG, undefined, { signal });
          } catch (e) {
            num += 10;
            throw e;
          }
        },
        { signal: ac.signal },
      ),
    );
    assert.ok(err instanceof CancelledError);
    assert.equal(num, 10);
    await assertNoLeaks();
  });

  void test('cancelled while the body cleans up slowly, before a child would have failed (test_taskgroup_15) (virtual time)', async () => {
    await runVirtual(async () => {
      const loop = getRunningLoop();
      const start = loop.time();
      const ac = new AbortController();
      loop.callLater(10, () => ac.abort()); // on the loop's clock: a Node setTimeout would not follow it
      let childErr: unknown;
      const err = await rejection(
        taskGroup(
          async (tg, signal) => {
            tg.createTask(async (s) => {
              try {
                await sleep(60, undefined, { signal: s });
              } catch (e) {
                childErr = e;
                throw e;
              }
              throw new ZeroDivisionError();
            });
            try {
              await sleep(LONG, undefined, { signal });
            } catch (e) {
              await sleep(100);
              throw e;
            }
          },
          { signal: ac.signal },
        ),
      );
      assert.ok(err instanceof CancelledError, `got ${String(err)}`);
      assert.ok(childErr instanceof CancelledError, `the child's sleep got ${String(childErr)}`);
      assert.equal(loop.time() - start, 110, 'the group settled when the body finished cleaning up');
    });
    await assertNoLeaks();
  });

  void test('the body raising a real error after the outer cancellation is reported (test_taskgroup_18)', async () => {
    let num = 0;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const err = await rejection(
      taskGroup(
        async (_tg, signal) => {
          try {
            await sleep(LONG, undefined, { signal });
          } catch {
            num += 10;
            throw new MyExc(); // not a good idea, but supported
          }
        },
        { signal: ac.signal },
      ),
    );
    assert.deepEqual(errorTypes(err), new Set(['MyExc']));
    assert.equal(num, 10);
    await assertNoLeaks();
  });

  void test('cancelled while children run, no body wait (test_taskgroup_22)', async () => {
    const r = createTask(async (signal) =>
      taskGroup(
        async (tg) => {
          tg.createTask(async (s) => {
            await sleep(1000, undefined, { signal: s });
            return 42;
          });
          tg.createTask(async (s) => {
            await sleep(2000, undefined, { signal: s });
            return 11;
          });
        },
        { signal },
      ),
    );
    await sleep(10);
    r.cancel();
    const err = await rejection(r);
    assert.ok(err instanceof CancelledError);
    await assertNoLeaks();
  });

  void test('an outer signal already aborted: CancelledError, no child runs', async () => {
    const ac = new AbortController();
    ac.abort();
    let childRan = false;
    const err = await rejection(
      taskGroup(
        async (tg) => {
          tg.createTask(async () => {
            childRan = true;
          });
        },
        { signal: ac.signal },
      ),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(childRan, false);
    await assertNoLeaks();
  });

  void test('an outer abort while the body is busy, then createTask: still CancelledError, the new child never runs', async () => {
    const ac = new AbortController();
    let childRan = false;
    let createErr: unknown;
    const err = await rejection(
      taskGroup(
        async (tg) => {
          ac.abort(); // the outer cancels while the body is still running
          await sleep(5); // not given the signal: runs to its end
          try {
            tg.createTask(async () => {
              childRan = true;
            });
          } catch (e) {
            createErr = e;
            throw e;
          }
        },
        { signal: ac.signal },
      ),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)} (createTask threw ${String(createErr)})`);
    assert.equal(childRan, false);
    await assertNoLeaks();
  });
});

void describe('taskGroup(fn): nested groups', () => {
  void test('outer cancellation reaches an inner group (test_taskgroup_11)', async () => {
    const r = createTask(async (signal) =>
      taskGroup(
        async (_g1, s1) =>
          taskGroup(
            async (g2, s2) => {
              for (let i = 0; i < 5; i++)
                g2.createTask(async (s) => {
                  await sleep(1000, undefined, { signal: s });
                  throw new ZeroDivisionError();
                });
              await sleep(LONG, undefined, { signal: s2 });
            },
            { signal: s1 },
          ),
        { signal },
      ),
    );
    await sleep(20);
    assert.equal(r.done(), false);
    r.cancel();
    const err = await rejection(r);
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('outer cancellation with a sibling child of the inner group (test_taskgroup_12)', async () => {
    const r = createTask(async (signal) =>
      taskGroup(
        async (g1, s1) => {
          g1.createTask(async (s) => sleep(LONG, undefined, { signal: s }));
          await taskGroup(
            async (g2, s2) => {
              for (let i = 0; i < 5; i++)
                g2.createTask(async (s) => {
                  await sleep(1000, undefined, { signal: s });
                  throw new ZeroDivisionError();
                });
              await sleep(LONG, undefined, { signal: s2 });
            },
            { signal: s1 },
          );
        },
        { signal },
      ),
    );
    await sleep(20);
    assert.equal(r.done(), false);
    r.cancel();
    const err = await rejection(r);
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('an outer child failing cancels the inner group; only the real error is reported (test_taskgroup_13)', async () => {
    let innerErr: unknown;
    const err = await rejection(
      taskGroup(async (g1, s1) => {
        g1.createTask(async (s) => {
          await sleep(10, undefined, { signal: s });
          throw new ValueError('10ms');
        });
        try {
          await taskGroup(
            async (g2) => {
              g2.createTask(async (s) => {
                await sleep(LONG, undefined, { signal: s });
                throw new ValueError('10s');
              });
            },
            { signal: s1 },
          );
        } catch (e) {
          innerErr = e;
          throw e;
        }
      }),
    );
    assert.ok(innerErr instanceof CancelledError, `inner group gave ${String(innerErr)}`);
    assert.deepEqual(errorTypes(err), new Set(['ValueError']));
    assert.equal((groupErrors(err)[0] as Error).message, '10ms');
    await assertNoLeaks();
  });

  void test('an inner child failing: the outer group reports the inner ExceptionGroup (test_taskgroup_14)', async () => {
    let outerChild!: Task<void>;
    const err = await rejection(
      taskGroup(async (g1, s1) => {
        outerChild = g1.createTask(async (s) => {
          await sleep(LONG, undefined, { signal: s });
          throw new ValueError('10s');
        });
        await taskGroup(
          async (g2) => {
            g2.createTask(async (s) => {
              await sleep(10, undefined, { signal: s });
              throw new ValueError('10ms');
            });
          },
          { signal: s1 },
        );
      }),
    );
    const errors = groupErrors(err);
    assert.equal(errors.length, 1);
    assert.deepEqual(errorTypes(errors[0]), new Set(['ValueError']));
    assert.ok(outerChild.cancelled());
    await assertNoLeaks();
  });

  void test('a group inside a child of another group', async () => {
    const order: string[] = [];
    await taskGroup(async (outer) => {
      outer.createTask(async (s) => {
        await taskGroup(
          async (inner) => {
            inner.createTask(async () => {
              await sleep(10);
              order.push('inner child');
            });
          },
          { signal: s },
        );
        order.push('outer child');
      });
    });
    assert.deepEqual(order, ['inner child', 'outer child']);
    await assertNoLeaks();
  });
});

void describe('taskGroup(fn): creating tasks in the wrong state', () => {
  void test('creating a task in a finished group throws InvalidStateError and never runs it', async () => {
    let saved: TaskGroup | undefined;
    await taskGroup(async (tg) => {
      saved = tg;
    });
    let ran = false;
    assert.throws(
      () =>
        saved!.createTask(async () => {
          ran = true;
        }),
      InvalidStateError,
    );
    await sleep(1);
    assert.equal(ran, false);
    await assertNoLeaks();
  });

  void test('creating a task in a group that is shutting down after a failure throws (test_taskgroup_no_create_task_after_failure)', async () => {
    let thrown: unknown;
    const err = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async (s) => {
          await sleep(1, undefined, { signal: s });
          throw new ZeroDivisionError();
        });
        tg.createTask(async (s) => {
          try {
            await sleep(1000, undefined, { signal: s });
          } catch {
            try {
              tg.createTask(async () => {
                throw new ZeroDivisionError();
              });
            } catch (e) {
              thrown = e;
            }
          }
        });
      }),
    );
    assert.ok(thrown instanceof InvalidStateError, `createTask gave ${String(thrown)}`);
    assert.deepEqual(errorTypes(err), new Set(['ZeroDivisionError']));
    assert.equal(groupErrors(err).length, 1);
    await assertNoLeaks();
  });
});

void describe('taskGroup: bad input, foreign cancellations', () => {
  void test('a non-function body is a TypeError; so is a non-function child body', async () => {
    await assert.rejects(async () => taskGroup(42 as never), TypeError);
    await taskGroup(async (tg) => {
      assert.throws(() => tg.createTask('nope' as never), TypeError);
    });
    await assertNoLeaks();
  });

  void test('a child cancelled through a foreign API (AbortError) is not an error', async () => {
    const { setTimeout: nodeSleep } = await import('node:timers/promises');
    const boom = new ValueError('real');
    const err = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async (s) => nodeSleep(LONG, undefined, { signal: s }));
        tg.createTask(async () => {
          await sleep(5);
          throw boom;
        });
      }),
    );
    assert.deepEqual(groupErrors(err), [boom]);
    await assertNoLeaks();
  });
});

void describe('await using tg = new TaskGroup()', () => {
  void test('waits for all children when the block ends', async () => {
    let t1!: Task<number>;
    let t2!: Task<number>;
    {
      await using tg = new TaskGroup();
      t1 = tg.createTask(async (s) => {
        await sleep(10, undefined, { signal: s });
        return 42;
      });
      t2 = tg.createTask(async (s) => {
        await sleep(20, undefined, { signal: s });
        return 11;
      });
      assert.equal(t1.done(), false);
    }
    assert.equal(t1.result(), 42);
    assert.equal(t2.result(), 11);
    await assertNoLeaks();
  });

  void test('a child failure cancels the siblings and the block exit throws an ExceptionGroup', async () => {
    let sibling!: Task<void>;
    let siblingAborted: boolean | undefined;
    const boom = new ZeroDivisionError();
    const err = await rejection(
      (async () => {
        await using tg = new TaskGroup();
        tg.createTask(async (s) => {
          await sleep(10, undefined, { signal: s });
          throw boom;
        });
        sibling = tg.createTask(async (s) => {
          try {
            await sleep(LONG, undefined, { signal: s });
          } finally {
            siblingAborted = s.aborted;
          }
        });
      })(),
    );
    assert.deepEqual(groupErrors(err), [boom]);
    assert.ok(sibling.cancelled());
    assert.equal(siblingAborted, true);
    await assertNoLeaks();
  });

  void test('cancelled children are not errors', async () => {
    {
      await using tg = new TaskGroup();
      const t = tg.createTask(async (s) => sleep(LONG, undefined, { signal: s }));
      tg.createTask(async () => sleep(5));
      t.cancel();
    }
    await assertNoLeaks();
  });

  void test('an error thrown by the block propagates once the children are done', async () => {
    const boom = new MyExc('block');
    let child!: Task<string>;
    const err = await rejection(
      (async () => {
        await using tg = new TaskGroup();
        child = tg.createTask(async (s) => {
          await sleep(10, undefined, { signal: s });
          return 'child';
        });
        throw boom;
      })(),
    );
    assert.equal(err, boom);
    assert.ok(child.done(), 'the group settled before its child');
    await assertNoLeaks();
  });

  void test('tg.signal aborts when a child fails', async () => {
    let aborted: boolean | undefined;
    const err = await rejection(
      (async () => {
        await using tg = new TaskGroup();
        tg.createTask(async () => {
          await sleep(5);
          throw new ValueError('x');
        });
        await sleep(30);
        aborted = tg.signal.aborted;
      })(),
    );
    groupErrors(err);
    assert.equal(aborted, true);
    await assertNoLeaks();
  });

  void test('new TaskGroup({ signal }): an outer abort cancels the children and the exit throws CancelledError', async () => {
    const ac = new AbortController();
    let child!: Task<void>;
    const err = await rejection(
      (async () => {
        await using tg = new TaskGroup({ signal: ac.signal });
        child = tg.createTask(async (s) => sleep(LONG, undefined, { signal: s }));
        setTimeout(() => ac.abort(), 10);
      })(),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.ok(child.cancelled());
    await assertNoLeaks();
  });

  void test('creating a task in a finished group throws InvalidStateError', async () => {
    let saved: TaskGroup | undefined;
    {
      await using tg = new TaskGroup();
      saved = tg;
      tg.createTask(async () => sleep(1));
    }
    let ran = false;
    assert.throws(
      () =>
        saved!.createTask(async () => {
          ran = true;
        }),
      InvalidStateError,
    );
    await sleep(1);
    assert.equal(ran, false);
    await assertNoLeaks();
  });

  void test('nested using groups: the inner failure is reported by the outer group', async () => {
    const boom = new ValueError('inner');
    let outerChild!: Task<void>;
    const err = await rejection(
      (async () => {
        await using outer = new TaskGroup();
        outerChild = outer.createTask(async (s) => sleep(30, undefined, { signal: s }));
        {
          await using inner = new TaskGroup();
          inner.createTask(async () => {
            throw boom;
          });
        }
      })(),
    );
    // The inner group's ExceptionGroup propagates through the outer block;
    // the outer disposer cannot see it, so the outer child runs to its end.
    assert.ok(err instanceof ExceptionGroup, `got ${String(err)}`);
    assert.deepEqual(groupErrors(err), [boom]);
    assert.ok(outerChild.done());
    await assertNoLeaks();
  });

  void test('a group used inside a task: failures do not cancel the task itself', async () => {
    const t = createTask(async (signal) => {
      const err = await rejection(
        (async () => {
          await using tg = new TaskGroup();
          tg.createTask(async () => {
            throw new ValueError('x');
          });
        })(),
      );
      groupErrors(err);
      await sleep(1, undefined, { signal });
      return 'ok';
    });
    assert.equal(await t, 'ok');
    await settle(t);
    await assertNoLeaks();
  });
});
