/**
 * Emits a program as Python 3.13 asyncio, and the prelude that runs a batch
 * of them, each on a fresh virtual-time event loop: a `BaseEventLoop` whose
 * `time()` is a counter and whose selector, asked to wait `t`, adds `t` to
 * it (after CPython's `test_asyncio.utils.TestLoop`). Timers due at the same
 * time run in the order they were scheduled (CPython leaves that order
 * unspecified; tsaio specifies it), and a loop with nothing ready and no
 * timer is stuck, not blocked for ever.
 *
 * @module
 */

import { type Item, type Program, type Stmt, type SyncStmt, type TaskDef } from './ast.js';
import {
  HORIZON_KEY,
  MAIN_KEY,
  assignPhases,
  collectCallbacks,
  collectDefs,
  phaseSleeps,
  type Phases,
} from './walk.js';

/** The code every batch starts with. */
export const PY_PRELUDE = String.raw`
import asyncio, heapq, itertools, json, os, selectors, sys
from asyncio import base_events, events

class Stuck(Exception):
    pass

class ErrA(Exception):
    pass

class ErrB(Exception):
    pass

class ErrC(Exception):
    pass

class _Timer(events.TimerHandle):
    __slots__ = ('_seq',)
    def __init__(self, when, callback, args, loop, context, seq):
        super().__init__(when, callback, args, loop, context)
        self._seq = seq
    def __lt__(self, other):
        return (self._when, self._seq) < (other._when, other._seq)
    def __le__(self, other):
        return (self._when, self._seq) <= (other._when, other._seq)
    def __gt__(self, other):
        return (self._when, self._seq) > (other._when, other._seq)
    def __ge__(self, other):
        return (self._when, self._seq) >= (other._when, other._seq)

class _Selector(selectors.BaseSelector):
    def __init__(self, loop):
        self._loop = loop
    def register(self, fileobj, events, data=None):
        raise NotImplementedError
    def unregister(self, fileobj):
        raise NotImplementedError
    def select(self, timeout=None):
        if timeout is None:
            STATE['closed'] = True
            raise Stuck('nothing is ready and no timer is pending')
        self._loop._time += timeout
        return []
    def get_map(self):
        return {}

class VirtualLoop(base_events.BaseEventLoop):
    def __init__(self):
        super().__init__()
        self._time = 0
        self._clock_resolution = 1e-9
        self._selector = _Selector(self)
        self._seq = itertools.count()
        self._turns = 0
    def time(self):
        return self._time
    def _process_events(self, event_list):
        pass
    def _write_to_self(self):
        pass
    def call_at(self, when, callback, *args, context=None):
        if when is None:
            raise TypeError('when cannot be None')
        self._check_closed()
        timer = _Timer(when, callback, args, self, context, next(self._seq))
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer
    def _run_once(self):
        self._turns += 1
        if self._turns > 200000:
            STATE['closed'] = True
            raise Stuck('runaway: more than 200000 loop turns')
        super()._run_once()

STATE = {'t0': 0, 'closed': False, 'out': []}

def log(who, what):
    if STATE['closed']:
        return
    now = asyncio.get_running_loop().time()
    STATE['out'].append(f"{int(now - STATE['t0'])} {who} {what}")

def own():
    t = asyncio.current_task()
    return t is not None and t.cancelling() > 0

def fe(e, own=False):
    if isinstance(e, asyncio.CancelledError):
        return f'CancelledError({e})' if own else 'CancelledError(~)'
    if isinstance(e, BaseExceptionGroup):
        return 'ExceptionGroup[' + ', '.join(fe(x) for x in e.exceptions) + ']'
    if isinstance(e, (ErrA, ErrB, ErrC)):
        return f'{type(e).__name__}({e})'
    if isinstance(e, TimeoutError):
        return 'TimeoutError'
    if isinstance(e, asyncio.QueueEmpty):
        return 'QueueEmpty'
    if isinstance(e, asyncio.QueueFull):
        return 'QueueFull'
    if isinstance(e, asyncio.QueueShutDown):
        return 'QueueShutDown'
    if isinstance(e, asyncio.BrokenBarrierError):
        return 'BrokenBarrierError'
    if isinstance(e, (RuntimeError, asyncio.InvalidStateError)):
        return 'InvalidStateError'
    if isinstance(e, ValueError):
        return 'RangeError'
    return f'Other:{type(e).__name__}({e})'

def fv(v):
    if v is None:
        return 'none'
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    if isinstance(v, BaseException):
        return fe(v)
    if isinstance(v, (list, tuple)):
        return '[' + ', '.join(fv(x) for x in v) + ']'
    return str(v)

def pd(k, ph, M):
    now = int(asyncio.get_running_loop().time() - STATE['t0'])
    d = k * M + (ph - now - k * M) % M
    return d if d > 0 else M

def ptask(T, name):
    t = T.get(name)
    if t is None:
        return 'absent'
    if not t.done():
        return 'pending'
    if t.cancelled():
        return 'cancelled'
    return 'failed' if t.exception() is not None else 'done'

def run_program(pid, main):
    STATE['out'] = []
    STATE['closed'] = False
    STATE['t0'] = 0
    status = 'ok'
    try:
        with asyncio.Runner(loop_factory=VirtualLoop) as runner:
            runner.run(main())
    except Stuck as e:
        status = 'stuck'
    except BaseException as e:
        status = f'crash {type(e).__name__}: {e}'
    STATE['closed'] = True
    print(json.dumps({'id': pid, 'status': status, 'trace': STATE['out']}), flush=True)
    if status != 'ok':
        # A stuck loop was left with tasks pending: go on in a fresh process.
        sys.stdout.flush()
        os._exit(0)
`;

