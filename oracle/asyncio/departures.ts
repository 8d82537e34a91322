/**
 * The deliberate departures of tsaio from CPython's asyncio that the oracle
 * can meet: each names where the contract (`/work/shared/SPEC.md`, "the
 * contract") or `docs/design.md` says tsaio does it differently on purpose,
 * and recognises the difference it makes from the program and the first
 * differing lines. A difference that none of them recognises is a defect.
 *
 * @module
 */

import type { Item, Program, Stmt, TaskDef } from './ast.js';
import type { Mismatch } from './compare.js';
import { bodiesOf, defsOf } from './walk.js';

/** A deliberate departure and how to recognise it. */
export interface Departure {
  name: string;
  /** Why tsaio does it, and where that is written. */
  reason: string;
  /** True if this difference is this departure (read from the program and the traces). */
  matches: (program: Program, mismatch: Mismatch) => boolean;
  /**
   * The program without what this departure is about (or null if it has none of it): when the
   * difference goes away there, it was this departure's doing, whatever line showed it first.
   */
  ablate?: (program: Program) => Program | null;
}

/** `p` with each statement passed through `f` (at any depth), or null if `f` changed none. */
function mapStmts(p: Program, f: (s: Stmt) => Stmt | null): Program | null {
  let changed = false;
  const body = (stmts: Stmt[]): Stmt[] =>
    stmts.flatMap((s0) => {
      const s = f(s0);
      if (s !== s0) changed = true;
      if (s === null) return [];
      return [deep(s)];
    });
  const def = (d: TaskDef): TaskDef => ({ ...d, body: body(d.body) });
  const item = (it: Item): Item => ('def' in it ? { ...it, def: def(it.def) } : it);
  const deep = (s: Stmt): Stmt => {
    switch (s.k) {
      case 'spawn':
      case 'tgSpawn':
        return { ...s, def: def(s.def) };
      case 'gather':
      case 'wait':
        return { ...s, items: s.items.map(item) };
      case 'waitFor':
      case 'shield':
        return { ...s, item: item(s.item) };
      case 'timeout':
      case 'taskGroup':
      case 'hold':
        return { ...s, body: body(s.body) };
      default:
        return s;
    }
  };
  const main = body(p.main);
  return changed ? { ...p, main } : null;
}

/** A trace line taken apart: virtual time, who printed it, what. */
interface Line {
  time: string;
  who: string;
  what: string;
}

function parse(line: string): Line {
  const [time = '', who = '', ...rest] = line.split(' ');
  return { time, who, what: rest.join(' ') };
}

/** Whether any statement of `p`, at any depth, satisfies `test`. */
function some(p: Program, test: (s: Stmt) => boolean): boolean {
  const visit = (body: Stmt[]): boolean =>
    body.some((s) => test(s) || defsOf(s).some((d) => visit(d.body)) || bodiesOf(s).some(visit));
  return visit(p.main);
}

/** The lines of each side at the instant of the first difference. */
function instant(m: Mismatch): { py: Line[]; ts: Line[] } {
  const t = Math.min(Number(parse(m.python).time), Number(parse(m.tsaio).time));
  const at = (trace: string[]): Line[] =>
    trace
      .filter((l) => !l.startsWith('END '))
      .map(parse)
      .filter((l) => Number(l.time) === t);
  return { py: at(m.pythonTrace), ts: at(m.tsaioTrace) };
}

/** Some line of python's and some line of tsaio's at that instant, of the same task, satisfy `test`. */
function somePair(m: Mismatch, test: (py: string, ts: string) => boolean): boolean {
  const { py, ts } = instant(m);
  return py.some((a) => ts.some((b) => a.who === b.who && test(a.what, b.what)));
}

/** The task names whose last line (end, cancelled, failed) is at that instant on both sides. */
function endingNow(m: Mismatch): Set<string> {
  const { py, ts } = instant(m);
  const ends = (lines: Line[]): Set<string> =>
    new Set(lines.filter((l) => /^(end|cancelled |failed )/.test(l.what)).map((l) => l.who));
  const a = ends(py);
  const b = ends(ts);
  return new Set([...a].filter((x) => b.has(x)));
}

/** What a line says about other tasks' states: wait's sets, a probe, a cancel's answer. */
function taskViews(what: string): Map<string, string> | null {
  const views = new Map<string, string>();
  const wait = /^wait done=(\S*) pending=(\S*)$/.exec(what);
  if (wait !== null) {
    for (const x of wait[1]!.split(',').filter(Boolean)) views.set(x, 'done');
    for (const x of wait[2]!.split(',').filter(Boolean)) views.set(x, 'pending');
    return views;
  }
  const probe = /^probe (\w+) (pending|done|cancelled|failed)$/.exec(what);
  if (probe !== null) return views.set(probe[1]!, probe[2] === 'pending' ? 'pending' : 'done');
  const cancel = /^cancel (\w+)\(\w*\) (true|false)$/.exec(what);
  if (cancel !== null) return views.set(cancel[1]!, cancel[2] === 'true' ? 'pending' : 'done');
  return null;
}

