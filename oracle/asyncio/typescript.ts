/**
 * Emits a program as TypeScript on tsaio, run by `runVirtual` from
 * `tsaio/testing`. The translation is the contract's: ms for seconds,
 * camelCase, and the enclosing scope's signal given to every wait (the
 * task's, a timeout's or a task group's), where CPython throws
 * `CancelledError` into the coroutine. `await t` is `waitFor(t, null,
 * { signal })` (CPython's `wait_for(t, None)` is `await t`: cancelling the
 * waiter cancels `t`); `await shield(x)` is `waitFor(shield(x), null,
 * { signal })`; `async with x:` is `x.run(fn, { signal })` or
 * `acquire({ signal })` with `try/finally`, as the program says.
 *
 * @module
 */

import { holdKind, type Item, type Program, type Stmt, type SyncStmt, type TaskDef } from './ast.js';
import {
  HORIZON_KEY,
  MAIN_KEY,
  assignPhases,
  collectCallbacks,
  collectDefs,
  phaseSleeps,
  type Phases,
} from './walk.js';

/** The names a program's code uses from tsaio. */
const IMPORTS = [
  'Barrier',
  'BoundedSemaphore',
  'BrokenBarrierError',
  'CancelledError',
  'Condition',
  'Event',
  'ExceptionGroup',
  'InvalidStateError',
  'LifoQueue',
  'Lock',
  'PriorityQueue',
  'Queue',
  'QueueEmpty',
  'QueueFull',
  'QueueShutDown',
  'Semaphore',
  'TimeoutError',
  'createTask',
  'gather',
  'getRunningLoop',
  'shield',
  'sleep',
  'taskGroup',
  'timeout',
  'wait',
  'waitFor',
];

/**
 * The helpers every program uses: the user errors and the formatting of
 * values and errors, the same text as the Python side's `fv` and `fe`.
 */
export const TS_HELPERS = String.raw`
class ErrA extends Error {
  override name = 'ErrA';
}
class ErrB extends Error {
  override name = 'ErrB';
}
class ErrC extends Error {
  override name = 'ErrC';
}

function fe(e: unknown, own = false): string {
  if (e instanceof CancelledError) return own ? 'CancelledError(' + e.message + ')' : 'CancelledError(~)';
  if (e instanceof ExceptionGroup) return 'ExceptionGroup[' + e.errors.map(fe).join(', ') + ']';
  if (e instanceof ErrA || e instanceof ErrB || e instanceof ErrC) return e.name + '(' + e.message + ')';
  if (e instanceof TimeoutError) return 'TimeoutError';
  if (e instanceof QueueEmpty) return 'QueueEmpty';
  if (e instanceof QueueFull) return 'QueueFull';
  if (e instanceof QueueShutDown) return 'QueueShutDown';
  if (e instanceof BrokenBarrierError) return 'BrokenBarrierError';
  if (e instanceof InvalidStateError) return 'InvalidStateError';
  if (e instanceof RangeError) return 'RangeError';
  const err = e as { name?: unknown; message?: unknown } | null;
  return 'Other:' + String(err?.name) + '(' + String(err?.message) + ')';
}

function fv(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (v instanceof Error) return fe(v);
  if (Array.isArray(v)) return '[' + v.map(fv).join(', ') + ']';
  return String(v);
}

function ptask(T: Record<string, Task<unknown>>, name: string): string {
  const t = T[name];
  if (t === undefined) return 'absent';
  if (!t.done()) return 'pending';
  if (t.cancelled()) return 'cancelled';
  return t.exception() !== null ? 'failed' : 'done';
}
`;

/** The import lines of a module of programs, given where tsaio's `src` is. */
export function tsImports(src: string): string {
  return [
    `import { ${IMPORTS.join(', ')} } from '${src}/index.ts';`,
    `import type { Task, Timeout } from '${src}/index.ts';`,
    `import { runVirtual } from '${src}/testing.ts';`,
  ].join('\n');
}

class Out {
  readonly lines: string[] = [];
  line(indent: number, text: string): void {
    this.lines.push('  '.repeat(indent) + text);
  }
}

interface Scope {
  who: string;
  phase: number;
  cmPhase: number;
  /** The signal every wait here is given. */
  signal: string;
  cm: string | null;
  tg: string | null;
}

