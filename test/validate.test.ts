// The checks of arguments (src/_validate.ts): one of each, shared by the core
// and the parts, each failing with a full sentence that names the bad value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Barrier, Semaphore } from '../src/index.ts';
import { ClientSession } from '../src/http/index.ts';
import { connect } from '../src/sqlite/index.ts';
import { createSyncFn } from '../src/executor/index.ts';
import { checkCount, checkLimit, checkSignal, checkSql, checkTimeout, describe } from '../src/_validate.ts';

const message = (re: RegExp) => (e: unknown) => e instanceof Error && re.test(e.message);

void test('describe names a bad value briefly', () => {
  assert.deepEqual(
    [describe('x'), describe(1.5), describe(null), describe(() => 1), describe([]), describe(new Map())],
    ['"x"', '1.5', 'null', 'a function', 'an array', 'an object (Map)'],
  );
});

void test('checkSignal takes an AbortSignal or nothing, and names its owner', () => {
  const { signal } = new AbortController();
  assert.equal(checkSignal(signal, 'f'), signal);
  assert.equal(checkSignal(undefined, 'f'), undefined);
  assert.throws(
    () => checkSignal('s', 'wait', new Semaphore(1)),
    (e: unknown) =>
      e instanceof TypeError && e.message === 'Semaphore.wait: signal must be an AbortSignal, received "s"',
  );
});

void test('checkCount: an integer of at least min; the message says which', () => {
  assert.equal(checkCount(0, 'f', 'n'), 0);
  assert.equal(checkCount(undefined, 'f', 'n', 1, 7), 7);
  assert.throws(() => checkCount(undefined, 'f', 'n'), RangeError);
  assert.throws(
    () => checkCount(-1, 'f', 'n'),
    message(/^f: n must be a non-negative integer, received -1$/),
  );
  assert.throws(
    () => checkCount(1.5, 'f', 'n', 1),
    message(/^f: n must be a positive integer, received 1\.5$/),
  );
  assert.throws(() => checkCount('3', 'f', 'n', 2), message(/^f: n must be an integer >= 2, received "3"$/));
});

void test('every count of the core and the parts goes through checkCount', () => {
  assert.throws(
    () => new Semaphore(-1),
    message(/^Semaphore: value must be a non-negative integer, received -1$/),
  );
  assert.throws(() => new Barrier(0), message(/^Barrier: parties must be a positive integer, received 0$/));
  assert.throws(
    () => new ClientSession({ limit: 0 }),
    message(/^ClientSession: limit must be a positive integer, received 0$/),
  );
  assert.throws(
    () => new ClientSession({ maxRedirects: 1.5 }),
    message(/^ClientSession: maxRedirects must be a non-negative integer, received 1\.5$/),
  );
});

void test('checkLimit: a positive integer or Infinity', () => {
  assert.equal(checkLimit(undefined, 'map', 'concurrency', 1), 1);
  assert.equal(checkLimit(Infinity, 'map', 'concurrency', 1), Infinity);
  assert.throws(
    () => checkLimit(0, 'map', 'concurrency', 1),
    message(/^map: concurrency must be a positive integer or Infinity, received 0$/),
  );
});

void test('checkTimeout: negative has expired, unless refused; a wrong type is a TypeError', () => {
  assert.equal(checkTimeout(-5, 'f'), -5);
  assert.equal(checkTimeout(Infinity, 'f'), null);
  assert.equal(checkTimeout(null, 'f', false), null);
  assert.throws(() => checkTimeout(NaN, 'f'), RangeError);
  assert.throws(
    () => checkTimeout(-5, 'f', false),
    message(/^f: the timeout must be a non-negative number of milliseconds or null, received -5$/),
  );
  assert.throws(() => checkTimeout('5', 'f'), TypeError);
  assert.throws(
    () => createSyncFn(() => 1, { timeout: -1 }),
    message(/^createSyncFn: the timeout must be a non-negative number of milliseconds or null, received -1$/),
  );
});

void test('checkSql: a string, non-empty unless allowed', async () => {
  assert.equal(checkSql('', 'f', true), '');
  assert.throws(
    () => checkSql('  ', 'f'),
    message(/^f: the query must be a non-empty string, received " {2}"$/),
  );
  assert.throws(() => checkSql(42, 'f', true), message(/^f: the query must be a string, received 42$/));
  await using db = await connect(':memory:');
  await assert.rejects(
    db.execute(42 as never),
    (e: unknown) => e instanceof TypeError && /the query must be a string, received 42/.test(e.message),
  );
  await db.executescript('');
});
