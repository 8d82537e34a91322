/**
 * Private: the program of a sync function's worker thread. It runs each job
 * it is sent on its own event loop, posts the outcome on the port, then
 * wakes the blocked caller through the shared flag (`Atomics.notify`).
 *
 * @module
 */

import { workerData, type MessagePort } from 'node:worker_threads';
import { cancelJob, execute } from './_run.js';
import { wireError, type SyncCall as Call, type SyncOutcome as Outcome } from './_wire.js';

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };

function reply(outcome: Outcome): void {
  try {
    port.postMessage(outcome);
  } catch (error) {
    const why = new TypeError(
      `the job's result cannot be sent back from the worker: ${(error as Error).message}`,
    );
    port.postMessage({ id: outcome.id, ok: false, error: wireError(why) });
  }
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

async function run(call: Extract<Call, { t: 'run' }>): Promise<void> {
  try {
    reply({ id: call.id, ok: true, value: await execute(call.id, call.job, call.args, false) });
  } catch (error) {
    reply({ id: call.id, ok: false, error: wireError(error) });
  }
}

port.on('message', (call: Call) => {
  if (call.t === 'run') void run(call);
  else cancelJob(call.id, call.reason);
});
// The caller is blocked and cannot see the thread's exit event: say it here.
process.on('exit', (code) => reply({ id: -1, ok: false, error: wireError(new Error(`exit code ${code}`)) }));
reply({ id: 0, ok: true, value: 'ready' }); // the caller blocked in its first call counts its timeout from here