/** Python source lines with indentation. */
class Out {
  readonly lines: string[] = [];
  line(indent: number, text: string): void {
    this.lines.push('    '.repeat(indent) + text);
  }
}

/** Where a statement is emitted: the task it runs in, and the names of the scopes around it. */
interface Scope {
  who: string;
  /** The phase of the task: its sleeps end at times congruent to it. */
  phase: number;
  /** The phase of the innermost timeout. */
  cmPhase: number;
  /** The innermost timeout's variable, if any. */
  cm: string | null;
  /** The innermost task group's variable, if any. */
  tg: string | null;
}

const q = (s: string): string => JSON.stringify(s);

/** Emits programs as Python; one emitter per program (it numbers its scopes). */
class PyEmitter {
  private n = 0;
  private readonly ph: Phases;
  constructor(private readonly p: Program) {
    this.ph = assignPhases(p.main, MAIN_KEY, HORIZON_KEY);
  }

  private phaseOf(key: object): number {
    const phase = this.ph.of.get(key);
    if (phase === undefined) throw new Error('oracle: no phase for a statement');
    return phase;
  }

  /** A delay of `k` units ending on `phase`; 0 stays 0 (a deadline that is already due). */
  private delay(k: number | null, key: object): string {
    if (k === null) return 'None';
    if (k === 0) return '0';
    return `pd(${k}, ${this.phaseOf(key)}, M)`;
  }

  /** `def prog_<id>():` returning the program's `main` coroutine function. */
  program(id: string): string {
    const o = new Out();
    const p = this.p;
    o.line(0, `def prog_${id}():`);
    o.line(1, 'T = {}');
    o.line(1, 'P = {}');
    o.line(1, 'CNT = {}');
    o.line(1, `M = ${this.ph.count}`);
    for (const def of collectDefs(p.main)) this.taskDef(o, def);
    for (const cb of collectCallbacks(p.main)) {
      o.line(1, `def cb_${cb.label}():`);
      o.line(2, `log('cb:${cb.label}', 'run')`);
      for (const s of cb.action) this.sync(o, 2, s, `cb:${cb.label}`);
    }
    o.line(1, 'async def main():');
    o.line(2, `STATE['t0'] = asyncio.get_running_loop().time()`);
    this.prims(o, 2);
    o.line(2, `log('main', 'start')`);
    o.line(2, 'try:');
    o.line(3, `async with asyncio.timeout(pd(${p.horizon}, ${this.phaseOf(HORIZON_KEY)}, M)):`);
    this.body(o, 4, p.main, this.scope('main', MAIN_KEY), { onPhase: false, justSlept: false });
    o.line(2, 'except BaseException as e:');
    o.line(3, `log('main', 'horizon ' + fe(e))`);
    // main ends alone at an instant of its own: what its body set off has settled by then.
    o.line(2, `await asyncio.sleep(pd(0, ${this.phaseOf(MAIN_KEY)}, M))`);
    o.line(2, `log('main', 'end')`);
    o.line(1, 'return main');
    return o.lines.join('\n');
  }

