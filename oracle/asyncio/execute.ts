/**
 * Runs batches of programs: one Python process and one Node process per
 * batch, each running its programs one after another and printing one JSON
 * line per program. A program that hangs (no line for `stallMs` real ms) or
 * kills its process is recorded as such, and the batch goes on in a new
 * process from the next program.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Python } from '../python.js';
import type { Program } from './ast.js';
import { pythonBatch } from './python.js';
import { TS_HELPERS, emitTypeScript, tsImports } from './typescript.js';

/** What one side printed for one program. */
export interface Outcome {
  /** `ok`, `stuck` (nothing could run and nothing was scheduled), `hang`, or `crash ...`. */
  status: string;
  trace: string[];
}

/** The repository's root (this file is oracle/asyncio/execute.ts). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A program with the id its emitted function is named by (letters, digits, `_`). */
export interface Job {
  id: string;
  program: Program;
}

interface Command {
  command: string;
  args: (start: number) => string[];
  env?: NodeJS.ProcessEnv;
}

/** Runs `command` over `ids` in order, restarting after a hang or a crash. */
async function runAll(cmd: Command, ids: string[], stallMs: number): Promise<Map<string, Outcome>> {
  const results = new Map<string, Outcome>();
  let start = 0;
  while (start < ids.length) {
    const { next } = await runFrom(cmd, ids, start, stallMs, results);
    start = next;
  }
  return results;
}

function runFrom(
  cmd: Command,
  ids: string[],
  start: number,
  stallMs: number,
  results: Map<string, Outcome>,
): Promise<{ next: number }> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd.command, cmd.args(start), {
      cwd: ROOT,
      env: cmd.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let current: string | null = null;
    let buffer = '';
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    let finished = false;
    const arm = (): void => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => finish('hang'), stallMs);
    };
    const nextIndex = (): number => {
      // After the last program with a result, or after the one that hung or crashed.
      if (current !== null) return ids.indexOf(current) + 1;
      let last = start;
      for (let i = start; i < ids.length; i++) if (results.has(ids[i]!)) last = i + 1;
      return Math.max(last, start + 1);
    };
    const finish = (why: string): void => {
      if (finished) return;
      finished = true;
      if (timer !== null) clearTimeout(timer);
      if (current !== null && !results.has(current)) {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        results.set(current, { status: why === 'hang' ? 'hang' : `crash ${why} ${tail}`.trim(), trace: [] });
      }
      const next = nextIndex();
      child.kill('SIGKILL');
      // Every program from `start` was run, or the batch stopped before any: do not loop for ever.
      if (current === null && next <= start) {
        for (let i = start; i < ids.length; i++) {
          results.set(ids[i]!, { status: `crash ${why} ${stderr.trim().slice(-300)}`, trace: [] });
        }
        resolvePromise({ next: ids.length });
        return;
      }
      resolvePromise({ next });
    };
    arm();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        arm();
        let msg: { start?: string; id?: string; status?: string; trace?: string[] };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.start !== undefined) current = msg.start;
        else if (msg.id !== undefined) {
          results.set(msg.id, { status: msg.status ?? 'crash no status', trace: msg.trace ?? [] });
          current = null;
          if (results.size >= ids.length || msg.id === ids[ids.length - 1]) finish('done');
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      // Let the last lines of stdout arrive first.
      setImmediate(() => finish(current === null ? 'done' : `exit ${code ?? signal}`));
    });
  });
}

/** A fresh temporary directory, removed by the returned function. */
function scratch(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-oracle-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `jobs` under CPython. */
export async function runPython(
  python: Python,
  jobs: Job[],
  stallMs = 20_000,
): Promise<Map<string, Outcome>> {
  const { dir, remove } = scratch();
  try {
    const file = join(dir, 'batch.py');
    writeFileSync(file, pythonBatch(jobs));
    return await runAll(
      { command: python.command, args: (start) => [file, String(start)], env: pythonEnv(python) },
      jobs.map((j) => j.id),
      stallMs,
    );
  } finally {
    remove();
  }
}

function pythonEnv(python: Python): NodeJS.ProcessEnv {
  // Warnings and debug output go to stderr, which is not compared; keep them quiet and the run fast.
  const env: NodeJS.ProcessEnv = { ...python.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONWARNINGS: 'ignore' };
  delete env.PYTHONASYNCIODEBUG;
  return env;
}

/** The TypeScript module that runs `jobs` from the index given on its command line. */
export function tsBatch(jobs: Job[]): string {
  const parts = [tsImports(join(ROOT, 'src')), TS_HELPERS];
  for (const { id, program } of jobs) parts.push(emitTypeScript(program, id));
  parts.push(
    `const PROGRAMS: Array<[string, (out: string[]) => Promise<string>]> = [${jobs
      .map(({ id }) => `['${id}', prog_${id}]`)
      .join(', ')}];`,
  );
  parts.push(String.raw`
const first = Number(process.argv[2] ?? 0);
const write = (line: string): Promise<void> => new Promise((r) => process.stdout.write(line + '\n', () => r()));
for (let i = first; i < PROGRAMS.length; i++) {
  const [id, prog] = PROGRAMS[i]!;
  await write(JSON.stringify({ start: id }));
  const out: string[] = [];
  const status = await prog(out);
  await write(JSON.stringify({ id, status, trace: out }));
  // A stalled run was abandoned: go on in a fresh process.
  if (status !== 'ok') process.exit(0);
}
`);
  return parts.join('\n\n');
}

/** Runs `jobs` on tsaio, in a Node process (under tsx) of their own. */
export async function runTypeScript(jobs: Job[], stallMs = 20_000): Promise<Map<string, Outcome>> {
  const { dir, remove } = scratch();
  try {
    const file = join(dir, 'batch.mts');
    writeFileSync(file, tsBatch(jobs));
    return await runAll(
      { command: process.execPath, args: (start) => ['--import', 'tsx', file, String(start)] },
      jobs.map((j) => j.id),
      stallMs,
    );
  } finally {
    remove();
  }
}

/** Runs `jobs` on both sides at once. */
export async function runBoth(
  python: Python,
  jobs: Job[],
): Promise<{ python: Map<string, Outcome>; tsaio: Map<string, Outcome> }> {
  const [py, ts] = await Promise.all([runPython(python, jobs), runTypeScript(jobs)]);
  return { python: py, tsaio: ts };
}
