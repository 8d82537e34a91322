/**
 * Shrinks a program whose traces differ: removes statements, tasks, items
 * and callback actions, inlines blocks, drops options and lowers numbers,
 * while the difference persists, one step at a time, greedily. The
 * candidates of a step are run in batches (one process per side per batch).
 *
 * @module
 */

import type { Item, Program, Prims, Stmt, SyncStmt, TaskDef } from './ast.js';
import { defsOf, size } from './walk.js';

/** A smaller-is-better measure: statements first, then flags and numbers. */
export function measure(p: Program): number {
  let extra = 0;
  const visitBody = (body: Stmt[]): void => {
    for (const s of body) {
      const rec = s as unknown as Record<string, unknown>;
      for (const key of ['ms', 'timeout', 'delta', 'n', 'atLeast']) {
        const v = rec[key];
        if (typeof v === 'number') extra += v + 1;
      }
      if (rec.propagate === true) extra += 3;
      if (rec.form === 'run') extra += 1;
      if (s.k === 'cancel' && s.msg !== null) extra += 1;
      if (s.k === 'gather' && s.returnExceptions) extra += 1;
      if ((s.k === 'gather' || s.k === 'wait') && s.items.length > 0) extra += s.items.length * 5;
      for (const def of defsOf(s)) {
        if (def.onCancel === 'swallow') extra += 2;
        visitBody(def.body);
      }
      if (s.k === 'gather' || s.k === 'wait' || s.k === 'waitFor' || s.k === 'shield') {
        const items = s.k === 'gather' || s.k === 'wait' ? s.items : [s.item];
        for (const it of items) if ('def' in it && it.asBody) extra += 1;
      }
      if (s.k === 'timeout' || s.k === 'taskGroup' || s.k === 'hold') visitBody(s.body);
    }
  };
  visitBody(p.main);
  return size(p.main) * 1000 + extra;
}

const clone = <T>(x: T): T => structuredClone(x);

function* removals<T>(xs: T[], keepOne: boolean): Generator<T[]> {
  if (keepOne && xs.length <= 1) return;
  for (let i = 0; i < xs.length; i++) yield [...xs.slice(0, i), ...xs.slice(i + 1)];
}

function* lower(n: number): Generator<number> {
  if (n > 0) yield 0;
  if (n > 2) yield Math.floor(n / 2);
  if (n > 1) yield n - 1;
}

function* defVariants(def: TaskDef): Generator<TaskDef> {
  if (def.onCancel === 'swallow') yield { ...def, onCancel: 'raise' };
  for (const body of bodyVariants(def.body)) yield { ...def, body };
}

function* itemVariants(item: Item): Generator<Item> {
  if ('ref' in item) return;
  if (item.asBody) yield { ...item, asBody: false };
  for (const def of defVariants(item.def)) yield { ...item, def };
}

function* itemsVariants(items: Item[]): Generator<Item[]> {
  yield* removals(items, true);
  for (let i = 0; i < items.length; i++) {
    for (const v of itemVariants(items[i]!)) yield items.map((x, j) => (j === i ? v : x));
  }
}

function* actionVariants(action: SyncStmt[]): Generator<SyncStmt[]> {
  yield* removals(action, true);
}

/** Every one-step simplification of a statement (it stays a statement). */
function* stmtVariants(s: Stmt): Generator<Stmt> {
  if ('propagate' in s && s.propagate) yield { ...s, propagate: false };
  switch (s.k) {
    case 'sleep':
      for (const ms of lower(s.ms)) yield { ...s, ms };
      return;
    case 'cancel':
      if (s.msg !== null) yield { ...s, msg: null };
      return;
    case 'spawn':
    case 'tgSpawn':
      for (const def of defVariants(s.def)) yield { ...s, def };
      return;
    case 'gather':
      if (s.returnExceptions) yield { ...s, returnExceptions: false };
      for (const items of itemsVariants(s.items)) yield { ...s, items };
      return;
    case 'wait':
      if (s.timeout !== null) yield { ...s, timeout: null };
      if (s.timeout !== null) for (const t of lower(s.timeout)) yield { ...s, timeout: t };
      if (s.returnWhen !== 'ALL_COMPLETED') yield { ...s, returnWhen: 'ALL_COMPLETED' };
      for (const items of itemsVariants(s.items)) yield { ...s, items };
      return;
    case 'waitFor':
      if (s.timeout !== null) yield { ...s, timeout: null };
      if (s.timeout !== null) for (const t of lower(s.timeout)) yield { ...s, timeout: t };
      for (const item of itemVariants(s.item)) yield { ...s, item };
      return;
    case 'shield':
      for (const item of itemVariants(s.item)) yield { ...s, item };
      return;
    case 'timeout':
      if (s.ms !== null) yield { ...s, ms: null };
      if (s.ms !== null) for (const ms of lower(s.ms)) yield { ...s, ms };
      for (const body of bodyVariants(s.body)) yield { ...s, body };
      return;
    case 'reschedule':
      if (s.delta !== null) for (const delta of lower(s.delta)) yield { ...s, delta };
      return;
    case 'taskGroup':
      for (const body of bodyVariants(s.body)) yield { ...s, body };
      return;
    case 'hold':
      if (s.form === 'run') yield { ...s, form: 'acquire' };
      for (const body of bodyVariants(s.body)) yield { ...s, body };
      return;
    case 'condNotify':
      if (s.n !== 'all') for (const n of lower(s.n)) yield { ...s, n };
      if (s.bump) yield { ...s, bump: false };
      return;
    case 'condWaitFor':
      if (s.atLeast > 1) yield { ...s, atLeast: s.atLeast - 1 };
      return;
    case 'callLater':
      for (const ms of lower(s.ms)) if (ms > 0) yield { ...s, ms };
      for (const action of actionVariants(s.action)) yield { ...s, action };
      if (s.action.length === 1) yield { k: 'callSoon', label: s.label, action: s.action };
      return;
    case 'callSoon':
      for (const action of actionVariants(s.action)) yield { ...s, action };
      return;
    default:
      return;
  }
}

