// Behaviour tests for the error classes (SPEC "Errors", design.md "Errors").
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tsaio from '../src/index.ts';
import { CancelledError, TimeoutError, InvalidStateError, ExceptionGroup } from '../src/index.ts';

type ErrorClass = new (...args: any[]) => Error;

/** The core error classes, with the arguments to build one. */
const core: Array<[string, ErrorClass, unknown[]]> = [
  ['CancelledError', CancelledError, ['msg']],
  ['TimeoutError', TimeoutError, ['msg']],
  ['InvalidStateError', InvalidStateError, ['msg']],
  ['ExceptionGroup', ExceptionGroup, ['msg', [new Error('a'), new Error('b')]]],
];

/** The other public error classes of the contract (queues, barriers); they may live outside the core files. */
const others = ['QueueEmpty', 'QueueFull', 'QueueShutDown', 'BrokenBarrierError'];

function makeOther(name: string): Error {
  const cls = (tsaio as Record<string, unknown>)[name] as ErrorClass;
  return new cls('msg');
}

void describe('error classes', () => {
  for (const [name, cls, args] of core) {
    void describe(name, () => {
      void test('is exported, and name equals the class name', () => {
        assert.equal(typeof cls, 'function');
        assert.equal(cls.name, name);
        const e = new cls(...args);
        assert.equal(e.name, name);
        assert.equal(String(e).startsWith(name), true, `String(e) = ${String(e)}`);
      });

      void test('instanceof works for the class and for Error', () => {
        const e = new cls(...args);
        assert.ok(e instanceof cls);
        assert.ok(e instanceof Error);
        assert.ok(Object.prototype.toString.call(e) === '[object Error]');
      });

      void test('has a stable string code, the same for every instance', () => {
        const a = new cls(...args) as Error & { code?: unknown };
        const b = new cls(...args) as Error & { code?: unknown };
        assert.equal(typeof a.code, 'string');
        assert.ok((a.code as string).length > 0);
        assert.equal(a.code, b.code);
        assert.match(a.code as string, /^[A-Z0-9_]+$/);
      });

      void test('keeps the message, carries a stack and accepts a cause', () => {
        const cause = new Error('root');
        const e =
          name === 'ExceptionGroup'
            ? new ExceptionGroup('msg', [new Error('x')], { cause })
            : new cls('msg', { cause });
        assert.match(e.message, /msg/);
        assert.equal(e.cause, cause);
        assert.equal(typeof e.stack, 'string');
      });

      void test('a subclass keeps instanceof', () => {
        const Sub = class extends (cls as ErrorClass) {};
        Object.defineProperty(Sub, 'name', { value: 'Sub' + name });
        const s = new Sub(...args);
        assert.ok(s instanceof cls);
        assert.ok(s instanceof Sub);
        assert.ok(s instanceof Error);
      });
    });
  }

  void test('codes are all different', () => {
    const codes = core.map(([, cls, args]) => (new cls(...args) as Error & { code: string }).code);
    assert.equal(new Set(codes).size, codes.length, `codes: ${codes.join(', ')}`);
  });

  void test('the design codes: CancelledError is TSAIO_ERR_CANCELLED', () => {
    assert.equal((new CancelledError() as CancelledError & { code: string }).code, 'TSAIO_ERR_CANCELLED');
  });

  void test('CancelledError is not a TimeoutError and vice versa', () => {
    const c = new CancelledError('c');
    const t = new TimeoutError('t');
    assert.equal(c instanceof TimeoutError, false);
    assert.equal(t instanceof CancelledError, false);
    assert.equal(c instanceof InvalidStateError, false);
    assert.equal(t instanceof InvalidStateError, false);
    assert.equal(new InvalidStateError() instanceof CancelledError, false);
    assert.equal(new ExceptionGroup('g', []) instanceof CancelledError, false);
  });

  void test('tsaio TimeoutError is not the DOM AbortError and plain errors are not tsaio errors', () => {
    const plain = new Error('x');
    assert.equal(plain instanceof CancelledError, false);
    assert.equal(plain instanceof TimeoutError, false);
    assert.equal(plain instanceof InvalidStateError, false);
    assert.equal(plain instanceof ExceptionGroup, false);
    const abort = new DOMException('aborted', 'AbortError');
    assert.equal(abort instanceof TimeoutError, false);
    // Non-objects never match.
    assert.equal((null as unknown) instanceof CancelledError, false);
    assert.equal(('CancelledError' as unknown) instanceof CancelledError, false);
  });

  void test('default construction works without arguments', () => {
    for (const cls of [CancelledError, TimeoutError, InvalidStateError]) {
      const e = new cls();
      assert.equal(typeof e.message, 'string');
      assert.equal(e.name, cls.name);
    }
  });

  void test('cancel(msg) message: CancelledError keeps the message it was given', () => {
    assert.equal(new CancelledError('stop now').message, 'stop now');
  });

  void describe('ExceptionGroup', () => {
    void test('extends AggregateError with .errors in order', () => {
      const a = new Error('a');
      const b = new RangeError('b');
      const g = new ExceptionGroup('two failures', [a, b]);
      assert.ok(g instanceof AggregateError);
      assert.ok(g instanceof Error);
      assert.ok(Array.isArray(g.errors));
      assert.deepEqual(g.errors, [a, b]);
      assert.equal(g.errors[0], a);
      assert.equal(g.errors[1], b);
      assert.match(g.message, /two failures/);
    });

    void test('accepts any iterable of errors', () => {
      const a = new Error('a');
      const g = new ExceptionGroup('m', new Set([a]));
      assert.deepEqual(g.errors, [a]);
    });

    void test('can nest', () => {
      const inner = new ExceptionGroup('inner', [new Error('x')]);
      const outer = new ExceptionGroup('outer', [inner]);
      assert.ok(outer.errors[0] instanceof ExceptionGroup);
      assert.ok(outer.errors[0] instanceof AggregateError);
    });

    void test('an AggregateError is not an ExceptionGroup', () => {
      assert.equal(new AggregateError([]) instanceof ExceptionGroup, false);
    });
  });

  void describe('the other public errors (queues, barriers)', () => {
    for (const name of others) {
      const present = typeof (tsaio as Record<string, unknown>)[name] === 'function';
      void test(
        `${name}: name, code, instanceof`,
        { skip: present ? false : `${name} is not exported (yet)` },
        () => {
          const cls = (tsaio as Record<string, unknown>)[name] as ErrorClass;
          const e = makeOther(name) as Error & { code?: unknown };
          assert.equal(e.name, name);
          assert.ok(e instanceof cls);
          assert.ok(e instanceof Error);
          assert.equal(typeof e.code, 'string');
          assert.equal(e instanceof CancelledError, false);
          assert.equal(e instanceof TimeoutError, false);
        },
      );
    }
  });
});