  private prims(o: Out, i: number): void {
    const p = this.p.prims;
    const set = (name: string, value: string): void => o.line(i, `P['${name}'] = ${value}`);
    for (const l of p.locks) set(l, 'asyncio.Lock()');
    for (const s of p.sems)
      set(s.name, `asyncio.${s.bounded ? 'BoundedSemaphore' : 'Semaphore'}(${s.value})`);
    for (const e of p.events) set(e, 'asyncio.Event()');
    for (const c of p.conds) {
      set(c, 'asyncio.Condition()');
      o.line(i, `CNT['${c}'] = 0`);
    }
    for (const b of p.barriers) set(b.name, `asyncio.Barrier(${b.parties})`);
    const kinds = { fifo: 'Queue', prio: 'PriorityQueue', lifo: 'LifoQueue' };
    for (const qu of p.queues) set(qu.name, `asyncio.${kinds[qu.kind]}(${qu.maxsize})`);
  }

  private taskDef(o: Out, def: TaskDef): void {
    const who = def.name;
    o.line(1, `async def t_${who}():`);
    o.line(2, 'try:');
    this.body(o, 3, def.body, this.scope(who, def), { onPhase: false, justSlept: false });
    o.line(3, `log('${who}', 'end')`);
    o.line(3, `return 'r:${who}'`);
    o.line(2, 'except asyncio.CancelledError as e:');
    o.line(3, `log('${who}', 'cancelled ' + fe(e))`);
    o.line(3, def.onCancel === 'raise' ? 'raise' : `return 's:${who}'`);
    o.line(2, 'except Exception as e:');
    o.line(3, `log('${who}', 'failed ' + fe(e))`);
    o.line(3, 'raise');
  }

  private scope(who: string, key: object): Scope {
    return { who, phase: this.phaseOf(key), cmPhase: -1, cm: null, tg: null };
  }

  private body(
    o: Out,
    i: number,
    stmts: Stmt[],
    sc: Scope,
    start: { onPhase: boolean; justSlept: boolean },
  ): void {
    if (stmts.length === 0) o.line(i, 'pass');
    const sleeps = phaseSleeps(stmts, start);
    stmts.forEach((s, j) => {
      if (sleeps[j]) o.line(i, `await asyncio.sleep(pd(0, ${sc.phase}, M))`);
      this.stmt(o, i, s, sc);
    });
    // A callback made ready last runs before what the end of this body wakes: a task's
    // completion reaches its awaiters through promise reactions in tsaio, before any callback.
    if (stmts.at(-1)?.k === 'callSoon') o.line(i, `await asyncio.sleep(pd(0, ${sc.phase}, M))`);
  }

  /**
   * `try:` around `inner`, logging a failure under `tag`; cancellations always re-raised. The
   * message of a cancellation is shown only where the task's own cancellation reached a wait
   * of a primitive (`own`): what a combinator raises carries a message that CPython takes from
   * whichever inner future it read last, and a stored cancellation gives its message once.
   */
  private guarded(o: Out, i: number, tag: string, propagate: boolean, who: string, inner: () => void): void {
    const own = /^(await|gather|wait|waitFor|shield|timeout|group|hold)\b/.test(tag) ? '' : ', own()';
    o.line(i, 'try:');
    inner();
    o.line(i, 'except asyncio.CancelledError as e:');
    o.line(i + 1, `log('${who}', ${q(tag + ' !')} + fe(e${own}))`);
    o.line(i + 1, 'raise');
    o.line(i, 'except Exception as e:');
    o.line(i + 1, `log('${who}', ${q(tag + ' !')} + fe(e))`);
    if (propagate) o.line(i + 1, 'raise');
  }

  /** An expression for `item`; a task made beforehand is registered first. */
  private item(o: Out, i: number, item: Item, forWait: boolean): string {
    if ('ref' in item) return `T['${item.ref}']`;
    const name = item.def.name;
    if (item.asBody) return forWait ? `asyncio.create_task(t_${name}())` : `t_${name}()`;
    o.line(i, `T['${name}'] = asyncio.create_task(t_${name}(), name='${name}')`);
    return `T['${name}']`;
  }

