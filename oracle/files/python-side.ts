/**
 * The CPython side of the files oracle: one `driver.py` process runs a whole
 * batch of jobs (one JSON line each on its stdin, one JSON line of results
 * each on its stdout).
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Python } from '../python.js';
import type { Job } from './scenario.js';

const DRIVER = fileURLToPath(new URL('./driver.py', import.meta.url));

/** Runs `jobs` under `python`; resolves to each job's result lines, in order. */
export function runPython(python: Python, jobs: Job[]): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(python.command, ['-S', DRIVER], {
      env: python.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = Buffer.concat(out).toString('utf8').split('\n').filter(Boolean);
      if (code !== 0 || lines.length !== jobs.length) {
        reject(
          new Error(`driver.py exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(-2000)}`),
        );
        return;
      }
      resolve(lines.map((l) => JSON.parse(l) as string[]));
    });
    child.stdin.on('error', () => {}); // a driver that died early is reported by 'close'
    child.stdin.end(jobs.map((j) => JSON.stringify(j)).join('\n') + '\n');
  });
}
