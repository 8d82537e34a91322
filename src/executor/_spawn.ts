/**
 * Private: starting a worker — a thread or a child process — behind one
 * small interface the pool drives (`Channel`).
 *
 * Threads start from a bootstrap evaluated as a script, which imports the
 * worker program (`_worker.js`, or the `.ts` source when tsaio itself runs
 * from source). On Node 20, module hooks registered with `module.register`
 * are not passed on to worker threads, so under tsx (`node --import tsx`)
 * the bootstrap registers tsx's hooks in the thread first: TypeScript job
 * modules then load there as they do in the main thread. Child processes
 * get the parent's `execArgv`, which `--import tsx` already covers.
 *
 * @module
 */

import type { TransferListItem } from 'node:worker_threads';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { track } from './_live.js';
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

/** tsx's API module, when this process runs under tsx and it can be found; else null. */
function tsxApi(): string | null {
  const argv = process.execArgv;
  const loaded = argv.some((arg, i) => {
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
    return /^--(import|loader|experimental-loader)\b/.test(arg) && /^tsx(\/|$)/.test(value ?? '');
  });
  if (!loaded) return null;
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return null;
  }
}

const TSX = tsxApi();

// A thread's bootstrap (a CommonJS script): register tsx's hooks if asked, then import the program.
const BOOT = `const { workerData: d } = require('node:worker_threads');
(d.tsx ? import(d.tsx).then((m) => m.register()) : Promise.resolve()).then(() => import(d.program));`;

/** Starts a worker thread running `program` (a URL from `programUrl`). */
export function startThread(
  program: string,
  events: ChannelEvents,
  extra: { workerData?: Record<string, unknown>; transferList?: TransferListItem[] } = {},
): Channel & { worker: Worker } {
  const worker = new Worker(BOOT, {
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
    worker,
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
  const child: ChildProcess = fork(fileURLToPath(programUrl('_worker')), [], { serialization: 'advanced' });
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