/**
 * A task whose cancellation was replaced by another error (a lock's or a bounded semaphore's
 * release failing as the block it cancelled exits), and that caught that error, goes on in
 * CPython as if never cancelled; in tsaio its signal is still aborted, and its next wait ends
 * it. The first difference is that task's, or the end of the run.
 */
function replacedCancellationGoesOn(m: Mismatch): boolean {
  const py = parse(m.python);
  const ts = parse(m.tsaio);
  const limit = Math.min(Number(py.time) || Infinity, Number(ts.time) || Infinity);
  const replacedBy = (trace: string[]): Set<string> => {
    const lines = trace.map(parse);
    const out = new Set<string>();
    lines.forEach((l, i) => {
      if (Number(l.time) > limit) return;
      // A block whose release failed as it exited: if a cancellation was leaving it, that
      // error replaced it (a block that ended normally fails the same way on both sides).
      if (/^hold \S+ !(InvalidStateError|RangeError)$/.test(l.what)) out.add(l.who);
      if (!l.what.includes('!CancelledError')) return;
      const next = lines.slice(i + 1).find((n) => n.who === l.who);
      if (next !== undefined && next.time === l.time && /![A-Z]\w*$/.test(next.what)) {
        if (!next.what.includes('!Cancelled')) out.add(l.who);
      }
    });
    return out;
  };
  const both = [...replacedBy(m.pythonTrace)].filter((x) => replacedBy(m.tsaioTrace).has(x));
  return both.some(
    (x) => x === py.who || x === ts.who || m.python.startsWith('END') || m.tsaio.startsWith('END'),
  );
}

/**
 * One wait of one task ends at the same instant on both sides, with a value on one side and
 * a cancellation on the other, and at that instant a cancellation was issued on both sides
 * (`cancel x() true`, a task group or the horizon cancelling): the value and the cancellation
 * raced to the wait. CPython moves each hop by a loop iteration (and a cancel request on a
 * task whose result is on its way replaces that result); tsaio runs a chain of promise
 * reactions to its end before the loop's next callback.
 */
function valueOrCancellationFirst(m: Mismatch): boolean {
  const py = parse(m.python);
  const ts = parse(m.tsaio);
  if (py.who !== ts.who || py.time !== ts.time) return false;
  const verb = py.what.split(' ')[0];
  if (verb !== ts.what.split(' ')[0]) return false;
  const cancelled = (what: string): boolean => what.startsWith(`${verb} !CancelledError`);
  const value = (what: string): boolean => !what.includes(' !');
  if (!((cancelled(py.what) && value(ts.what)) || (value(py.what) && cancelled(ts.what)))) return false;
  const issued = (lines: Line[]): boolean =>
    lines.some((l) => / cancel \w+\(\w*\) true$/.test(` ${l.what}`) || /^(group|horizon) /.test(l.what));
  const { py: pyNow, ts: tsNow } = instant(m);
  return issued(pyNow) && issued(tsNow);
}

