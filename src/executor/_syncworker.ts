/**
 * Private: the program of a sync function's worker thread. It runs each job
 * it is sent on its own event loop, posts the outcome on the port, then
 * wakes the blocked caller through the shared flag (`Atomics.notify`).
 *
 * @module
 */

import { workerData, type MessagePort } from 'node:worker_threads';
import { cancelJob, execute } from './_run.js';
import { asCall, reasonOf, wireError, type SyncCall as Call, type SyncOutcome as Outcome } from './_wire.js';

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };

/**
 * Posts an outcome and wakes the caller. Never throws: an outcome that
 * cannot be sent is replaced by a `TypeError` that says so, and the caller
 * is woken whatever happens (it may be blocked on this answer).
 */
function reply(outcome: Outcome): void {
  try {
    port.postMessage(outcome);
  } catch (error) {
    const what = outcome.ok ? "the job's result" : 'what the job threw';
    const why = new TypeError(`${what} cannot be sent back from the worker: ${reasonOf(error)}`);
    try {
      port.postMessage({ id: outcome.id, ok: false, error: wireError(why) });
    } catch {
      // The port is closed: the caller is gone.
    }
  }
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

async function run(call: Extract<Call, { t: 'run' }>): Promise<void> {
  let outcome: Outcome;
  try {
    outcome = { id: call.id, ok: true, value: await execute(call.id, call.job, call.args, false) };
  } catch (error) {
    outcome = { id: call.id, ok: false, error: wireError(error) };
  }
  reply(outcome);
}

port.on('message', (msg: unknown) => {
  const call = asCall(msg); // anything the caller does not send (null, garbage) is ignored
  if (call?.t === 'run') void run(call);
  else if (call?.t === 'cancel') cancelJob(call.id, call.reason);
});
// The caller is blocked and cannot see the thread's exit event: say it here.
process.on('exit', (code) => reply({ id: -1, ok: false, error: wireError(new Error(`exit code ${code}`)) }));
reply({ id: 0, ok: true, value: 'ready' }); // the caller blocked in its first call counts its timeout from here
