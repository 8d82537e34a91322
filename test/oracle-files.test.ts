// The files oracle (oracle/files/) as a test: 50 random file scenarios with a
// fixed seed, run by CPython's open() and by tsaio/fs, must give the same
// results, bar the deliberate departures (oracle/files/departures.ts).
// Skipped, saying why, when no Python 3.11+ is found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPython } from '../oracle/python.ts';
import { runFilesOracle } from '../oracle/files/index.ts';

const python = findPython();

void test(
  'files oracle: 50 scenarios (seed 20240601) agree with CPython',
  {
    skip: python === null ? 'no Python 3.11+ found (set TSAIO_PYTHON to run the files oracle)' : false,
    timeout: 300_000,
  },
  async () => {
    const lines: string[] = [];
    const report = await runFilesOracle({
      seed: 20240601,
      count: 50,
      python: python!,
      log: (l) => lines.push(l),
    });
    assert.equal(report.ran, 50);
    const defects = report.differences.filter((d) => d.departure === null);
    assert.deepEqual(
      defects.map((d) => `seed ${d.seed}\n${d.program}\npython: ${d.python}\ntsaio:  ${d.tsaio}`),
      [],
      lines.join('\n'),
    );
  },
);
