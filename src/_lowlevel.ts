/**
 * Private: the core's machinery that the I/O parts (`http/`, `fs/`, `pg/`,
 * `sqlite/`, `executor/`, `nats/`) build on, after `trio.lowlevel` — the
 * cancel scope, the cancellation tree's links, the timer heap, the one
 * wait-queue, the checks of arguments, debug mode's hooks and the errors'
 * brand. Not exported from the package.
 *
 * The rule: a part imports the core's public files (`../exceptions.js`,
 * `../tasks.js`, `../locks.js`, ...) and, for anything private, this module
 * only — never a `_`-prefixed core file (`_cancel`, `_timers`, `_waitqueue`,
 * `_debug`, `_validate`, ...) directly. This file only re-exports.
 * `test/layout.test.ts` checks both, with the rest of the import graph.
 *
 * @module
 */

export { CancelScope, deadlineAfter } from './_cancelscope.js';
export { linkSignal, unlinkSignal, type Hook } from './_cancel.js';
export { addTimer, cancelTimer, now, type Bucket, type Runnable } from './_timers.js';
export { ParkingLot } from './_waitqueue.js';
export { checkCount, checkFunction, checkSignal, checkSql, checkTimeout, describe } from './_validate.js';
export { debugState, hooks } from './_debug.js';
export { warnBlockingCall } from './_diagnostics.js';
export { registerDefaultExecutor } from './_executor.js';
export { brand } from './_brand.js';
export { loadDriver, resolveDriver } from './_driver.js';
