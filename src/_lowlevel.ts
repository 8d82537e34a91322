/**
 * Private: the core's machinery that the I/O parts (`http/`, `fs/`, `pg/`,
 * `sqlite/`, `executor/`, `nats/`) build on, after `trio.lowlevel`. A part
 * imports the core's private files through this module only, never
 * `_cancel`, `_timers`, `_waitqueue` or `_debug` directly
 * (`test/layout.test.ts` checks it). Not exported from the package.
 *
 * @module
 */

export { CancelScope, deadlineAfter } from './_cancelscope.js';
export { linkSignal, unlinkSignal, type Hook } from './_cancel.js';
export { addTimer, cancelTimer, now, type Bucket, type Runnable } from './_timers.js';
export { ParkingLot, resumeCheck } from './_waitqueue.js';
export { checkCount, checkFunction, checkSignal, checkSql, checkTimeout, describe } from './_validate.js';
export { debugState, hooks } from './_debug.js';
export { warnBlockingCall } from './_diagnostics.js';
export { registerDefaultExecutor } from './_executor.js';
