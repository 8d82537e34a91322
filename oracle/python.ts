/**
 * Finds the CPython the oracle compares against: 3.13 (the contract's
 * reference) through pyenv or on PATH, else any Python 3.11+ it can use,
 * saying which.
 *
 * @module
 */

import { execFileSync } from 'node:child_process';

/** The interpreter found: a command and its version. */
export interface Python {
  command: string;
  env: NodeJS.ProcessEnv;
  version: string;
}

function version(command: string, env: NodeJS.ProcessEnv): string | null {
  try {
    return execFileSync(command, ['-c', 'import sys; print(sys.version.split()[0])'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/** CPython 3.13 if this machine has it, else the newest Python 3.11+ found; null if none. */
export function findPython(): Python | null {
  const home = process.env.HOME ?? '/root';
  const candidates: Array<[string, NodeJS.ProcessEnv]> = [
    [process.env.TSAIO_PYTHON ?? '', process.env],
    [`${home}/.pyenv/versions/3.13.0/bin/python3`, process.env],
    ['python3.13', process.env],
    ['python3', { ...process.env, PYENV_VERSION: '3.13.0' }],
    ['python3', process.env],
  ];
  let best: Python | null = null;
  for (const [command, env] of candidates) {
    if (command === '') continue;
    const v = version(command, env);
    if (v === null) continue;
    const [major, minor] = v.split('.').map(Number) as [number, number];
    if (major !== 3 || minor < 11) continue;
    if (minor === 13) return { command, env, version: v };
    if (best === null) best = { command, env, version: v };
  }
  return best;
}
