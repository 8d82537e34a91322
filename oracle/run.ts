/**
 * `npm run oracle -- [--seed S] [--count N] [--only asyncio|files]`: runs N
 * random asyncio programs and N random file scenarios under CPython and under
 * tsaio and compares what they print. Exits 1 on a difference that is not a
 * deliberate departure (docs/fidelity.md lists those), 2 when no Python 3.11+
 * is found.
 *
 * @module
 */

import { parseArgs } from 'node:util';
import { findPython } from './python.js';
import type { OracleOptions, OracleReport } from './types.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string', default: '200' },
    only: { type: 'string' },
  },
});

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const count = Number(values.count);
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(count) || count < 0) {
  console.error('usage: npm run oracle -- [--seed S] [--count N] [--only asyncio|files]');
  process.exit(64);
}
const python = findPython();
if (python === null) {
  console.error('oracle: no Python 3.11+ found (set TSAIO_PYTHON, or install python3)');
  process.exit(2);
}
console.log(`oracle: seed ${seed}, count ${count}, Python ${python.version} (${python.command})`);

const oracles: Record<string, () => Promise<(o: OracleOptions) => Promise<OracleReport>>> = {
  asyncio: async () => (await import('./asyncio/index.js')).runAsyncioOracle,
  files: async () => (await import('./files/index.js')).runFilesOracle,
};
const names = values.only === undefined ? Object.keys(oracles) : [values.only];
let defects = 0;
for (const name of names) {
  const load = oracles[name];
  if (load === undefined) {
    console.error(`oracle: unknown --only ${name} (asyncio or files)`);
    process.exit(64);
  }
  const started = performance.now();
  const report = await (await load())({ seed, count, python, log: (line) => console.log(line) });
  const known = report.differences.filter((d) => d.departure !== null).length;
  const unknown = report.differences.length - known;
  defects += unknown;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `oracle ${report.name}: ${report.ran} ran in ${secs} s, ${unknown} differences, ${known} deliberate departures`,
  );
  for (const d of report.differences) {
    console.log(`\n--- seed ${d.seed}${d.departure === null ? '' : ` (departure: ${d.departure})`}`);
    console.log(d.program);
    console.log(`python: ${d.python}\ntsaio:  ${d.tsaio}`);
  }
}
process.exitCode = defects === 0 ? 0 : 1;
