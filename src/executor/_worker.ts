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
import { asCall, reasonOf, wireError, type FromWorker, type ToWorker } from './_wire.js';

const send: (msg: FromWorker) => void = isMainThread
  ? (msg) => process.send!(msg)
  : (msg) => parentPort!.postMessage(msg);

/**
 * Sends a job's outcome; one that cannot be sent (a result, or an error's
 * value, that structured clone refuses) is replaced by a `TypeError` that
 * says so. Never throws: if even that cannot be sent, the channel is gone
 * and the pool sees the worker's exit.
 */
function reply(outcome: FromWorker): void {
  try {
    send(outcome);
  } catch (error) {
    const what = outcome.ok ? "the job's result" : 'what the job threw';
    const why = new TypeError(`${what} cannot be sent back from the worker: ${reasonOf(error)}`);
    try {
      send({ t: 'done', id: outcome.id, ok: false, error: wireError(why) });
    } catch {
      // The channel to the pool is closed.
    }
  }
}

async function run(msg: Extract<ToWorker, { t: 'run' }>): Promise<void> {
  let outcome: FromWorker;
  try {
    outcome = { t: 'done', id: msg.id, ok: true, value: await execute(msg.id, msg.job, msg.args, msg.chunk) };
  } catch (error) {
    outcome = { t: 'done', id: msg.id, ok: false, error: wireError(error) };
  }
  reply(outcome);
}

/** A message the pool sends; anything else (`null`, garbage) is ignored. */
function onMessage(msg: unknown): void {
  const call = asCall(msg);
  if (call?.t === 'run') void run(call);
  else if (call?.t === 'cancel') cancelJob(call.id, call.reason);
}

if (isMainThread) {
  process.on('message', onMessage);
  process.on('disconnect', () => process.exit(0)); // the pool is gone or shut down
} else {
  parentPort!.on('message', onMessage);
}
