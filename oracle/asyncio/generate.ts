/**
 * The seeded generator of random programs. The same seed gives the same
 * program. Programs are bounded (a statement budget, no loops, `main` under
 * a timeout of `horizon`) and avoid what the two sides leave unspecified:
 * no runtime names or ids are printed, no task awaits itself or one that
 * could await it back, no task cancels itself.
 *
 * @module
 */

import {
  ERROR_CLASSES,
  type Item,
  type Prims,
  type Probe,
  type Program,
  type QueueKind,
  type ReturnWhen,
  type Stmt,
  type SyncStmt,
  type TaskDef,
} from './ast.js';

/** A small fast seeded PRNG (mulberry32). */
export class Rng {
  private _s: number;
  constructor(seed: number) {
    this._s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this._s = (this._s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Partial<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    let total = 0;
    for (const [, w] of entries) total += w;
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }
}

interface Ctx {
  /** The task whose body this is. */
  self: string;
  /** Nesting of compound statements in this body. */
  depth: number;
  /** How many task definitions enclose this one. */
  taskDepth: number;
  /** Tasks spawned earlier in this body (and the bodies around it in the same task): safe to await. */
  spawned: string[];
  inTimeout: boolean;
  inGroup: boolean;
  /** Primitives this body holds now (never acquired again: that would wait for ever). */
  held: string[];
}

class Generator {
  private readonly rng: Rng;
  private budget = 40;
  private taskCount = 0;
  private inlineCount = 0;
  private labelCount = 0;
  private itemCount = 0;
  /** Every task name registered so far: cancel targets. */
  private readonly names: string[] = [];
  private readonly prims: Prims;

  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.prims = this.makePrims();
  }

  program(seed: number): Program {
    const ctx: Ctx = {
      self: 'main',
      depth: 0,
      taskDepth: 0,
      spawned: [],
      inTimeout: false,
      inGroup: false,
      held: [],
    };
    // A few tasks first, so that most programs have several at work on the same primitives.
    const main: Stmt[] = [];
    for (let i = this.rng.int(1, 3); i > 0; i--) main.push(this.spawn(ctx));
    main.push(...this.body(ctx, this.rng.int(3, 8)));
    // Most programs then wait for what they started, as a program would before it returns.
    if (ctx.spawned.length > 0 && this.rng.chance(0.7)) {
      main.push({
        k: 'gather',
        items: ctx.spawned.map((ref) => ({ ref })),
        returnExceptions: true,
        propagate: false,
      });
    }
    return { seed, prims: this.prims, main, horizon: 40 };
  }

  private spawn(ctx: Ctx): Stmt {
    const def = this.taskDef(ctx, 't');
    this.names.push(def.name);
    ctx.spawned.push(def.name);
    return { k: 'spawn', def };
  }

  /** Two or three kinds of primitive, one of each (sometimes two): each is shared by several tasks. */
  private makePrims(): Prims {
    const r = this.rng;
    const kinds = ['lock', 'sem', 'event', 'cond', 'barrier', 'queue'] as const;
    const chosen = new Set<(typeof kinds)[number]>();
    const want = r.int(2, 3);
    while (chosen.size < want) chosen.add(r.pick(kinds));
    const n = (kind: (typeof kinds)[number]): number => (chosen.has(kind) ? (r.chance(0.25) ? 2 : 1) : 0);
    const queueKinds: QueueKind[] = ['fifo', 'prio', 'lifo'];
    return {
      locks: Array.from({ length: n('lock') }, (_, i) => `L${i}`),
      sems: Array.from({ length: n('sem') }, (_, i) => ({
        name: `S${i}`,
        value: r.int(1, 2),
        bounded: r.chance(0.5),
      })),
      events: Array.from({ length: n('event') }, (_, i) => `E${i}`),
      conds: Array.from({ length: n('cond') }, (_, i) => `C${i}`),
      barriers: Array.from({ length: n('barrier') }, (_, i) => ({ name: `B${i}`, parties: r.int(2, 3) })),
      queues: Array.from({ length: n('queue') }, (_, i) => ({
        name: `Q${i}`,
        kind: r.pick(queueKinds),
        maxsize: r.int(0, 2),
      })),
    };
  }

