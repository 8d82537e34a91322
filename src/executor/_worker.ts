/**
 * Private: the program of a pool's worker, a thread (`ThreadPoolExecutor`)
 * or a child process (`ProcessPoolExecutor`). It runs the jobs it is sent,
 * one at a time as the pool sends them, and answers each with its result or
 * its error.
 *
 * @module
 */

import { isMainThread, parentPort } from 'node:worker_threads';
import { cancelJob, execute } from './_run.js';
import { wireError, type FromWorker, type ToWorker } from './_wire.js';

const send: (msg: FromWorker) => void = isMainThread
  ? (msg) => process.send!(msg)
  : (msg) => parentPort!.postMessage(msg);

async function run(msg: Extract<ToWorker, { t: 'run' }>): Promise<void> {
  let reply: FromWorker;
  try {
    reply = { t: 'done', id: msg.id, ok: true, value: await execute(msg.id, msg.job, msg.args, msg.chunk) };
  } catch (error) {
    reply = { t: 'done', id: msg.id, ok: false, error: wireError(error) };
  }
  try {
    send(reply);
  } catch (error) {
    // The result could not be cloned (a function, a class instance with private state ...).
    const why = new TypeError(
      `the job's result cannot be sent back from the worker: ${(error as Error).message}`,
    );
    send({ t: 'done', id: msg.id, ok: false, error: wireError(why) });
  }
}

function onMessage(msg: ToWorker): void {
  if (msg.t === 'run') void run(msg);
  else cancelJob(msg.id, msg.reason);
}

if (isMainThread) {
  process.on('message', onMessage);
  process.on('disconnect', () => process.exit(0)); // the pool is gone or shut down
} else {
  parentPort!.on('message', onMessage);
}
