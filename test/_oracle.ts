// Helpers of test/oracle-regressions.test.ts: the asyncio oracle's trace
// format (oracle/asyncio/), for programs written out by hand and run on
// runVirtual. `fe` and `fv` print errors and values as the oracle's emitted
// programs do, on both sides.
import {
  BrokenBarrierError,
  CancelledError,
  ExceptionGroup,
  InvalidStateError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  TimeoutError,
  getRunningLoop,
} from '../src/index.ts';
import { StallError, runVirtual } from '../src/testing.ts';
import { canonical } from '../oracle/asyncio/compare.ts';

/** The user errors of the oracle's programs. */
export class ErrA extends Error {
  override name = 'ErrA';
}

/**
 * An error as the trace prints it. A cancellation's message is shown only
 * when `own` (the task's own cancellation, reaching a primitive's wait).
 */
export function fe(e: unknown, own = false): string {
  if (e instanceof CancelledError) return own ? `CancelledError(${e.message})` : 'CancelledError(~)';
  if (e instanceof ExceptionGroup) return `ExceptionGroup[${e.errors.map((x) => fe(x)).join(', ')}]`;
  if (e instanceof ErrA) return `${e.name}(${e.message})`;
  if (e instanceof TimeoutError) return 'TimeoutError';
  if (e instanceof QueueEmpty) return 'QueueEmpty';
  if (e instanceof QueueFull) return 'QueueFull';
  if (e instanceof QueueShutDown) return 'QueueShutDown';
  if (e instanceof BrokenBarrierError) return 'BrokenBarrierError';
  if (e instanceof InvalidStateError) return 'InvalidStateError';
  if (e instanceof RangeError) return 'RangeError';
  return `Other:${String(e)}`;
}

/** A value as the trace prints it. */
export function fv(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Error) return fe(v);
  if (Array.isArray(v)) return `[${v.map(fv).join(', ')}]`;
  return String(v);
}

/** Prints one trace line: `<virtual ms since start> <who> <what>`. */
export type Log = (who: string, what: string) => void;

/**
 * Runs `main(log, signal)` under `runVirtual` and returns its trace in the
 * oracle's canonical order (by time, then by who, each task's lines in their
 * order), ending with `END <status>`.
 */
export async function traceOf(main: (log: Log, signal: AbortSignal) => Promise<void>): Promise<string[]> {
  const trace: string[] = [];
  let status = 'ok';
  try {
    await runVirtual(
      async (signal) => {
        const t0 = getRunningLoop().time();
        const log: Log = (who, what) =>
          trace.push(`${Math.round(getRunningLoop().time() - t0)} ${who} ${what}`);
        await main(log, signal);
      },
      { autojumpThreshold: 0, stallTimeout: 100 },
    );
  } catch (e) {
    status = e instanceof StallError ? 'stuck' : `crash ${String(e)}`;
  }
  return canonical({ status, trace });
}