  private body(ctx: Ctx, length: number): Stmt[] {
    const out: Stmt[] = [];
    for (let i = 0; i < length && this.budget > 0; i++) {
      this.budget--;
      const s = this.stmt(ctx);
      out.push(s);
      if (s.k === 'raise') break; // nothing after it would run
    }
    return out;
  }

  private ms(lo = 1, hi = 12): number {
    return this.rng.chance(0.08) ? 0 : this.rng.int(lo, hi);
  }

  private maybeTimeout(): number | null {
    return this.rng.chance(0.25) ? null : this.rng.chance(0.1) ? 0 : this.rng.int(1, 15);
  }

  private guard(): { propagate: boolean } {
    return { propagate: this.rng.chance(0.2) };
  }

  private stmt(ctx: Ctx): Stmt {
    const r = this.rng;
    const p = this.prims;
    const deep = ctx.depth >= 2 || this.budget < 4;
    const canTask = ctx.taskDepth < 2 && this.taskCount < 6 && !deep;
    const holdable = [...p.locks, ...p.sems.map((s) => s.name), ...p.conds].filter(
      (x) => !ctx.held.includes(x),
    );
    const conds = p.conds.filter((c) => !ctx.held.includes(c));
    const weights: Record<string, number> = {
      sleep: 6,
      sync: 5,
      raise: 1,
      spawn: canTask ? 4 : 0,
      await: ctx.spawned.length > 0 ? 3 : 0,
      gather: !deep ? 2 : 0,
      wait: !deep ? 2 : 0,
      waitFor: !deep ? 2 : 0,
      shield: !deep ? 1 : 0,
      timeout: !deep ? 3 : 0,
      reschedule: ctx.inTimeout ? 1 : 0,
      taskGroup: !deep && ctx.taskDepth < 2 ? 2 : 0,
      tgSpawn: ctx.inGroup && canTask ? 3 : 0,
      hold: !deep && holdable.length > 0 ? 3 : 0,
      evWait: p.events.length > 0 ? 2 : 0,
      cond: conds.length > 0 ? 2 : 0,
      barrierWait: p.barriers.length > 0 ? 2 : 0,
      put: p.queues.length > 0 ? 2 : 0,
      get: p.queues.length > 0 ? 2 : 0,
      join: p.queues.length > 0 ? 1 : 0,
      callback: 1,
    };
    switch (r.weighted(weights)) {
      case 'sleep':
        return { k: 'sleep', ms: this.ms() };
      case 'raise':
        return { k: 'raise', cls: r.pick(ERROR_CLASSES), msg: `m${r.int(1, 9)}` };
      case 'spawn':
        return this.spawn(ctx);
      case 'await': {
        const target = r.pick(ctx.spawned);
        return { k: 'await', target, ...this.guard() };
      }
      case 'gather':
        return {
          k: 'gather',
          items: this.items(ctx, r.int(1, 3), true),
          returnExceptions: r.chance(0.5),
          ...this.guard(),
        };
      case 'wait':
        return {
          k: 'wait',
          items: this.items(ctx, r.int(1, 3), false),
          returnWhen: r.pick<ReturnWhen>(['ALL_COMPLETED', 'FIRST_COMPLETED', 'FIRST_EXCEPTION']),
          timeout: this.maybeTimeout(),
          ...this.guard(),
        };
      case 'waitFor':
        return {
          k: 'waitFor',
          item: this.items(ctx, 1, true)[0]!,
          timeout: this.maybeTimeout(),
          ...this.guard(),
        };
      case 'shield':
        return { k: 'shield', item: this.items(ctx, 1, true)[0]!, ...this.guard() };
      case 'timeout': {
        const inner = { ...ctx, depth: ctx.depth + 1, inTimeout: true, spawned: [...ctx.spawned] };
        return {
          k: 'timeout',
          ms: this.maybeTimeout(),
          body: this.body(inner, r.int(1, 4)),
          ...this.guard(),
        };
      }
      case 'reschedule':
        return { k: 'reschedule', delta: r.chance(0.2) ? null : r.int(0, 15) };
      case 'taskGroup': {
        const inner = { ...ctx, depth: ctx.depth + 1, inGroup: true, spawned: [...ctx.spawned] };
        const body = this.body(inner, r.int(1, 4));
        if (!body.some((s) => s.k === 'tgSpawn') && this.taskCount < 6) {
          const def = this.taskDef(inner, 'c');
          this.names.push(def.name);
          body.unshift({ k: 'tgSpawn', def });
        }
        return { k: 'taskGroup', body, ...this.guard() };
      }
      case 'tgSpawn': {
        const def = this.taskDef(ctx, 'c');
        this.names.push(def.name);
        return { k: 'tgSpawn', def };
      }
      case 'hold': {
        const prim = r.pick(holdable);
        const inner = { ...ctx, depth: ctx.depth + 1, held: [...ctx.held, prim], spawned: [...ctx.spawned] };
        const body = this.body(inner, r.int(1, 3));
        return { k: 'hold', prim, form: r.chance(0.5) ? 'run' : 'acquire', body, ...this.guard() };
      }
      case 'evWait':
        return { k: 'evWait', ev: r.pick(p.events), ...this.guard() };
      case 'cond': {
        const cond = r.pick(conds);
        const which = r.weighted({ wait: 2, waitFor: 1, notify: 3 });
        if (which === 'wait') return { k: 'condWait', cond, ...this.guard() };
        if (which === 'waitFor') return { k: 'condWaitFor', cond, atLeast: r.int(1, 2), ...this.guard() };
        return {
          k: 'condNotify',
          cond,
          n: r.chance(0.3) ? 'all' : r.int(0, 2),
          bump: r.chance(0.6),
          ...this.guard(),
        };
      }
      case 'barrierWait':
        return { k: 'barrierWait', b: r.pick(p.barriers).name, ...this.guard() };
      case 'put':
        return { k: 'put', q: r.pick(p.queues).name, item: this.nextItem(), ...this.guard() };
      case 'get':
        return { k: 'get', q: r.pick(p.queues).name, ...this.guard() };
      case 'join':
        return { k: 'join', q: r.pick(p.queues).name, ...this.guard() };
      case 'callback': {
        const action = Array.from({ length: r.int(1, 2) }, () => this.syncStmt(ctx, true));
        const label = `k${++this.labelCount}`;
        return r.chance(0.4)
          ? { k: 'callSoon', label, action }
          : { k: 'callLater', ms: r.int(1, 12), label, action };
      }
      default:
        return this.syncStmt(ctx);
    }
  }