export const DEPARTURES: Departure[] = [
  {
    name: 'past-deadline-acts-at-once',
    reason:
      'The contract ("Details that code outside the project relies on"): `timeout(0, body)`, or any ' +
      'deadline already past, runs its body with the signal already aborted, and the scope then reports ' +
      '`expired()`; design.md (`_cancelscope.ts`): a deadline already past acts at once, and so does ' +
      '`reschedule` to one. CPython schedules its expiry with `call_soon`: a body that finishes without ' +
      'suspending leaves the scope unexpired, and a `reschedule` before that callback runs still works.',
    matches: (p, m) =>
      some(p, (s) => (s.k === 'timeout' && s.ms === 0) || (s.k === 'reschedule' && s.delta === 0)) &&
      somePair(
        m,
        (py, ts) =>
          (py === 'timeout ok false' && (ts === 'timeout ok true' || ts === 'timeout !TimeoutError')) ||
          (py.startsWith('reschedule ') && ts === 'reschedule !InvalidStateError'),
      ),
    ablate: (p) =>
      mapStmts(p, (s) =>
        s.k === 'timeout' && s.ms === 0
          ? { ...s, ms: 1 }
          : s.k === 'reschedule' && s.delta === 0
            ? { ...s, delta: 1 }
            : s,
      ),
  },
  {
    name: 'cancellation-sticks',
    reason:
      'design.md (Tasks, Combinators): an aborted signal stays aborted (`uncancel()` cannot un-abort it), ' +
      'and `waitFor` aborted by its own signal cancels what it waits for, waits for it, "then rejects with ' +
      'CancelledError, whatever aw did". In CPython the cancellation of a task awaiting another is handed ' +
      'to the awaited task; if that one returns a value instead (it caught the cancellation, or it had ' +
      'nothing left to wait for) or fails with another error, the awaiting task gets that outcome and ' +
      'is not cancelled, and a `wait_for` that timed out returns that value too. Likewise a task whose ' +
      'cancellation was replaced by another error it then caught goes on in CPython.',
    matches: (_p, m) =>
      somePair(m, (py, ts) => {
        const verb = /^(await \S+|waitFor|shield) /.exec(py)?.[1];
        if (verb === undefined) return false;
        // What the awaited task gave (a value, or an error of its own) in CPython.
        const gave = py.slice(verb.length + 1);
        return (
          (/^[rs]:\w+$/.test(gave) || /^!(?!CancelledError|TimeoutError)\w/.test(gave)) &&
          (ts.startsWith(`${verb} !CancelledError`) || ts === `${verb} !TimeoutError`)
        );
      }) || replacedCancellationGoesOn(m),
    ablate: (p) => {
      let swallows = false;
      const raiseAll = (d: TaskDef): TaskDef => {
        if (d.onCancel === 'swallow') swallows = true;
        return { ...d, onCancel: 'raise' };
      };
      const out = mapStmts(p, (s) => {
        if (s.k === 'spawn' || s.k === 'tgSpawn') return { ...s, def: raiseAll(s.def) };
        if (s.k === 'gather' || s.k === 'wait')
          return { ...s, items: s.items.map((it) => ('def' in it ? { ...it, def: raiseAll(it.def) } : it)) };
        if (s.k === 'waitFor' || s.k === 'shield')
          return { ...s, item: 'def' in s.item ? { ...s.item, def: raiseAll(s.item.def) } : s.item };
        return s;
      });
      return swallows ? out : null;
    },
  },
  {
    name: 'first-cancellation-message-stays',
    reason:
      "design.md (Tasks): `cancel(msg)` aborts the task's signal with `CancelledError(msg)`, and a signal " +
      'aborts once: a second cancellation of a task already cancelled (another `cancel()`, `run()` ending) ' +
      'does not change the message its waits reject with. CPython throws each cancellation in anew, and ' +
      '`Condition.wait` re-raises the last one it caught while taking its lock back.',
    matches: (_p, m) =>
      somePair(m, (py, ts) => {
        const a = /^(.*)!CancelledError\((.*)\)$/.exec(py);
        const b = /^(.*)!CancelledError\((.*)\)$/.exec(ts);
        if (a === null || b === null || a[1] !== b[1] || a[2] === b[2] || b[2] === '~') return false;
        const who = parse(m.tsaio).who;
        const cancelledWith = (trace: string[]): boolean =>
          trace.some((l) => l.includes(` cancel ${who}(${b[2]}) true`));
        return cancelledWith(m.tsaioTrace) && cancelledWith(m.pythonTrace);
      }),
  },
  {
    name: 'cancelled-condition-waiter-leaves-no-trace',
    reason:
      'The contract ("Synchronization and queues"): a cancelled waiter leaves no trace; design.md: a ' +
      '`Condition` waiter cancelled after it was notified passes the notification on, and only then. ' +
      "CPython 3.13's `Condition.wait` notifies another waiter whenever a wait ends in an exception, " +
      'notified or not (a spurious wakeup, which its docs allow).',
    matches: (_p, m) => {
      const { py } = instant(m);
      return py.some((a) => {
        const cond = /^condWait(?:For)? (C\d+) true$/.exec(a.what)?.[1];
        if (cond === undefined) return false;
        const cancelled = new RegExp(`^condWait(For)? ${cond} !CancelledError`);
        return py.some((b) => b.who !== a.who && cancelled.test(b.what));
      });
    },
  },
  {
    name: 'cancelled-waiter-leaves-at-once',
    reason:
      'The contract ("Synchronization and queues"): a cancelled waiter leaves no trace; design.md: when ' +
      'its signal aborts, a waiter leaves the wait-queue at once. In CPython a cancelled barrier waiter ' +
      'still counts in `n_waiting` until its task resumes and runs its `finally`.',
    matches: (_p, m) =>
      somePair(m, (py, ts) => {
        const a = /^probe (B\d+) (\d+) (\w+)$/.exec(py);
        const b = /^probe (B\d+) (\d+) (\w+)$/.exec(ts);
        if (a === null || b === null || a[1] !== b[1] || Number(a[2]) <= Number(b[2])) return false;
        const { py: lines } = instant(m);
        return lines.some((l) => l.what.startsWith(`barrier ${a[1]} !CancelledError`));
      }),
  },
  {
    name: 'cancellation-reaches-every-linked-wait',
    reason:
      'The contract (Cancellation model): cancelling a task aborts its signal, and every wait given ' +
      "that signal, or a signal linked to it (a task group's, a timeout's), rejects at once. In CPython " +
      'the cancellation is thrown in at the one await the task is suspended at, and a task group hears ' +
      "of it only when it reaches the group's exit: while that await cannot end (a condition taking back " +
      "a lock its group's child holds), the children are not cancelled and the program is stuck.",
    matches: (p, m) => {
      if (!some(p, (s) => s.k === 'taskGroup')) return false;
      const cancellation = /!CancelledError|^\S+ \S+ cancelled /;
      if (!cancellation.test(m.tsaio)) return false;
      if (m.python === 'END stuck') return true;
      const ts = parse(m.tsaio);
      // A child of a group (named c<n>) cancelled in tsaio where CPython let it go on (its
      // next line in CPython, at that instant or later, is not a cancellation): the
      // cancellation reaches a group's children only once it has reached the group's exit.
      if (/^c\d+$/.test(ts.who)) {
        const next = m.pythonTrace.find((line) => {
          const l = parse(line);
          return l.who === ts.who && Number(l.time) >= Number(ts.time);
        });
        if (next !== undefined && !cancellation.test(next)) return true;
      }
      // The same line, later in CPython: the cancellation reached that wait only once the await
      // the task was suspended at had ended.
      return m.pythonTrace.some((line) => {
        const l = parse(line);
        return l.who === ts.who && l.what === ts.what && Number(l.time) > Number(ts.time);
      });
    },
  },
  {
    name: 'barrier-index-counts-the-waiters-present',
    reason:
      'The contract ("Details that code outside the project relies on"): `Barrier.wait()` resolves to the ' +
      'arrival index `0 .. parties-1`, one each (as asyncio\'s documentation says, "a unique integer"). ' +
      'CPython takes the count of arrivals as the index, and a waiter that left by cancellation is ' +
      'counted in it until it resumes, so two waiters can get the same index.',
    matches: (_p, m) =>
      somePair(m, (py, ts) => {
        const a = /^barrier (B\d+) (\d+)$/.exec(py);
        const b = /^barrier (B\d+) (\d+)$/.exec(ts);
        if (a === null || b === null || a[1] !== b[1] || a[2] === b[2]) return false;
        const left = (trace: string[]): boolean =>
          trace.some((l) => l.includes(` barrier ${a[1]} !CancelledError`));
        return left(m.pythonTrace) && left(m.tsaioTrace);
      }),
  },
  {
    name: 'grant-passes-straight-to-waiter',
    reason:
      'design.md (Locks, queues and the wait-queue): "A lock or permit passes straight from `release()` ' +
      'to the longest waiter". A lock released while a task waits for it stays locked, for that task; ' +
      'CPython unlocks it (or counts the permit) and the waiter takes it when it resumes. A second ' +
      "`release()` in between then raises in CPython, and releases the waiter's lock in tsaio.",
    ablate: (p) => mapStmts(p, (s) => (s.k === 'release' ? null : s)),
    matches: (p, m) => {
      const released = new Set<string>();
      some(p, (s) => (s.k === 'release' ? (released.add(s.prim), false) : false));
      return somePair(m, (py, ts) =>
        [...released].some((prim) => {
          const about = new RegExp(`^(hold|unhold|release|probe) ${prim}\\b`);
          return about.test(py) && about.test(ts);
        }),
      );
    },
  },
  {
    name: 'microtasks-are-not-loop-iterations',
    reason:
      "design.md (Where tsaio departs): an `await` always yields and a task's completion travels through " +
      'promise reactions, so of two tasks that end at the same instant, one may be seen done by a third ' +
      'task in CPython (a later loop iteration) and still pending in tsaio, or the other way round; ' +
      'and of a value and a cancellation that reach one wait at the same instant, either may come first.',
    matches: (_p, m) => {
      if (valueOrCancellationFirst(m)) return true;
      const ending = endingNow(m);
      return somePair(m, (py, ts) => {
        const a = taskViews(py);
        const b = taskViews(ts);
        if (a === null || b === null || py.split(' ')[0] !== ts.split(' ')[0]) return false;
        const names = new Set([...a.keys(), ...b.keys()]);
        let differs = false;
        for (const x of names) {
          if (a.get(x) === b.get(x)) continue;
          if (!ending.has(x)) return false;
          differs = true;
        }
        return differs;
      });
    },
  },
];

/** The name of the departure `mismatch` is, or null: a defect. */
export function classify(program: Program, mismatch: Mismatch): string | null {
  for (const d of DEPARTURES) if (d.matches(program, mismatch)) return d.name;
  return null;
}
