/**
 * Private: the cancellation tree.
 *
 * Every task, timeout scope and task group is a node: a flag, a reason and
 * the hooks to run when it is cancelled. A node shows itself to user code as
 * an `AbortSignal`, made on first use only (a real `AbortSignal` costs about
 * 4 µs and 1 kB on Node 20), which carries a hidden link back to its node.
 *
 * A tsaio wait given a signal calls `linkSignal`: a tsaio signal gets a hook
 * on its node (no event listener at all); a foreign signal gets a node of its
 * own, with one `abort` listener shared by every wait linked to it.
 * `unlinkSignal` removes the hook when the wait settles, and the listener
 * with the last hook, so a long-lived signal never piles up listeners.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { reportError } from './_report.js';

/** Called when a node is cancelled: a function, or an object (a listener) with `handleEvent`. */
export type Hook = (() => void) | { handleEvent(): void };

/** The fields every node of the tree has. */
export interface CancelNode {
  _aborted: boolean;
  _reason: unknown;
  _hooks: Hook | Set<Hook> | null;
  _ctl: AbortController | null;
}

const kNode = Symbol('tsaio.cancelNode');

type LinkedSignal = AbortSignal & { [kNode]?: CancelNode };
type Listener = Parameters<AbortSignal['addEventListener']>[1];

/** The node's `AbortSignal`, made on first call; already aborted if the node is. */
export function signalOf(node: CancelNode): AbortSignal {
  if (node._ctl === null) {
    const ctl = new AbortController();
    (ctl.signal as LinkedSignal)[kNode] = node;
    if (node._aborted) ctl.abort(node._reason);
    node._ctl = ctl;
  }
  return node._ctl.signal;
}

// Hooks due to run, in order: the outermost `abortNode` runs them one by one, and a
// node cancelled by one of them only appends its own hooks here. A chain of any depth
// is thus a loop, never a recursion, and a hook that throws stops nothing.
const due: (Hook | null)[] = [];
let draining = false;

/**
 * Cancels `node` with `reason`: aborts its signal, then runs its hooks once,
 * in the order they were added. A hook that cancels another node (a child
 * task, a scope) does not run that node's hooks itself: they are queued and
 * run after the hooks queued before them, so cancellation spreads
 * breadth-first through a tree of any depth without growing the stack. A
 * hook that throws is reported through the loop's exception handler and the
 * others run on. Returns false if the node was cancelled already.
 */
export function abortNode(node: CancelNode, reason: unknown): boolean {
  if (node._aborted) return false;
  node._aborted = true;
  node._reason = reason;
  node._ctl?.abort(reason);
  const hooks = node._hooks;
  if (hooks === null) return true;
  node._hooks = null;
  if (hooks instanceof Set) for (const hook of hooks) due.push(hook);
  else due.push(hooks);
  if (!draining) drain();
  return true;
}

/** Runs every due hook, including those queued meanwhile; each one's error is reported. */
function drain(): void {
  draining = true;
  try {
    for (let i = 0; i < due.length; i++) {
      const hook = due[i]!;
      due[i] = null; // let it go as soon as it ran
      try {
        if (typeof hook === 'function') hook();
        else hook.handleEvent();
      } catch (exception) {
        report(exception, hook);
      }
    }
  } finally {
    due.length = 0;
    draining = false;
  }
}

function report(exception: unknown, hook: Hook): void {
  try {
    reportError({ message: 'Exception in a cancellation hook', exception, hook });
  } catch {
    // The handler itself failed (and so did its fallback): nowhere left to report to.
  }
}

/** Runs `hook` when `node` is cancelled (the caller checks `_aborted` first). */
export function addHook(node: CancelNode, hook: Hook): void {
  const hooks = node._hooks;
  if (hooks === null) node._hooks = hook;
  else if (hooks instanceof Set) hooks.add(hook);
  else node._hooks = new Set([hooks, hook]);
}

/** Undoes `addHook`. */
export function removeHook(node: CancelNode, hook: Hook): void {
  const hooks = node._hooks;
  if (hooks === hook) node._hooks = null;
  else if (hooks instanceof Set && hooks.delete(hook) && hooks.size === 0) node._hooks = null;
}

/**
 * A foreign `AbortSignal` seen as a node: one `abort` listener, attached while
 * at least one wait is linked to it, serves every wait.
 */
class ForeignNode implements CancelNode {
  _aborted = false;
  _reason: unknown = undefined;
  _hooks: Hook | Set<Hook> | null = null;
  _ctl: AbortController | null = null;
  constructor(readonly _signal: AbortSignal) {}
  handleEvent(): void {
    abortNode(this, this._signal.reason);
  }
}

const foreign = new WeakMap<AbortSignal, ForeignNode>();

/**
 * Runs `hook` when `signal` aborts: a hook on the node of a tsaio signal; for
 * any other signal, a hook on its `ForeignNode`, whose single listener is
 * attached while it has hooks. The caller checks `signal.aborted` first.
 */
export function linkSignal(signal: AbortSignal, hook: Hook): void {
  const node = (signal as LinkedSignal)[kNode];
  if (node !== undefined) {
    addHook(node, hook);
    return;
  }
  let adopted = foreign.get(signal);
  if (adopted === undefined) {
    adopted = new ForeignNode(signal);
    foreign.set(signal, adopted);
  }
  if (adopted._hooks === null) signal.addEventListener('abort', adopted as Listener, { once: true });
  addHook(adopted, hook);
}

/** Undoes `linkSignal`; the last hook off a foreign signal removes its listener. */
export function unlinkSignal(signal: AbortSignal, hook: Hook): void {
  const node = (signal as LinkedSignal)[kNode] ?? foreign.get(signal);
  if (node === undefined) return;
  removeHook(node, hook);
  if (node._hooks === null && node instanceof ForeignNode) {
    signal.removeEventListener('abort', node as Listener);
  }
}

/** Number of hooks and listeners tsaio holds on `signal` (for tests). */
export function _hookCount(signal: AbortSignal): number {
  const node = (signal as LinkedSignal)[kNode] ?? foreign.get(signal);
  if (node === undefined) return -1;
  const hooks = node._hooks;
  return hooks === null ? 0 : hooks instanceof Set ? hooks.size : 1;
}

/** A rejection with `CancelledError` if `signal` is already aborted (a wait then takes nothing), else `null`. */
export function abortedRejection(signal: AbortSignal | undefined): Promise<never> | null {
  return signal?.aborted ? Promise.reject(cancelledFrom(signal.reason)) : null;
}
