// The asyncio oracle (oracle/asyncio/) on 50 programs of a fixed seed:
// CPython 3.13 and tsaio must print the same trace for each, unless the
// difference is one of the deliberate departures (oracle/asyncio/departures.ts).
// Skipped, with the reason, when no CPython 3.13 is found (TSAIO_PYTHON
// names one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPython } from '../oracle/python.ts';
import { classifyAll, compareAll } from '../oracle/asyncio/index.ts';
import { classify } from '../oracle/asyncio/departures.ts';
import { generate } from '../oracle/asyncio/generate.ts';
import { describe } from '../oracle/asyncio/describe.ts';
import { firstDifference } from '../oracle/asyncio/compare.ts';
import type { Program } from '../oracle/asyncio/ast.ts';

const SEED = 20_260_101;
const COUNT = 50;

const python = findPython();
const skip =
  python === null
    ? 'no Python 3.11+ found (set TSAIO_PYTHON to a CPython 3.13)'
    : !python.version.startsWith('3.13.')
      ? `the oracle's reference is CPython 3.13; found only ${python.version} (set TSAIO_PYTHON)`
      : false;

void test(
  `${COUNT} random asyncio programs print the same trace under CPython and tsaio (seed ${SEED})`,
  { skip },
  async () => {
    const programs = Array.from({ length: COUNT }, (_, i) => generate(SEED + i));
    const mismatches = await compareAll(python!, programs, 't');
    const found = programs.flatMap((program, i) => {
      const mismatch = mismatches[i];
      return mismatch ? [{ program, mismatch }] : [];
    });
    // A departure is told by its lines, or by the difference going away without what it is about.
    const kinds = await classifyAll(python!, found);
    const defects = found
      .filter((_, i) => kinds[i] === null)
      .map(
        ({ program, mismatch: m }) =>
          `seed ${program.seed}: python: ${m.python} / tsaio: ${m.tsaio}\n${describe(program)}`,
      );
    assert.deepEqual(defects, [], `${defects.length} programs differ:\n${defects.join('\n\n')}`);
    assert.equal(mismatches.length, COUNT);
  },
);

void test('a timeout(0) whose body never suspends differs by a deliberate departure', { skip }, async () => {
  const program: Program = {
    seed: 0,
    prims: { locks: [], sems: [], events: [], conds: [], barriers: [], queues: [] },
    horizon: 40,
    main: [
      { k: 'timeout', ms: 0, body: [{ k: 'probe', probe: { of: 'task', name: 't1' } }], propagate: false },
    ],
  };
  const [m] = await compareAll(python!, [program], 'd');
  assert.ok(m, 'the traces should differ');
  assert.match(m.python, /^\d+ main timeout ok false$/);
  assert.match(m.tsaio, /^\d+ main timeout ok true$/);
  assert.equal(classify(program, m), 'past-deadline-acts-at-once');
});

void test('a difference no departure explains is a defect', () => {
  const program = generate(1);
  const m = firstDifference(
    { status: 'ok', trace: ['0 main start', '3 t1 get Q0 10'] },
    { status: 'ok', trace: ['0 main start', '3 t1 get Q0 20'] },
  );
  assert.ok(m);
  assert.equal(m.index, 1);
  assert.equal(classify(program, m), null);
  // Lines of one instant compare by who printed them, each task's in its own order.
  assert.equal(
    firstDifference(
      { status: 'ok', trace: ['1 b x', '1 a y', '1 a z'] },
      { status: 'ok', trace: ['1 a y', '1 b x', '1 a z'] },
    ),
    null,
  );
});

void test(
  'the differences the 10,000-program run met are recognised as their departures (seeds 20264901, 20265715, 20265872)',
  { skip },
  async () => {
    // Two same-instant races of a value and a cancellation, and a group's child that CPython
    // lets go on until the cancellation reaches the group's exit (docs/fidelity.md).
    const expected: Array<[number, string]> = [
      [20_264_901, 'microtasks-are-not-loop-iterations'],
      [20_265_715, 'microtasks-are-not-loop-iterations'],
      [20_265_872, 'cancellation-reaches-every-linked-wait'],
    ];
    const programs = expected.map(([seed]) => generate(seed));
    const mismatches = await compareAll(python!, programs, 'k');
    const kinds = await classifyAll(
      python!,
      programs.map((program, i) => ({ program, mismatch: mismatches[i]! })),
    );
    assert.deepEqual(
      expected.map(([seed], i) => [seed, mismatches[i] === null ? 'no difference' : kinds[i]]),
      expected,
    );
  },
);