  private nextItem(): number {
    return ++this.itemCount * 10 + this.rng.int(0, 9);
  }

  private syncStmt(ctx: Ctx, inCallback = false): SyncStmt {
    const r = this.rng;
    const p = this.prims;
    const targets = this.names.filter((n) => n !== ctx.self);
    const releasable = [...p.locks, ...p.sems.map((s) => s.name)];
    const weights: Record<string, number> = {
      probe: 3,
      cancel: targets.length > 0 ? 5 : 0,
      release: releasable.length > 0 ? 1 : 0,
      evSet: p.events.length > 0 ? 3 : 0,
      evClear: p.events.length > 0 ? 1 : 0,
      barrierAbort: p.barriers.length > 0 && !inCallback ? 0.5 : 0,
      barrierReset: p.barriers.length > 0 && !inCallback ? 0.5 : 0,
      putNowait: p.queues.length > 0 ? 2 : 0,
      getNowait: p.queues.length > 0 ? 2 : 0,
      taskDone: p.queues.length > 0 ? 1 : 0,
      shutdown: p.queues.length > 0 ? 0.7 : 0,
    };
    switch (r.weighted(weights)) {
      case 'cancel':
        return { k: 'cancel', target: r.pick(targets), msg: r.chance(0.5) ? null : `c${r.int(1, 9)}` };
      case 'release':
        return { k: 'release', prim: r.pick(releasable) };
      case 'evSet':
        return { k: 'evSet', ev: r.pick(p.events) };
      case 'evClear':
        return { k: 'evClear', ev: r.pick(p.events) };
      case 'barrierAbort':
        return { k: 'barrierAbort', b: r.pick(p.barriers).name };
      case 'barrierReset':
        return { k: 'barrierReset', b: r.pick(p.barriers).name };
      case 'putNowait':
        return { k: 'putNowait', q: r.pick(p.queues).name, item: this.nextItem() };
      case 'getNowait':
        return { k: 'getNowait', q: r.pick(p.queues).name };
      case 'taskDone':
        return { k: 'taskDone', q: r.pick(p.queues).name };
      case 'shutdown':
        return { k: 'shutdown', q: r.pick(p.queues).name, immediate: r.chance(0.5) };
      default:
        return { k: 'probe', probe: this.probe(ctx) };
    }
  }

