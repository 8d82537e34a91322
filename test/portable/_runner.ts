// A test runner small enough to run anywhere JavaScript does (Node, Deno,
// Bun, a browser): no node:test, no node:assert. The portable checks register
// with `test`; `runChecks` runs them one after another and returns what
// happened to each. test/runtimes.test.ts runs them in every runtime.

/** One registered check. */
export interface Check {
  readonly name: string;
  readonly fn: () => unknown;
}

/** What happened to one check. */
export interface Outcome {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

export const checks: Check[] = [];
let group = '';

/** Groups the checks `body` registers under `name`. */
export function describe(name: string, body: () => void): void {
  const outer = group;
  group = outer === '' ? name : `${outer} > ${name}`;
  try {
    body();
  } finally {
    group = outer;
  }
}

/** Registers a check. */
export function test(name: string, fn: () => unknown): void {
  checks.push({ name: group === '' ? name : `${group} > ${name}`, fn });
}

class AssertionError extends Error {
  override name = 'AssertionError';
}

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

type ErrorType = abstract new (...args: never[]) => unknown;

/** The assertions the checks use. */
export interface Assert {
  ok(value: unknown, message?: string): asserts value;
  equal<T>(actual: T, expected: T, message?: string): void;
  deepEqual(actual: unknown, expected: unknown, message?: string): void;
  throws(fn: () => unknown, type: ErrorType, test?: (e: any) => boolean): void;
  rejects(
    promise: PromiseLike<unknown> | (() => PromiseLike<unknown>),
    type: ErrorType,
    test?: (e: any) => boolean,
  ): Promise<void>;
}

export const assert: Assert = {
  ok(value: unknown, message = 'expected a truthy value'): asserts value {
    if (!value) throw new AssertionError(message);
  },
  equal<T>(actual: T, expected: T, message?: string): void {
    if (!Object.is(actual, expected)) {
      throw new AssertionError(message ?? `expected ${show(expected)}, got ${show(actual)}`);
    }
  },
  deepEqual(actual: unknown, expected: unknown, message?: string): void {
    if (show(actual) !== show(expected)) {
      throw new AssertionError(message ?? `expected ${show(expected)}, got ${show(actual)}`);
    }
  },
  /** `fn()` throws an instance of `type` (and `test` holds of it, if given). */
  throws(fn: () => unknown, type: ErrorType, test?: (e: any) => boolean): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof type)) throw new AssertionError(`expected a ${type.name}, got ${String(e)}`);
      if (test !== undefined && !test(e)) throw new AssertionError(`unexpected ${String(e)}`);
      return;
    }
    throw new AssertionError(`expected a ${type.name}, nothing was thrown`);
  },
  /** `promise` rejects with an instance of `type` (and `test` holds of it, if given). */
  async rejects(
    promise: PromiseLike<unknown> | (() => PromiseLike<unknown>),
    type: ErrorType,
    test?: (e: any) => boolean,
  ): Promise<void> {
    try {
      await (typeof promise === 'function' ? promise() : promise);
    } catch (e) {
      if (!(e instanceof type)) throw new AssertionError(`expected a ${type.name}, got ${String(e)}`);
      if (test !== undefined && !test(e)) throw new AssertionError(`unexpected ${String(e)}`);
      return;
    }
    throw new AssertionError(`expected a rejection with ${type.name}, it resolved`);
  },
};

/** Runs one check, failing it after `limit` ms. */
export async function runCheck(check: Check, limit = 10_000): Promise<Outcome> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${limit} ms`)), limit);
  });
  try {
    await Promise.race([Promise.resolve().then(check.fn), late]);
    return { name: check.name, ok: true, ms: performance.now() - start };
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
    return { name: check.name, ok: false, error, ms: performance.now() - start };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every registered check, one after another. */
export async function runChecks(): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const check of checks) outcomes.push(await runCheck(check));
  return outcomes;
}