const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

class TsEmitter {
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
    if (k === null) return 'null';
    if (k === 0) return '0';
    return `pd(${k}, ${this.phaseOf(key)})`;
  }

  private scope(who: string, signal: string, key: object): Scope {
    return { who, signal, phase: this.phaseOf(key), cmPhase: -1, cm: null, tg: null };
  }

  /** `async function prog_<id>(out)`: runs the program under `runVirtual`, resolves to its status. */
  program(id: string): string {
    const o = new Out();
    const p = this.p;
    o.line(0, `async function prog_${id}(out: string[]): Promise<string> {`);
    o.line(1, 'let t0 = 0;');
    o.line(1, 'let closed = false;');
    o.line(1, 'const log = (who: string, what: string): void => {');
    o.line(2, 'if (!closed) out.push(`${Math.round(getRunningLoop().time() - t0)} ${who} ${what}`);');
    o.line(1, '};');
    o.line(1, 'const T: Record<string, Task<unknown>> = {};');
    o.line(1, 'const CNT: Record<string, number> = {};');
    o.line(1, `const M = ${this.ph.count};`);
    o.line(1, '/** A delay of k units that ends on phase ph (modulo M). */');
    o.line(1, 'const pd = (k: number, ph: number): number => {');
    o.line(2, 'const now = Math.round(getRunningLoop().time() - t0);');
    o.line(2, 'const d = k * M + ((((ph - now - k * M) % M) + M) % M);');
    o.line(2, 'return d > 0 ? d : M;');
    o.line(1, '};');
    this.prims(o, 1);
    for (const def of collectDefs(p.main)) this.taskDef(o, def);
    for (const cb of collectCallbacks(p.main)) {
      o.line(1, `const cb_${cb.label} = (): void => {`);
      o.line(2, `log('cb:${cb.label}', 'run');`);
      for (const s of cb.action) this.sync(o, 2, s, `cb:${cb.label}`);
      o.line(1, '};');
    }
    o.line(1, 'const main = async (sm: AbortSignal): Promise<void> => {');
    o.line(2, 't0 = getRunningLoop().time();');
    o.line(2, `log('main', 'start');`);
    o.line(2, 'try {');
    o.line(3, `await timeout(pd(${p.horizon}, ${this.phaseOf(HORIZON_KEY)}), async (s0) => {`);
    this.body(o, 4, p.main, this.scope('main', 's0', MAIN_KEY), { onPhase: false, justSlept: false });
    o.line(3, '}, { signal: sm });');
    o.line(2, '} catch (e) {');
    o.line(3, `log('main', 'horizon ' + fe(e));`);
    o.line(2, '}');
    // main ends alone at an instant of its own: what its body set off has settled by then.
    o.line(2, `await sleep(pd(0, ${this.phaseOf(MAIN_KEY)}), undefined, { signal: sm });`);
    o.line(2, `log('main', 'end');`);
    o.line(1, '};');
    o.line(1, 'try {');
    o.line(2, 'await runVirtual(main, { autojumpThreshold: 0, stallTimeout: 100 });');
    o.line(2, `return 'ok';`);
    o.line(1, '} catch (e) {');
    o.line(2, 'closed = true;');
    o.line(
      2,
      `if ((e as Error).name === 'StallError' || (e as Error).constructor?.name === 'StallError') return 'stuck';`,
    );
    o.line(2, 'return `crash ${String((e as Error).name)}: ${String((e as Error).message)}`;');
    o.line(1, '}');
    o.line(0, '}');
    return o.lines.join('\n');
  }

  private prims(o: Out, i: number): void {
    const p = this.p.prims;
    for (const l of p.locks) o.line(i, `const ${l} = new Lock();`);
    for (const s of p.sems)
      o.line(i, `const ${s.name} = new ${s.bounded ? 'BoundedSemaphore' : 'Semaphore'}(${s.value});`);
    for (const e of p.events) o.line(i, `const ${e} = new Event();`);
    for (const c of p.conds) {
      o.line(i, `const ${c} = new Condition();`);
      o.line(i, `CNT['${c}'] = 0;`);
    }
    for (const b of p.barriers) o.line(i, `const ${b.name} = new Barrier(${b.parties});`);
    const kinds = { fifo: 'Queue', prio: 'PriorityQueue', lifo: 'LifoQueue' };
    for (const qu of p.queues) o.line(i, `const ${qu.name} = new ${kinds[qu.kind]}<number>(${qu.maxsize});`);
  }

  private taskDef(o: Out, def: TaskDef): void {
    const who = def.name;
    const signal = `s_${who}`;
    o.line(1, `const t_${who} = async (${signal}: AbortSignal): Promise<string> => {`);
    o.line(2, 'try {');
    this.body(o, 3, def.body, this.scope(who, signal, def), { onPhase: false, justSlept: false });
    o.line(3, `log('${who}', 'end');`);
    o.line(3, `return 'r:${who}';`);
    o.line(2, '} catch (e) {');
    o.line(3, 'if (e instanceof CancelledError) {');
    o.line(4, `log('${who}', 'cancelled ' + fe(e));`);
    o.line(4, def.onCancel === 'raise' ? 'throw e;' : `return 's:${who}';`);
    o.line(3, '}');
    o.line(3, `log('${who}', 'failed ' + fe(e));`);
    o.line(3, 'throw e;');
    o.line(2, '}');
    o.line(1, '};');
  }

  private body(
    o: Out,
    i: number,
    stmts: Stmt[],
    sc: Scope,
    start: { onPhase: boolean; justSlept: boolean },
  ): void {
    const sleeps = phaseSleeps(stmts, start);
    stmts.forEach((s, j) => {
      if (sleeps[j]) o.line(i, `await sleep(pd(0, ${sc.phase}), undefined, { signal: ${sc.signal} });`);
      this.stmt(o, i, s, sc);
    });
    // A callback made ready last runs before what the end of this body wakes: a task's
    // completion reaches its awaiters through promise reactions in tsaio, before any callback.
    if (stmts.at(-1)?.k === 'callSoon')
      o.line(i, `await sleep(pd(0, ${sc.phase}), undefined, { signal: ${sc.signal} });`);
  }

  private guarded(o: Out, i: number, tag: string, propagate: boolean, sc: Scope, inner: () => void): void {
    const who = sc.who;
    // The message of a cancellation only where it reached a primitive's wait (see python.ts).
    const own = /^(await|gather|wait|waitFor|shield|timeout|group|hold)\b/.test(tag)
      ? ''
      : `, ${sc.signal}.aborted`;
    o.line(i, 'try {');
    inner();
    o.line(i, '} catch (e) {');
    o.line(i + 1, `log('${who}', ${q(tag + ' !')} + fe(e${own}));`);
    o.line(i + 1, propagate ? 'throw e;' : 'if (e instanceof CancelledError) throw e;');
    o.line(i, '}');
  }

  private item(o: Out, i: number, item: Item): string {
    if ('ref' in item) return `T['${item.ref}']!`;
    const name = item.def.name;
    if (item.asBody) return `(s: AbortSignal) => t_${name}(s)`;
    o.line(i, `T['${name}'] = createTask((s) => t_${name}(s), { name: '${name}' });`);
    return `T['${name}']!`;
  }

  private sync(o: Out, i: number, s: SyncStmt, who: string): void {
    const attempt = (tag: string, action: string, done: string): void => {
      o.line(i, 'try {');
      o.line(i + 1, action);
      o.line(i + 1, `log('${who}', ${done});`);
      o.line(i, '} catch (e) {');
      o.line(i + 1, `log('${who}', ${q(tag + ' !')} + fe(e));`);
      o.line(i, '}');
    };
    switch (s.k) {
      case 'probe': {
        const pr = s.probe;
        const tag = q(`probe ${pr.name} `);
        if (pr.of === 'task') o.line(i, `log('${who}', ${tag} + ptask(T, '${pr.name}'));`);
        else if (pr.of === 'queue')
          o.line(i, `log('${who}', ${tag} + ${pr.name}.qsize() + ' ' + fv(${pr.name}.full()));`);
        else if (pr.of === 'lock') o.line(i, `log('${who}', ${tag} + fv(${pr.name}.locked()));`);
        else if (pr.of === 'event') o.line(i, `log('${who}', ${tag} + fv(${pr.name}.isSet()));`);
        else o.line(i, `log('${who}', ${tag} + ${pr.name}.nWaiting + ' ' + fv(${pr.name}.broken));`);
        return;
      }
      case 'cancel': {
        const msg = s.msg === null ? '' : q(s.msg);
        o.line(
          i,
          `log('${who}', 'cancel ${s.target}(${s.msg ?? ''}) ' + ('${s.target}' in T ? fv(T['${s.target}']!.cancel(${msg})) : 'absent'));`,
        );
        return;
      }
      case 'release':
        return attempt(`release ${s.prim}`, `${s.prim}.release();`, q(`release ${s.prim}`));
      case 'evSet':
        o.line(i, `${s.ev}.set();`);
        o.line(i, `log('${who}', 'set ${s.ev}');`);
        return;
      case 'evClear':
        o.line(i, `${s.ev}.clear();`);
        o.line(i, `log('${who}', 'clear ${s.ev}');`);
        return;
      case 'barrierAbort':
        o.line(i, `${s.b}.abort();`);
        o.line(i, `log('${who}', 'abort ${s.b}');`);
        return;
      case 'barrierReset':
        o.line(i, `${s.b}.reset();`);
        o.line(i, `log('${who}', 'reset ${s.b}');`);
        return;
      case 'putNowait':
        return attempt(
          `putNowait ${s.q} ${s.item}`,
          `${s.q}.putNowait(${s.item});`,
          q(`putNowait ${s.q} ${s.item}`),
        );
      case 'getNowait':
        return attempt(`getNowait ${s.q}`, `const v = ${s.q}.getNowait();`, `'getNowait ${s.q} ' + fv(v)`);
      case 'taskDone':
        return attempt(`taskDone ${s.q}`, `${s.q}.taskDone();`, q(`taskDone ${s.q}`));
      case 'shutdown':
        o.line(i, `${s.q}.shutdown(${s.immediate});`);
        o.line(i, `log('${who}', 'shutdown ${s.q}${s.immediate ? ' now' : ''}');`);
        return;
    }
  }

  private stmt(o: Out, i: number, s: Stmt, sc: Scope): void {
    const who = sc.who;
    const sig = `{ signal: ${sc.signal} }`;
    switch (s.k) {
      case 'sleep':
        // A sleep of 0 is one turn of the loop; a longer one ends on the task's phase.
        o.line(i, `await sleep(${s.ms === 0 ? '0' : `pd(${s.ms}, ${sc.phase})`}, undefined, ${sig});`);
        return;
      case 'raise':
        o.line(i, `throw new ${s.cls}(${q(s.msg)});`);
        return;
      case 'spawn':
        o.line(i, `T['${s.def.name}'] = createTask((s) => t_${s.def.name}(s), { name: '${s.def.name}' });`);
        o.line(i, `log('${who}', 'spawn ${s.def.name}');`);
        return;
      case 'await':
        return this.guarded(o, i, `await ${s.target}`, s.propagate, sc, () => {
          o.line(i + 1, `const v = await waitFor(T['${s.target}']!, null, ${sig});`);
          o.line(i + 1, `log('${who}', 'await ${s.target} ' + fv(v));`);
        });
      case 'gather':
        return this.guarded(o, i, 'gather', s.propagate, sc, () => {
          const args = s.items.map((it) => this.item(o, i + 1, it));
          const re = s.returnExceptions ? 'returnExceptions: true, ' : '';
          o.line(i + 1, `const v = await gather([${args.join(', ')}], { ${re}signal: ${sc.signal} });`);
          o.line(i + 1, `log('${who}', 'gather ' + fv(v));`);
        });
      case 'wait':
        return this.guarded(o, i, 'wait', s.propagate, sc, () => {
          const args = s.items.map((it) => this.item(o, i + 1, it));
          const names = s.items.map((it) => ('ref' in it ? it.ref : it.def.name));
          o.line(i + 1, `const ws = [${args.join(', ')}];`);
          o.line(
            i + 1,
            `const { done, pending } = await wait(ws, { timeout: ${this.delay(s.timeout, s)}, returnWhen: '${s.returnWhen}', signal: ${sc.signal} });`,
          );
          o.line(i + 1, `const names = [${names.map(q).join(', ')}];`);
          o.line(
            i + 1,
            `log('${who}', 'wait done=' + names.filter((_, j) => done.has(ws[j]!)).join(',') + ' pending=' + names.filter((_, j) => pending.has(ws[j]!)).join(','));`,
          );
        });
      case 'waitFor':
        return this.guarded(o, i, 'waitFor', s.propagate, sc, () => {
          const arg = this.item(o, i + 1, s.item);
          o.line(i + 1, `const v = await waitFor(${arg}, ${this.delay(s.timeout, s)}, ${sig});`);
          o.line(i + 1, `log('${who}', 'waitFor ' + fv(v));`);
        });
      case 'shield':
        return this.guarded(o, i, 'shield', s.propagate, sc, () => {
          const arg = this.item(o, i + 1, s.item);
          o.line(i + 1, `const v = await waitFor(shield(${arg}), null, ${sig});`);
          o.line(i + 1, `log('${who}', 'shield ' + fv(v));`);
        });
      case 'timeout': {
        const k = ++this.n;
        const cm = `cm${k}`;
        const signal = `s${k}`;
        return this.guarded(o, i, 'timeout', s.propagate, sc, () => {
          o.line(i + 1, `const ${cm}: { c: Timeout | null } = { c: null };`);
          o.line(i + 1, `await timeout(${this.delay(s.ms, s)}, async (${signal}, c) => {`);
          o.line(i + 2, `${cm}.c = c;`);
          this.body(
            o,
            i + 2,
            s.body,
            { ...sc, signal, cm, cmPhase: this.phaseOf(s) },
            { onPhase: true, justSlept: false },
          );
          o.line(i + 1, `}, ${sig});`);
          o.line(i + 1, `log('${who}', 'timeout ok ' + fv(${cm}.c!.expired()));`);
        });
      }
      case 'reschedule': {
        if (sc.cm === null) throw new Error('oracle: reschedule outside a timeout');
        const now = 'getRunningLoop().time()';
        const when =
          s.delta === null ? 'null' : s.delta === 0 ? now : `${now} + pd(${s.delta}, ${sc.cmPhase})`;
        o.line(i, 'try {');
        o.line(i + 1, `${sc.cm}.c!.reschedule(${when});`);
        o.line(i + 1, `log('${who}', 'reschedule ${s.delta ?? 'none'}');`);
        o.line(i, '} catch (e) {');
        o.line(i + 1, `log('${who}', 'reschedule !' + fe(e));`);
        o.line(i, '}');
        return;
      }
      case 'taskGroup': {
        const k = ++this.n;
        const tg = `tg${k}`;
        const signal = `s${k}`;
        return this.guarded(o, i, 'group', s.propagate, sc, () => {
          o.line(i + 1, `await taskGroup(async (${tg}, ${signal}) => {`);
          this.body(o, i + 2, s.body, { ...sc, signal, tg }, { onPhase: true, justSlept: false });
          o.line(i + 1, `}, ${sig});`);
          o.line(i + 1, `log('${who}', 'group ok');`);
        });
      }
      case 'tgSpawn': {
        if (sc.tg === null) throw new Error('oracle: tgSpawn outside a task group');
        const name = s.def.name;
        o.line(i, 'try {');
        o.line(i + 1, `T['${name}'] = ${sc.tg}.createTask((s) => t_${name}(s), { name: '${name}' });`);
        o.line(i + 1, `log('${who}', 'tgspawn ${name}');`);
        o.line(i, '} catch (e) {');
        o.line(i + 1, `log('${who}', 'tgspawn ${name} !' + fe(e));`);
        o.line(i, '}');
        return;
      }
      case 'hold':
        holdKind(this.p.prims, s.prim);
        return this.guarded(o, i, `hold ${s.prim}`, s.propagate, sc, () => {
          if (s.form === 'run') {
            o.line(i + 1, `await ${s.prim}.run(async () => {`);
            o.line(i + 2, `log('${who}', 'hold ${s.prim}');`);
            this.body(o, i + 2, s.body, sc, { onPhase: false, justSlept: false });
            o.line(i + 1, `}, ${sig});`);
          } else {
            const h = `h${++this.n}`;
            o.line(i + 1, `const ${h} = await ${s.prim}.acquire(${sig});`);
            o.line(i + 1, 'try {');
            o.line(i + 2, `log('${who}', 'hold ${s.prim}');`);
            this.body(o, i + 2, s.body, sc, { onPhase: false, justSlept: false });
            o.line(i + 1, '} finally {');
            o.line(i + 2, `${h}.release();`);
            o.line(i + 1, '}');
          }
          o.line(i + 1, `log('${who}', 'unhold ${s.prim}');`);
        });
      case 'evWait':
        return this.guarded(o, i, `evWait ${s.ev}`, s.propagate, sc, () => {
          o.line(i + 1, `const v = await ${s.ev}.wait(${sig});`);
          o.line(i + 1, `log('${who}', 'evWait ${s.ev} ' + fv(v));`);
        });
      case 'condWait':
        return this.holdingCond(o, i, s.cond, `condWait ${s.cond}`, s.propagate, sc, () => {
          o.line(i + 2, `const v = await ${s.cond}.wait(${sig});`);
          o.line(i + 2, `log('${who}', 'condWait ${s.cond} ' + fv(v));`);
        });
      case 'condWaitFor':
        return this.holdingCond(o, i, s.cond, `condWaitFor ${s.cond}`, s.propagate, sc, () => {
          o.line(
            i + 2,
            `const v = await ${s.cond}.waitFor(() => CNT['${s.cond}']! >= ${s.atLeast}, ${sig});`,
          );
          o.line(i + 2, `log('${who}', 'condWaitFor ${s.cond} ' + fv(v));`);
        });
      case 'condNotify':
        return this.holdingCond(o, i, s.cond, `notify ${s.cond}`, s.propagate, sc, () => {
          if (s.bump) o.line(i + 2, `CNT['${s.cond}'] = CNT['${s.cond}']! + 1;`);
          o.line(i + 2, s.n === 'all' ? `${s.cond}.notifyAll();` : `${s.cond}.notify(${s.n});`);
          o.line(i + 2, `log('${who}', 'notify ${s.cond} ${s.n}');`);
        });
      case 'barrierWait':
        return this.guarded(o, i, `barrier ${s.b}`, s.propagate, sc, () => {
          o.line(i + 1, `const v = await ${s.b}.wait(${sig});`);
          o.line(i + 1, `log('${who}', 'barrier ${s.b} ' + fv(v));`);
        });
      case 'put':
        return this.guarded(o, i, `put ${s.q} ${s.item}`, s.propagate, sc, () => {
          o.line(i + 1, `await ${s.q}.put(${s.item}, ${sig});`);
          o.line(i + 1, `log('${who}', 'put ${s.q} ${s.item}');`);
        });
      case 'get':
        return this.guarded(o, i, `get ${s.q}`, s.propagate, sc, () => {
          o.line(i + 1, `const v = await ${s.q}.get(${sig});`);
          o.line(i + 1, `log('${who}', 'get ${s.q} ' + fv(v));`);
        });
      case 'join':
        return this.guarded(o, i, `join ${s.q}`, s.propagate, sc, () => {
          o.line(i + 1, `await ${s.q}.join(${sig});`);
          o.line(i + 1, `log('${who}', 'join ${s.q}');`);
        });
      case 'callSoon':
        o.line(i, `getRunningLoop().callSoon(cb_${s.label});`);
        return;
      case 'callLater':
        o.line(i, `getRunningLoop().callLater(${this.delay(s.ms, s)}, cb_${s.label});`);
        return;
      default:
        return this.sync(o, i, s, who);
    }
  }

  /** `async with cond:` around `inner`, as `acquire({ signal })` and `try/finally`. */
  private holdingCond(
    o: Out,
    i: number,
    cond: string,
    tag: string,
    propagate: boolean,
    sc: Scope,
    inner: () => void,
  ): void {
    this.guarded(o, i, tag, propagate, sc, () => {
      const h = `h${++this.n}`;
      o.line(i + 1, `const ${h} = await ${cond}.acquire({ signal: ${sc.signal} });`);
      o.line(i + 1, 'try {');
      inner();
      o.line(i + 1, '} finally {');
      o.line(i + 2, `${h}.release();`);
      o.line(i + 1, '}');
    });
  }
}

/** The TypeScript function `prog_<id>` for `program`. */
export function emitTypeScript(program: Program, id: string): string {
  return new TsEmitter(program).program(id);
}