  private probe(ctx: Ctx): Probe {
    const r = this.rng;
    const p = this.prims;
    const options: Array<() => Probe> = [];
    const tasks = this.names.filter((n) => n !== ctx.self);
    if (tasks.length > 0) options.push(() => ({ of: 'task', name: r.pick(tasks) }));
    if (p.queues.length > 0) options.push(() => ({ of: 'queue', name: r.pick(p.queues).name }));
    // locked() of a lock, a semaphore (CPython's also counts waiters not yet resumed) or a condition.
    const lockables = [...p.locks, ...p.sems.map((x) => x.name), ...p.conds];
    if (lockables.length > 0) options.push(() => ({ of: 'lock', name: r.pick(lockables) }));
    if (p.events.length > 0) options.push(() => ({ of: 'event', name: r.pick(p.events) }));
    if (p.barriers.length > 0) options.push(() => ({ of: 'barrier', name: r.pick(p.barriers).name }));
    if (options.length === 0) return { of: 'task', name: ctx.self === 'main' ? 'main' : ctx.self };
    return r.pick(options)();
  }

  private taskDef(ctx: Ctx, prefix: string): TaskDef {
    const name = `${prefix}${++this.taskCount}`;
    const inner: Ctx = {
      self: name,
      depth: 0,
      taskDepth: ctx.taskDepth + 1,
      spawned: [],
      inTimeout: false,
      inGroup: false,
      held: [],
    };
    const body = this.body(inner, this.rng.int(2, 6));
    return { name, body, onCancel: this.rng.chance(0.08) ? 'swallow' : 'raise' };
  }

  private items(ctx: Ctx, n: number, allowBody: boolean): Item[] {
    const out: Item[] = [];
    const refs = ctx.spawned.filter((x) => !out.some((i) => 'ref' in i && i.ref === x));
    for (let i = 0; i < n; i++) {
      const free = refs.filter((x) => !out.some((o) => 'ref' in o && o.ref === x));
      if (free.length > 0 && this.rng.chance(0.4)) {
        out.push({ ref: this.rng.pick(free) });
        continue;
      }
      const name = `i${++this.inlineCount}`;
      const inner: Ctx = {
        self: name,
        depth: 0,
        taskDepth: ctx.taskDepth + 1,
        spawned: [],
        inTimeout: false,
        inGroup: false,
        held: [],
      };
      const def: TaskDef = {
        name,
        body: this.body(inner, this.rng.int(1, 3)),
        onCancel: this.rng.chance(0.08) ? 'swallow' : 'raise',
      };
      const asBody = allowBody && this.rng.chance(0.5);
      if (!asBody) this.names.push(name);
      out.push({ def, asBody });
    }
    return out;
  }
}

/** The program of `seed`. */
export function generate(seed: number): Program {
  return new Generator(seed).program(seed);
}
