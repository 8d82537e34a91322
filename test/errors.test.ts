// Every error class of the core and of every part: `name` is the class name,
// `code` a non-empty string that does not change, and `instanceof` holds
// across two copies of tsaio (the core's `Symbol.for` brand, as undici's
// errors). The two copies are the built modules (dist/, `npm run build`)
// loaded twice: once plainly, once under another URL (`?copy=2`), which
// Node's loader treats as another module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type ErrorClass = new (...args: any[]) => Error & { code?: unknown };

/** The modules that define error classes: the core's, then each part's. */
const MODULES = [
  'exceptions',
  'http/errors',
  'fs/errors',
  'executor/errors',
  'pg/errors',
  'sqlite/errors',
  'nats/errors',
];

/** Arguments for the classes whose constructor needs more than a message. */
const ARGS: Record<string, unknown[]> = {
  'exceptions.ExceptionGroup': ['m', [new Error('a')]],
  'http/errors.ClientConnectionError': ['m', 'http://h/'],
  'http/errors.ClientResponseError': [404, 'http://h/', new Headers()],
  'executor/errors.BrokenExecutorError': ['m', 'job()'],
  'nats/errors.NoServerError': ['m', ['127.0.0.1:1']],
  'nats/errors.ConnectionLostError': ['m', 'id-1'],
  'nats/errors.RemoteError': ['m', 'job', 'worker-1'],
};
/** pg and sqlite errors carry the code they were given: the SQLSTATE, SQLite's result code. */
const OWN_CODE: Record<string, string> = { 'pg/errors': '22000', 'sqlite/errors': 'SQLITE_ERROR' };

/** The code of each class that has one of its own; changing one breaks users' `switch (e.code)`. */
const CODES: Record<string, string> = {
  'exceptions.CancelledError': 'TSAIO_ERR_CANCELLED',
  'exceptions.TimeoutError': 'TSAIO_ERR_TIMEOUT',
  'exceptions.InvalidStateError': 'TSAIO_ERR_INVALID_STATE',
  'exceptions.ExceptionGroup': 'TSAIO_ERR_EXCEPTION_GROUP',
  'exceptions.QueueEmpty': 'TSAIO_ERR_QUEUE_EMPTY',
  'exceptions.QueueFull': 'TSAIO_ERR_QUEUE_FULL',
  'exceptions.QueueShutDown': 'TSAIO_ERR_QUEUE_SHUT_DOWN',
  'exceptions.BrokenBarrierError': 'TSAIO_ERR_BROKEN_BARRIER',
  'http/errors.ClientError': 'TSAIO_HTTP_ERR',
  'http/errors.ClientConnectionError': 'TSAIO_HTTP_ERR_CONNECTION',
  'http/errors.ClientResponseError': 'TSAIO_HTTP_ERR_RESPONSE',
  'http/errors.ResponseTooLargeError': 'TSAIO_HTTP_ERR_RESPONSE_TOO_LARGE',
  'fs/errors.UnsupportedOperation': 'TSAIO_ERR_UNSUPPORTED_OPERATION',
  'executor/errors.BrokenExecutorError': 'TSAIO_ERR_BROKEN_EXECUTOR',
  'nats/errors.NatsError': 'TSAIO_NATS_ERR',
  'nats/errors.NoServerError': 'TSAIO_NATS_ERR_NO_SERVER',
  'nats/errors.ConnectionLostError': 'TSAIO_NATS_ERR_CONNECTION_LOST',
  'nats/errors.CodecError': 'TSAIO_NATS_ERR_CODEC',
  'nats/errors.RemoteError': 'TSAIO_NATS_ERR_REMOTE',
};

interface Entry {
  /** `pg/errors.DataError` */
  id: string;
  module: string;
  one: ErrorClass;
  two: ErrorClass;
  make(cls: ErrorClass): Error & { code?: unknown };
}

const dist = new URL('../dist/', import.meta.url);