  private sync(o: Out, i: number, s: SyncStmt, who: string): void {
    const P = (name: string): string => `P['${name}']`;
    const attempt = (tag: string, action: string, done: string): void => {
      o.line(i, 'try:');
      o.line(i + 1, action);
      o.line(i + 1, `log('${who}', ${done})`);
      o.line(i, 'except Exception as e:');
      o.line(i + 1, `log('${who}', ${q(tag + ' !')} + fe(e))`);
    };
    switch (s.k) {
      case 'probe': {
        const pr = s.probe;
        const tag = `probe ${pr.name} `;
        if (pr.of === 'task') o.line(i, `log('${who}', ${q(tag)} + ptask(T, '${pr.name}'))`);
        else if (pr.of === 'queue')
          o.line(i, `log('${who}', ${q(tag)} + f'{${P(pr.name)}.qsize()} {fv(${P(pr.name)}.full())}')`);
        else if (pr.of === 'lock') o.line(i, `log('${who}', ${q(tag)} + fv(${P(pr.name)}.locked()))`);
        else if (pr.of === 'event') o.line(i, `log('${who}', ${q(tag)} + fv(${P(pr.name)}.is_set()))`);
        else o.line(i, `log('${who}', ${q(tag)} + f'{${P(pr.name)}.n_waiting} {fv(${P(pr.name)}.broken)}')`);
        return;
      }
      case 'cancel': {
        const msg = s.msg === null ? '' : q(s.msg);
        o.line(
          i,
          `log('${who}', 'cancel ${s.target}(${s.msg ?? ''}) ' + (fv(T['${s.target}'].cancel(${msg})) if '${s.target}' in T else 'absent'))`,
        );
        return;
      }
      case 'release':
        return attempt(`release ${s.prim}`, `${P(s.prim)}.release()`, q(`release ${s.prim}`));
      case 'evSet':
        o.line(i, `${P(s.ev)}.set()`);
        o.line(i, `log('${who}', 'set ${s.ev}')`);
        return;
      case 'evClear':
        o.line(i, `${P(s.ev)}.clear()`);
        o.line(i, `log('${who}', 'clear ${s.ev}')`);
        return;
      case 'barrierAbort':
        // A coroutine in CPython (it takes the barrier's own lock, free but for an instant).
        o.line(i, `await ${P(s.b)}.abort()`);
        o.line(i, `log('${who}', 'abort ${s.b}')`);
        return;
      case 'barrierReset':
        o.line(i, `await ${P(s.b)}.reset()`);
        o.line(i, `log('${who}', 'reset ${s.b}')`);
        return;
      case 'putNowait':
        return attempt(
          `putNowait ${s.q} ${s.item}`,
          `${P(s.q)}.put_nowait(${s.item})`,
          q(`putNowait ${s.q} ${s.item}`),
        );
      case 'getNowait':
        return attempt(`getNowait ${s.q}`, `v = ${P(s.q)}.get_nowait()`, `'getNowait ${s.q} ' + fv(v)`);
      case 'taskDone':
        return attempt(`taskDone ${s.q}`, `${P(s.q)}.task_done()`, q(`taskDone ${s.q}`));
      case 'shutdown':
        o.line(i, `${P(s.q)}.shutdown(${s.immediate ? 'True' : 'False'})`);
        o.line(i, `log('${who}', 'shutdown ${s.q}${s.immediate ? ' now' : ''}')`);
        return;
    }
  }

