/**
 * Walks over a program's statements: the task definitions and callbacks to
 * hoist, and the nested bodies of a statement.
 *
 * @module
 */

import type { Item, Stmt, SyncStmt, TaskDef } from './ast.js';

/** The task definitions a statement introduces (spawned, group children, inline items). */
export function defsOf(s: Stmt): TaskDef[] {
  const fromItems = (items: Item[]): TaskDef[] => items.flatMap((it) => ('def' in it ? [it.def] : []));
  switch (s.k) {
    case 'spawn':
    case 'tgSpawn':
      return [s.def];
    case 'gather':
    case 'wait':
      return fromItems(s.items);
    case 'waitFor':
    case 'shield':
      return fromItems([s.item]);
    default:
      return [];
  }
}

/** The bodies nested directly in a statement (not inside task definitions). */
export function bodiesOf(s: Stmt): Stmt[][] {
  switch (s.k) {
    case 'timeout':
    case 'taskGroup':
    case 'hold':
      return [s.body];
    default:
      return [];
  }
}

/** Every task definition in `stmts`, at any depth, outermost first. */
export function collectDefs(stmts: Stmt[]): TaskDef[] {
  const out: TaskDef[] = [];
  const visit = (body: Stmt[]): void => {
    for (const s of body) {
      for (const def of defsOf(s)) {
        out.push(def);
        visit(def.body);
      }
      for (const b of bodiesOf(s)) visit(b);
    }
  };
  visit(stmts);
  return out;
}

/** Every `callSoon`/`callLater` in `stmts`, at any depth. */
export function collectCallbacks(stmts: Stmt[]): Array<{ label: string; action: SyncStmt[] }> {
  const out: Array<{ label: string; action: SyncStmt[] }> = [];
  const visit = (body: Stmt[]): void => {
    for (const s of body) {
      if (s.k === 'callSoon' || s.k === 'callLater') out.push({ label: s.label, action: s.action });
      for (const def of defsOf(s)) visit(def.body);
      for (const b of bodiesOf(s)) visit(b);
    }
  };
  visit(stmts);
  return out;
}

/** How many statements a body holds, at any depth (the shrinker's measure). */
export function size(stmts: Stmt[]): number {
  let n = 0;
  for (const s of stmts) {
    n++;
    for (const def of defsOf(s)) n += size(def.body);
    for (const b of bodiesOf(s)) n += size(b);
    if (s.k === 'callSoon' || s.k === 'callLater') n += s.action.length;
  }
  return n;
}

/**
 * The phases of a program. Each actor that a timer wakes (a task, a timeout
 * of any kind, a `callLater` callback, the horizon) has a phase of its own,
 * `0 .. count-1`: every timer it sets is due at a time congruent to its
 * phase modulo `count`. So no two actors are ever woken by timers at the
 * same instant, and what happens at one instant is one actor's doing and
 * the immediate reactions of those it woke. (Two tasks resumed at one
 * instant interleave differently in the two runtimes: CPython runs a task
 * until it suspends, tsaio until its next `await`, suspending or not. The
 * contract leaves that order unspecified; the programs do not depend on it.)
 */
export interface Phases {
  count: number;
  of: Map<object, number>;
}

/** The keys of main's phase and of the horizon's in `Phases.of`. */
export const MAIN_KEY = Object.freeze({ key: 'main' });
export const HORIZON_KEY = Object.freeze({ key: 'horizon' });

/** The phases of `main`'s statements; main's own is 0, the horizon's 1. */
export function assignPhases(main: Stmt[], mainKey: object, horizonKey: object): Phases {
  const of = new Map<object, number>();
  let next = 0;
  of.set(mainKey, next++);
  of.set(horizonKey, next++);
  const visit = (body: Stmt[]): void => {
    for (const s of body) {
      if (s.k === 'timeout' || s.k === 'callLater') of.set(s, next++);
      else if ((s.k === 'waitFor' || s.k === 'wait') && s.timeout !== null && s.timeout > 0)
        of.set(s, next++);
      for (const def of defsOf(s)) {
        of.set(def, next++);
        visit(def.body);
      }
      for (const b of bodiesOf(s)) visit(b);
    }
  };
  visit(main);
  return { count: next, of };
}

/** Whether a statement never waits (it runs within the current step of its task). */
export function isSync(s: Stmt): boolean {
  // A raise counts as a wait: a task group whose body fails at once cancels the children it
  // has just made before they start in CPython, after their first step in tsaio (a rejection
  // is seen a microtask later); so a raise always comes after a suspension.
  switch (s.k) {
    case 'probe':
    case 'cancel':
    case 'release':
    case 'evSet':
    case 'evClear':
    case 'putNowait':
    case 'getNowait':
    case 'taskDone':
    case 'shutdown':
    case 'spawn':
    case 'tgSpawn':
    case 'reschedule':
    case 'callSoon':
    case 'callLater':
      return true;
    default:
      return false;
  }
}

/**
 * Where phase sleeps go in a body: before each statement that waits (unless
 * a sleep comes just before it) and before the first of a run of statements
 * that do not wait when the task may be off its phase (after a wait, at the
 * start of a body, after a `callSoon`). An explicit `sleep` is itself a
 * phase sleep. Returns, for each statement, whether a phase sleep of 0 goes
 * before it; `start` says whether the body starts on its phase.
 */
export function phaseSleeps(body: Stmt[], start: { onPhase: boolean; justSlept: boolean }): boolean[] {
  let { onPhase, justSlept } = start;
  const out: boolean[] = [];
  for (const s of body) {
    if (s.k === 'sleep' && s.ms > 0) {
      out.push(false);
      onPhase = true;
      justSlept = true;
      continue;
    }
    if (isSync(s)) {
      out.push(!onPhase);
      onPhase = s.k !== 'callSoon';
      justSlept = false;
      continue;
    }
    out.push(!justSlept);
    onPhase = false;
    justSlept = false;
  }
  return out;
}