async function load(): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const module of MODULES) {
    const url = new URL(`${module}.js`, dist);
    assert.ok(existsSync(fileURLToPath(url)), `${module}.js is not built: run \`npm run build\` first`);
    const one = (await import(url.href)) as Record<string, unknown>;
    const two = (await import(`${url.href}?copy=2`)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(one)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
      const id = `${module}.${name}`;
      const args = ARGS[id] ?? (module in OWN_CODE ? ['m', OWN_CODE[module]] : ['m']);
      entries.push({
        id,
        module,
        one: value as ErrorClass,
        two: two[name] as ErrorClass,
        make: (cls) => new cls(...args),
      });
    }
  }
  return entries;
}

const entries = await load();

void test('every part is covered and the two copies are distinct classes', () => {
  for (const module of MODULES) {
    assert.ok(
      entries.some((e) => e.module === module),
      `no error class found in ${module}`,
    );
  }
  assert.ok(entries.length >= 50, `only ${entries.length} error classes found`);
  for (const e of entries) {
    assert.equal(typeof e.two, 'function', `${e.id} is missing from the second copy`);
    assert.notEqual(e.one, e.two, `${e.id}: the second copy is the same class; the test would prove nothing`);
  }
});

void test('instanceof holds across the two copies, both ways, for every class and its ancestors', () => {
  for (const e of entries) {
    const [a, b] = [e.make(e.one), e.make(e.two)];
    assert.ok(b instanceof e.one, `${e.id}: an error of copy 2 is not an instance of copy 1's class`);
    assert.ok(a instanceof e.two, `${e.id}: an error of copy 1 is not an instance of copy 2's class`);
    for (const other of entries) {
      const ancestor = other.one === e.one || e.one.prototype instanceof other.one;
      assert.equal(
        b instanceof other.one,
        ancestor,
        `${e.id} (copy 2) instanceof ${other.id} (copy 1) should be ${ancestor}`,
      );
    }
  }
});

void test('name is the class name; code is a non-empty string', () => {
  for (const e of entries) {
    const error = e.make(e.one);
    assert.equal(error.name, e.one.name, `${e.id}: name`);
    assert.equal(e.two.name, e.one.name);
    assert.ok(String(error).startsWith(e.one.name), `${e.id}: String(e) = ${String(error)}`);
    assert.equal(typeof error.code, 'string', `${e.id}: code`);
    assert.notEqual(error.code, '', `${e.id}: code`);
  }
});

void test('the codes are stable and each class has its own; pg and sqlite errors keep the code they carry', () => {
  for (const e of entries) {
    const code = e.make(e.one).code;
    if (e.module in OWN_CODE) {
      assert.equal(code, OWN_CODE[e.module], `${e.id}: the code given (a SQLSTATE, a SQLite code)`);
    } else {
      assert.equal(code, CODES[e.id], `${e.id}: code`);
    }
  }
  const codes = Object.values(CODES);
  assert.equal(new Set(codes).size, codes.length, 'two classes share a code');
});

void test('classes of the same name in two parts stay apart (pg DataError, sqlite DataError)', async () => {
  const pg = (await import(new URL('pg/errors.js', dist).href)) as Record<string, ErrorClass>;
  const sqlite = (await import(new URL('sqlite/errors.js?copy=2', dist).href)) as Record<string, ErrorClass>;
  const [pgData, sqliteData] = [new pg.DataError!('m', '22000'), new sqlite.DataError!('m', 'SQLITE_TOOBIG')];
  assert.equal(pgData instanceof sqlite.DataError!, false);
  assert.equal(sqliteData instanceof pg.DataError!, false);
});

void test('a subclass of a branded class keeps the ordinary instanceof', () => {
  for (const e of entries) {
    const Sub = class extends e.one {};
    const error = e.make(Sub);
    assert.ok(error instanceof Sub && error instanceof e.one && error instanceof e.two, e.id);
    assert.equal(e.make(e.one) instanceof Sub, false, e.id);
  }
});