  private stmt(o: Out, i: number, s: Stmt, sc: Scope): void {
    const who = sc.who;
    const P = (name: string): string => `P['${name}']`;
    switch (s.k) {
      case 'sleep':
        // A sleep of 0 is one turn of the loop; a longer one ends on the task's phase.
        o.line(i, s.ms === 0 ? 'await asyncio.sleep(0)' : `await asyncio.sleep(pd(${s.ms}, ${sc.phase}, M))`);
        return;
      case 'raise':
        o.line(i, `raise ${s.cls}(${q(s.msg)})`);
        return;
      case 'spawn':
        o.line(i, `T['${s.def.name}'] = asyncio.create_task(t_${s.def.name}(), name='${s.def.name}')`);
        o.line(i, `log('${who}', 'spawn ${s.def.name}')`);
        return;
      case 'await':
        return this.guarded(o, i, `await ${s.target}`, s.propagate, who, () => {
          o.line(i + 1, `v = await T['${s.target}']`);
          o.line(i + 1, `log('${who}', 'await ${s.target} ' + fv(v))`);
        });
      case 'gather':
        return this.guarded(o, i, 'gather', s.propagate, who, () => {
          const args = s.items.map((it) => this.item(o, i + 1, it, false));
          const re = s.returnExceptions ? ', return_exceptions=True' : '';
          o.line(i + 1, `v = await asyncio.gather(${args.join(', ')}${re})`);
          o.line(i + 1, `log('${who}', 'gather ' + fv(v))`);
        });
      case 'wait':
        return this.guarded(o, i, 'wait', s.propagate, who, () => {
          const args = s.items.map((it) => this.item(o, i + 1, it, true));
          const names = s.items.map((it) => ('ref' in it ? it.ref : it.def.name));
          o.line(i + 1, `ws = [${args.join(', ')}]`);
          o.line(
            i + 1,
            `done, pending = await asyncio.wait(ws, timeout=${this.delay(s.timeout, s)}, return_when=asyncio.${s.returnWhen})`,
          );
          o.line(i + 1, `names = ${JSON.stringify(names)}`);
          o.line(
            i + 1,
            `log('${who}', 'wait done=' + ','.join(n for n, f in zip(names, ws) if f in done) + ' pending=' + ','.join(n for n, f in zip(names, ws) if f in pending))`,
          );
        });
      case 'waitFor':
        return this.guarded(o, i, 'waitFor', s.propagate, who, () => {
          const arg = this.item(o, i + 1, s.item, false);
          o.line(i + 1, `v = await asyncio.wait_for(${arg}, ${this.delay(s.timeout, s)})`);
          o.line(i + 1, `log('${who}', 'waitFor ' + fv(v))`);
        });
      case 'shield':
        return this.guarded(o, i, 'shield', s.propagate, who, () => {
          const arg = this.item(o, i + 1, s.item, false);
          o.line(i + 1, `v = await asyncio.shield(${arg})`);
          o.line(i + 1, `log('${who}', 'shield ' + fv(v))`);
        });
      case 'timeout': {
        const cm = `cm${++this.n}`;
        return this.guarded(o, i, 'timeout', s.propagate, who, () => {
          o.line(i + 1, `async with asyncio.timeout(${this.delay(s.ms, s)}) as ${cm}:`);
          this.body(
            o,
            i + 2,
            s.body,
            { ...sc, cm, cmPhase: this.phaseOf(s) },
            { onPhase: true, justSlept: false },
          );
          o.line(i + 1, `log('${who}', 'timeout ok ' + fv(${cm}.expired()))`);
        });
      }
      case 'reschedule': {
        if (sc.cm === null) throw new Error('oracle: reschedule outside a timeout');
        const now = 'asyncio.get_running_loop().time()';
        const when =
          s.delta === null ? 'None' : s.delta === 0 ? now : `${now} + pd(${s.delta}, ${sc.cmPhase}, M)`;
        o.line(i, 'try:');
        o.line(i + 1, `${sc.cm}.reschedule(${when})`);
        o.line(i + 1, `log('${who}', 'reschedule ${s.delta ?? 'none'}')`);
        o.line(i, 'except Exception as e:');
        o.line(i + 1, `log('${who}', 'reschedule !' + fe(e))`);
        return;
      }
      case 'taskGroup': {
        const tg = `tg${++this.n}`;
        return this.guarded(o, i, 'group', s.propagate, who, () => {
          o.line(i + 1, `async with asyncio.TaskGroup() as ${tg}:`);
          this.body(o, i + 2, s.body, { ...sc, tg }, { onPhase: true, justSlept: false });
          o.line(i + 1, `log('${who}', 'group ok')`);
        });
      }
      case 'tgSpawn': {
        if (sc.tg === null) throw new Error('oracle: tgSpawn outside a task group');
        const name = s.def.name;
        o.line(i, 'try:');
        o.line(i + 1, `T['${name}'] = ${sc.tg}.create_task(t_${name}(), name='${name}')`);
        o.line(i + 1, `log('${who}', 'tgspawn ${name}')`);
        o.line(i, 'except Exception as e:');
        o.line(i + 1, `log('${who}', 'tgspawn ${name} !' + fe(e))`);
        return;
      }
      case 'hold':
        return this.guarded(o, i, `hold ${s.prim}`, s.propagate, who, () => {
          o.line(i + 1, `async with ${P(s.prim)}:`);
          o.line(i + 2, `log('${who}', 'hold ${s.prim}')`);
          this.body(o, i + 2, s.body, sc, { onPhase: false, justSlept: false });
          o.line(i + 1, `log('${who}', 'unhold ${s.prim}')`);
        });
      case 'evWait':
        return this.guarded(o, i, `evWait ${s.ev}`, s.propagate, who, () => {
          o.line(i + 1, `v = await ${P(s.ev)}.wait()`);
          o.line(i + 1, `log('${who}', 'evWait ${s.ev} ' + fv(v))`);
        });
      case 'condWait':
        return this.guarded(o, i, `condWait ${s.cond}`, s.propagate, who, () => {
          o.line(i + 1, `async with ${P(s.cond)}:`);
          o.line(i + 2, `v = await ${P(s.cond)}.wait()`);
          o.line(i + 2, `log('${who}', 'condWait ${s.cond} ' + fv(v))`);
        });
      case 'condWaitFor':
        return this.guarded(o, i, `condWaitFor ${s.cond}`, s.propagate, who, () => {
          o.line(i + 1, `async with ${P(s.cond)}:`);
          o.line(i + 2, `v = await ${P(s.cond)}.wait_for(lambda: CNT['${s.cond}'] >= ${s.atLeast})`);
          o.line(i + 2, `log('${who}', 'condWaitFor ${s.cond} ' + fv(v))`);
        });
      case 'condNotify':
        return this.guarded(o, i, `notify ${s.cond}`, s.propagate, who, () => {
          o.line(i + 1, `async with ${P(s.cond)}:`);
          if (s.bump) o.line(i + 2, `CNT['${s.cond}'] += 1`);
          o.line(i + 2, s.n === 'all' ? `${P(s.cond)}.notify_all()` : `${P(s.cond)}.notify(${s.n})`);
          o.line(i + 2, `log('${who}', 'notify ${s.cond} ${s.n}')`);
        });
      case 'barrierWait':
        return this.guarded(o, i, `barrier ${s.b}`, s.propagate, who, () => {
          o.line(i + 1, `v = await ${P(s.b)}.wait()`);
          o.line(i + 1, `log('${who}', 'barrier ${s.b} ' + fv(v))`);
        });
      case 'put':
        return this.guarded(o, i, `put ${s.q} ${s.item}`, s.propagate, who, () => {
          o.line(i + 1, `await ${P(s.q)}.put(${s.item})`);
          o.line(i + 1, `log('${who}', 'put ${s.q} ${s.item}')`);
        });
      case 'get':
        return this.guarded(o, i, `get ${s.q}`, s.propagate, who, () => {
          o.line(i + 1, `v = await ${P(s.q)}.get()`);
          o.line(i + 1, `log('${who}', 'get ${s.q} ' + fv(v))`);
        });
      case 'join':
        return this.guarded(o, i, `join ${s.q}`, s.propagate, who, () => {
          o.line(i + 1, `await ${P(s.q)}.join()`);
          o.line(i + 1, `log('${who}', 'join ${s.q}')`);
        });
      case 'callSoon':
        o.line(i, `asyncio.get_running_loop().call_soon(cb_${s.label})`);
        return;
      case 'callLater':
        o.line(i, `asyncio.get_running_loop().call_later(${this.delay(s.ms, s)}, cb_${s.label})`);
        return;
      default:
        return this.sync(o, i, s, who);
    }
  }
}

/** The Python function `prog_<id>` for `program`. */
export function emitPython(program: Program, id: string): string {
  return new PyEmitter(program).program(id);
}

/** A whole batch: the prelude, each program, and the loop that runs them and prints one JSON line each. */
export function pythonBatch(programs: Array<{ id: string; program: Program }>): string {
  const parts = [PY_PRELUDE];
  for (const { id, program } of programs) parts.push(emitPython(program, id));
  parts.push('PROGRAMS = [' + programs.map(({ id }) => `(${q(id)}, prog_${id})`).join(', ') + ']');
  parts.push(String.raw`
first = int(sys.argv[1]) if len(sys.argv) > 1 else 0
for pid, make in PROGRAMS[first:]:
    print(json.dumps({'start': pid}), flush=True)
    run_program(pid, make())
`);
  return parts.join('\n\n');
}

/** The readable form of a program for a report: its Python text. */
export function programText(program: Program): string {
  return emitPython(program, String(program.seed));
}
