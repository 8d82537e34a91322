/**
 * A program as short Python-like text, for reports: the statements without
 * the logging, the guards and the phase sleeps that the emitters add
 * (`emitPython`, `emitTypeScript` give the programs that run). Each guarded
 * statement logs its outcome; `[raise]` marks one that re-raises a failure
 * after logging it (a cancellation always is); a task `swallows` a
 * cancellation when it returns instead of re-raising it.
 *
 * @module
 */

import type { Item, Program, Stmt, SyncStmt, TaskDef } from './ast.js';

const pad = (n: number): string => '    '.repeat(n);

function opts(s: { propagate?: boolean }): string {
  return s.propagate === true ? ' [raise]' : '';
}

function taskLines(def: TaskDef, depth: number, head: string): string[] {
  const swallow = def.onCancel === 'swallow' ? ' (swallows a cancellation)' : '';
  return [`${pad(depth)}${head}${def.name}${swallow}:`, ...bodyLines(def.body, depth + 1)];
}

function itemLines(items: Item[], depth: number): string[] {
  return items.flatMap((it) =>
    'ref' in it ? [`${pad(depth)}${it.ref}`] : taskLines(it.def, depth, it.asBody ? 'coroutine ' : 'task '),
  );
}

function syncText(s: SyncStmt): string {
  switch (s.k) {
    case 'probe':
      return `probe ${s.probe.of} ${s.probe.name}`;
    case 'cancel':
      return `${s.target}.cancel(${s.msg === null ? '' : JSON.stringify(s.msg)})`;
    case 'release':
      return `${s.prim}.release()`;
    case 'evSet':
      return `${s.ev}.set()`;
    case 'evClear':
      return `${s.ev}.clear()`;
    case 'barrierAbort':
      return `await ${s.b}.abort()`;
    case 'barrierReset':
      return `await ${s.b}.reset()`;
    case 'putNowait':
      return `${s.q}.put_nowait(${s.item})`;
    case 'getNowait':
      return `${s.q}.get_nowait()`;
    case 'taskDone':
      return `${s.q}.task_done()`;
    case 'shutdown':
      return `${s.q}.shutdown(immediate=${s.immediate ? 'True' : 'False'})`;
  }
}

function stmtLines(s: Stmt, d: number): string[] {
  const line = (text: string): string[] => [`${pad(d)}${text}`];
  switch (s.k) {
    case 'sleep':
      return line(`await sleep(${s.ms})`);
    case 'raise':
      return line(`raise ${s.cls}(${JSON.stringify(s.msg)})`);
    case 'spawn':
      return taskLines(s.def, d, 'spawn ');
    case 'tgSpawn':
      return taskLines(s.def, d, 'tg.create_task ');
    case 'await':
      return line(`await ${s.target}${opts(s)}`);
    case 'gather':
      return [
        `${pad(d)}await gather(${s.returnExceptions ? 'return_exceptions=True' : ''})${opts(s)} of:`,
        ...itemLines(s.items, d + 1),
      ];
    case 'wait':
      return [
        `${pad(d)}await wait(timeout=${s.timeout ?? 'None'}, return_when=${s.returnWhen})${opts(s)} of:`,
        ...itemLines(s.items, d + 1),
      ];
    case 'waitFor':
      return [
        `${pad(d)}await wait_for(timeout=${s.timeout ?? 'None'})${opts(s)} of:`,
        ...itemLines([s.item], d + 1),
      ];
    case 'shield':
      return [`${pad(d)}await shield()${opts(s)} of:`, ...itemLines([s.item], d + 1)];
    case 'timeout':
      return [`${pad(d)}async with timeout(${s.ms ?? 'None'})${opts(s)}:`, ...bodyLines(s.body, d + 1)];
    case 'reschedule':
      return line(`timeout.reschedule(${s.delta === null ? 'None' : `now + ${s.delta}`})`);
    case 'taskGroup':
      return [`${pad(d)}async with TaskGroup() as tg${opts(s)}:`, ...bodyLines(s.body, d + 1)];
    case 'hold':
      return [`${pad(d)}async with ${s.prim}${opts(s)}:`, ...bodyLines(s.body, d + 1)];
    case 'evWait':
      return line(`await ${s.ev}.wait()${opts(s)}`);
    case 'condWait':
      return line(`async with ${s.cond}: await ${s.cond}.wait()${opts(s)}`);
    case 'condWaitFor':
      return line(`async with ${s.cond}: await ${s.cond}.wait_for(count >= ${s.atLeast})${opts(s)}`);
    case 'condNotify':
      return line(
        `async with ${s.cond}: ${s.bump ? 'count += 1; ' : ''}${s.cond}.${s.n === 'all' ? 'notify_all()' : `notify(${s.n})`}${opts(s)}`,
      );
    case 'barrierWait':
      return line(`await ${s.b}.wait()${opts(s)}`);
    case 'put':
      return line(`await ${s.q}.put(${s.item})${opts(s)}`);
    case 'get':
      return line(`await ${s.q}.get()${opts(s)}`);
    case 'join':
      return line(`await ${s.q}.join()${opts(s)}`);
    case 'callSoon':
    case 'callLater': {
      const when = s.k === 'callSoon' ? 'call_soon' : `call_later(${s.ms})`;
      return [`${pad(d)}loop.${when}: ${s.label}`, ...s.action.map((a) => `${pad(d + 1)}${syncText(a)}`)];
    }
    default:
      return line(syncText(s));
  }
}

function bodyLines(body: Stmt[], depth: number): string[] {
  return body.length === 0 ? [`${pad(depth)}pass`] : body.flatMap((s) => stmtLines(s, depth));
}

/** The program as short text: its primitives, then main's body under the horizon. */
export function describe(p: Program): string {
  const kinds = { fifo: 'Queue', prio: 'PriorityQueue', lifo: 'LifoQueue' };
  const prims = [
    ...p.prims.locks.map((l) => `${l} = Lock()`),
    ...p.prims.sems.map((s) => `${s.name} = ${s.bounded ? 'BoundedSemaphore' : 'Semaphore'}(${s.value})`),
    ...p.prims.events.map((e) => `${e} = Event()`),
    ...p.prims.conds.map((c) => `${c} = Condition()`),
    ...p.prims.barriers.map((b) => `${b.name} = Barrier(${b.parties})`),
    ...p.prims.queues.map((q) => `${q.name} = ${kinds[q.kind]}(maxsize=${q.maxsize})`),
  ];
  return [
    `# seed ${p.seed}. A sleep or timeout of k ends at the first instant after k*M units that is its own`,
    '# phase modulo M (M: the number of actors; oracle/asyncio/walk.ts). Units: ms in tsaio, s in CPython.',
    ...prims,
    `main (under timeout(${p.horizon})):`,
    ...bodyLines(p.main, 1),
  ].join('\n');
}
