/**
 * The small language of the asyncio oracle's programs. A program declares
 * its primitives and a `main` body; tasks are defined where they are
 * spawned. Every name (task, primitive, callback label) is static, so both
 * emitted programs print the same names without reading any runtime name.
 *
 * Times are integers: milliseconds in tsaio, and the same integers as
 * seconds on the Python side's virtual clock (exact arithmetic, no floats).
 *
 * @module
 */

/** The user error classes a program can raise. */
export const ERROR_CLASSES = ['ErrA', 'ErrB', 'ErrC'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** A coroutine with a static name: a spawned task, a group child or an inline awaitable. */
export interface TaskDef {
  name: string;
  body: Stmt[];
  /** What the task does when its body raises `CancelledError`: log and re-raise, or log and return. */
  onCancel: 'raise' | 'swallow';
}

/**
 * What a combinator waits for: a task spawned earlier in the same body, or
 * a coroutine defined on the spot. `asBody` (TypeScript only): pass the body
 * and let the combinator make the task, instead of a task made beforehand
 * and registered under its name.
 */
export type Item = { ref: string } | { def: TaskDef; asBody: boolean };

/** After logging a failure that is not a cancellation: re-raise it (true) or go on (false). */
export interface Guarded {
  propagate: boolean;
}

export type QueueKind = 'fifo' | 'prio' | 'lifo';
export type ReturnWhen = 'ALL_COMPLETED' | 'FIRST_COMPLETED' | 'FIRST_EXCEPTION';

/** A primitive that can be held with `async with` (a lock, a semaphore, a condition's lock). */
export type HoldKind = 'lock' | 'sem' | 'bsem' | 'cond';

/** Something a `probe` prints: a state that both sides define the same way. */
export type Probe =
  | { of: 'task'; name: string }
  | { of: 'queue'; name: string }
  | { of: 'lock'; name: string } // locked() of a Lock, a Semaphore or a Condition
  | { of: 'event'; name: string }
  | { of: 'barrier'; name: string };

/** A statement that never waits: allowed in `callSoon`/`callLater` callbacks too. */
export type SyncStmt =
  | { k: 'probe'; probe: Probe }
  | { k: 'cancel'; target: string; msg: string | null }
  | { k: 'release'; prim: string }
  | { k: 'evSet'; ev: string }
  | { k: 'evClear'; ev: string }
  | { k: 'barrierAbort'; b: string }
  | { k: 'barrierReset'; b: string }
  | { k: 'putNowait'; q: string; item: number }
  | { k: 'getNowait'; q: string }
  | { k: 'taskDone'; q: string }
  | { k: 'shutdown'; q: string; immediate: boolean };

export type Stmt =
  | SyncStmt
  | { k: 'sleep'; ms: number }
  | { k: 'raise'; cls: ErrorClass; msg: string }
  | { k: 'spawn'; def: TaskDef }
  | ({ k: 'await'; target: string } & Guarded)
  | ({ k: 'gather'; items: Item[]; returnExceptions: boolean } & Guarded)
  | ({ k: 'wait'; items: Item[]; returnWhen: ReturnWhen; timeout: number | null } & Guarded)
  | ({ k: 'waitFor'; item: Item; timeout: number | null } & Guarded)
  | ({ k: 'shield'; item: Item } & Guarded)
  | ({ k: 'timeout'; ms: number | null; body: Stmt[] } & Guarded)
  | { k: 'reschedule'; delta: number | null }
  | ({ k: 'taskGroup'; body: Stmt[] } & Guarded)
  | { k: 'tgSpawn'; def: TaskDef }
  | ({ k: 'hold'; prim: string; form: 'run' | 'acquire'; body: Stmt[] } & Guarded)
  | ({ k: 'evWait'; ev: string } & Guarded)
  | ({ k: 'condWait'; cond: string } & Guarded)
  | ({ k: 'condWaitFor'; cond: string; atLeast: number } & Guarded)
  | ({ k: 'condNotify'; cond: string; n: number | 'all'; bump: boolean } & Guarded)
  | ({ k: 'barrierWait'; b: string } & Guarded)
  | ({ k: 'put'; q: string; item: number } & Guarded)
  | ({ k: 'get'; q: string } & Guarded)
  | ({ k: 'join'; q: string } & Guarded)
  | { k: 'callSoon'; label: string; action: SyncStmt[] }
  | { k: 'callLater'; ms: number; label: string; action: SyncStmt[] };

/** The primitives a program declares, by name. */
export interface Prims {
  locks: string[];
  sems: Array<{ name: string; value: number; bounded: boolean }>;
  events: string[];
  conds: string[];
  barriers: Array<{ name: string; parties: number }>;
  queues: Array<{ name: string; kind: QueueKind; maxsize: number }>;
}

/** One program: primitives, then `main`'s body, run under a timeout of `horizon`. */
export interface Program {
  seed: number;
  prims: Prims;
  main: Stmt[];
  horizon: number;
}

/** The kind of a primitive, by name (names start with the kind's letter). */
export function holdKind(prims: Prims, name: string): HoldKind {
  if (prims.locks.includes(name)) return 'lock';
  if (prims.conds.includes(name)) return 'cond';
  const sem = prims.sems.find((s) => s.name === name);
  if (sem !== undefined) return sem.bounded ? 'bsem' : 'sem';
  throw new Error(`oracle: ${name} is not a primitive that can be held`);
}
