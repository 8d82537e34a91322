/**
 * Private: starting a worker — a thread or a child process — behind one
 * small interface the pool drives (`Channel`).
 *
 * Threads start from a bootstrap evaluated as a script, which imports the
 * worker program (`_worker.js`, or the `.ts` source when tsaio itself runs
 * from source). On Node 20, module hooks registered with `module.register`
 * are not passed on to worker threads, so under tsx (`node --import tsx`)
 * a thread registers tsx's hooks itself before it loads TypeScript (tsaio's
 * own source, or a `.ts` job module), and only then: JavaScript jobs pay
 * nothing. Threads and child processes get the parent's flags that apply to
 * them (`workerExecArgv`), child processes less tsx's flags when tsaio's own
 * program is JavaScript: they too register tsx only for a `.ts` job.
 *
 * @module
 */

import type { TransferListItem } from 'node:worker_threads';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './_live.js';
import { startWorkerThread, workerExecArgv } from './execargv.js';
import type { FromWorker, ToWorker } from './_wire.js';

/** One worker, as the pool sees it. */
export interface Channel {
  /** Sends a message; throws if it cannot be cloned. */
  send(msg: ToWorker, transfer?: readonly TransferListItem[]): void;
  /** Keeps the process alive while a job runs (`ref`), not while idle (`unref`). */
  ref(): void;
  unref(): void;
  /** Ends the worker now; resolves once it has exited. */
  terminate(): Promise<void>;
}

/** What a channel reports to its pool. */
export interface ChannelEvents {
  message(msg: FromWorker): void;
  /** The worker exited; `error` is what it died of, when it said. */
  exit(how: string, error: unknown): void;
}

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The URL of a worker program next to this file (`_worker`, `_syncworker`). */
export function programUrl(name: string): string {
  return new URL(`./${name}${EXT}`, import.meta.url).href;
}

/** The indexes in `argv` of the flags (and their values) that load tsx. */
function tsxFlags(argv: readonly string[]): number[] {
  const at: number[] = [];
  argv.forEach((arg, i) => {
    if (!/^--(import|loader|experimental-loader)\b/.test(arg)) return;
    const inline = arg.includes('=');
    if (/^tsx(\/|$)/.test((inline ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1]) ?? '')) {
      at.push(i);
      if (!inline) at.push(i + 1);
    }
  });
  return at;
}

/** tsx's API module, when this process runs under tsx and it can be found; else null. */
function tsxApi(): string | null {
  if (tsxFlags(process.execArgv).length === 0) return null;
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return null;
  }
}

const TSX = tsxApi();

// A thread's bootstrap (a CommonJS script): register tsx's hooks first if the
// program itself is TypeScript (tsaio run from source), then import it. A
// TypeScript job module registers them when it is loaded (`_run.ts`).
const BOOT = `const { workerData: d } = require('node:worker_threads');
(d.tsx && d.program.endsWith('.ts') ? import(d.tsx).then((m) => { m.register(); d.tsxRegistered = true; }) : Promise.resolve())
  .then(() => import(d.program));`;

/** Starts a worker thread running `program` (a URL from `programUrl`). */
export function startThread(
  program: string,
  events: ChannelEvents,
  extra: { workerData?: Record<string, unknown>; transferList?: TransferListItem[] } = {},
): Channel {
  const worker = startWorkerThread(BOOT, {
    eval: true,
    workerData: { program, tsx: TSX, ...extra.workerData },
    transferList: extra.transferList,
  });
  const untrack = track(worker);
  let error: unknown;
  worker.on('message', (msg: FromWorker) => events.message(msg));
  worker.on('error', (e) => (error = e));
  worker.on('exit', (code) => {
    untrack();
    events.exit(`exit code ${code}`, error);
  });
  return {
    send: (msg, transfer) => worker.postMessage(msg, transfer),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: async () => {
      worker.ref(); // until the exit is seen
      await worker.terminate();
    },
  };
}

/** Starts a child process running the pool's worker program. */
export function startProcess(events: ChannelEvents): Channel {
  const program = programUrl('_worker');
  // A JavaScript program starts without tsx (a faster start); it registers tsx's hooks before a TypeScript job.
  const lazy = TSX !== null && !program.endsWith('.ts');
  const argv = workerExecArgv('process');
  const skip = new Set(lazy ? tsxFlags(argv) : []);
  const child: ChildProcess = fork(fileURLToPath(program), lazy ? [TSX] : [], {
    serialization: 'advanced',
    execArgv: argv.filter((_, i) => !skip.has(i)),
  });
  const untrack = track(child);
  let error: unknown;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      untrack();
      resolve();
      events.exit(signal !== null ? `signal ${signal}` : `exit code ${code}`, error);
    });
  });
  child.on('message', (msg: FromWorker) => events.message(msg));
  child.on('error', (e) => (error = e));
  return {
    send: (msg) => {
      child.send(msg);
    },
    ref: () => {
      child.ref();
      child.channel?.ref();
    },
    unref: () => {
      child.unref();
      child.channel?.unref();
    },
    terminate: async () => {
      child.ref(); // until the exit is seen
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