/** Every one-step simplification of a body: a statement removed, a block inlined, a statement simplified. */
function* bodyVariants(body: Stmt[]): Generator<Stmt[]> {
  yield* removals(body, false);
  for (let i = 0; i < body.length; i++) {
    const s = body[i]!;
    // A timeout or a lock block replaced by its body (a reschedule or group spawn inside stays checked by `valid`).
    if (s.k === 'timeout' || s.k === 'hold') yield [...body.slice(0, i), ...s.body, ...body.slice(i + 1)];
    for (const v of stmtVariants(s)) yield body.map((x, j) => (j === i ? v : x));
  }
}

/** Whether a program is well-formed: every reference to a task, a timeout or a group is in scope. */
export function valid(p: Program): boolean {
  const names = new Set<string>();
  const ok = (body: Stmt[], spawned: Set<string>, inTimeout: boolean, inGroup: boolean): boolean => {
    const here = new Set(spawned);
    for (const s of body) {
      for (const def of defsOf(s)) {
        if (names.has(def.name)) return false;
        names.add(def.name);
        if (!ok(def.body, new Set(), false, false)) return false;
      }
      switch (s.k) {
        case 'reschedule':
          if (!inTimeout) return false;
          break;
        case 'tgSpawn':
          if (!inGroup) return false;
          break;
        case 'await':
          if (!here.has(s.target)) return false;
          break;
        case 'gather':
        case 'wait':
        case 'waitFor':
        case 'shield': {
          const items = s.k === 'gather' || s.k === 'wait' ? s.items : [s.item];
          if (items.length === 0) return false;
          for (const it of items) if ('ref' in it && !here.has(it.ref)) return false;
          break;
        }
        case 'timeout':
          if (!ok(s.body, here, true, inGroup)) return false;
          break;
        case 'taskGroup':
          if (!ok(s.body, here, inTimeout, true)) return false;
          break;
        case 'hold':
          if (!ok(s.body, here, inTimeout, inGroup)) return false;
          break;
        default:
          break;
      }
      if (s.k === 'spawn') here.add(s.def.name);
    }
    return true;
  };
  return ok(p.main, new Set(), false, false);
}

/** The one-step simplifications of `p` that are well-formed and smaller, smallest first. */
export function candidates(p: Program): Program[] {
  const m = measure(p);
  const out: Array<{ p: Program; m: number }> = [];
  const seen = new Set<string>();
  for (const main of bodyVariants(p.main)) {
    const c: Program = { ...p, main: clone(main) };
    if (!valid(c)) continue;
    const cm = measure(c);
    if (cm >= m) continue;
    const key = JSON.stringify(c.main);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ p: c, m: cm });
  }
  out.sort((a, b) => a.m - b.m);
  return out.map((x) => x.p);
}

/** The primitives `p` uses; the others are dropped from its declaration. */
export function prune(p: Program): Program {
  const text = JSON.stringify(p.main);
  const used = (name: string): boolean => text.includes(`"${name}"`);
  const prims: Prims = {
    locks: p.prims.locks.filter(used),
    sems: p.prims.sems.filter((s) => used(s.name)),
    events: p.prims.events.filter(used),
    conds: p.prims.conds.filter(used),
    barriers: p.prims.barriers.filter((b) => used(b.name)),
    queues: p.prims.queues.filter((q) => used(q.name)),
  };
  return { ...p, prims };
}

/** Shrinks `p` while `differs` holds, trying candidates in batches; stops after `deadline` (ms, performance.now()). */
export async function shrink(
  p: Program,
  differs: (batch: Program[]) => Promise<number>,
  deadline: number,
  batchSize = 48,
): Promise<Program> {
  let current = p;
  outer: while (performance.now() < deadline) {
    const cands = candidates(current);
    for (let i = 0; i < cands.length; i += batchSize) {
      if (performance.now() >= deadline) break outer;
      const batch = cands.slice(i, i + batchSize);
      const hit = await differs(batch);
      if (hit >= 0) {
        current = batch[hit]!;
        continue outer;
      }
    }
    break;
  }
  return prune(current);
}
