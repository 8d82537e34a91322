/**
 * The tsaio side of the files oracle: runs a job with `tsaio/fs` and writes
 * down each result as driver.py writes CPython's.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';
import { open, type AsyncFile } from '../../src/fs/index.js';
import { formatBytes, formatList, formatText } from './format.js';
import type { Job, Op } from './scenario.js';

type File = AsyncFile<boolean>;

/** An error's kind, as driver.py names CPython's. */
export function errorKind(e: unknown): string {
  const error = e as { name?: unknown; code?: unknown; message?: unknown };
  if (error?.name === 'UnsupportedOperation') return 'unsupported';
  if (e instanceof RangeError) return 'invalid';
  if (e instanceof TypeError && typeof error.message === 'string') {
    if (error.message.includes('cannot decode')) return 'decode';
    if (error.message.includes('cannot encode')) return 'encode';
  }
  if (typeof error?.code === 'string' && /^E[A-Z]+$/.test(error.code)) return error.code;
  return `other:${String(error?.name)}: ${String(error?.message)}`;
}

/**
 * How an operation is written in results and programs (driver.py's `describe`).
 *
 * @example
 * ```ts
 * console.log(describeOp({ op: 'read', n: 3 })); // read(3)
 * ```
 */
export function describeOp(op: Op): string {
  switch (op.op) {
    case 'read':
    case 'readline':
      return `${op.op}(${op.n ?? ''})`;
    case 'readlines':
      return `readlines(${op.hint ?? ''})`;
    case 'lines':
      return `lines(${op.k})`;
    case 'tell':
      return 'tell()';
    case 'seek':
      return `seek(${op.offset}, ${op.whence})`;
    case 'seekTell':
      return `seek(tell#${op.slot})`;
    case 'truncate':
      return `truncate(${op.size ?? ''})`;
    default:
      return `${op.op}(...)`;
  }
}

function value(v: string | Uint8Array): string {
  return typeof v === 'string' ? formatText(v) : formatBytes(v);
}

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

async function step(f: File, op: Op, binary: boolean, tells: Map<number, number>): Promise<string> {
  switch (op.op) {
    case 'read':
      return value(await f.read(op.n ?? -1));
    case 'readline':
      return value(await f.readline(op.n ?? -1));
    case 'readlines':
      return formatList((await f.readlines(op.hint ?? -1)).map(value));
    case 'lines': {
      const got: string[] = [];
      if (op.k > 0) {
        for await (const line of f) {
          got.push(value(line));
          if (got.length >= op.k) break;
        }
      }
      return formatList(got);
    }
    case 'tell': {
      const pos = await f.tell();
      tells.set(op.slot, pos);
      return binary ? String(pos) : 'ok';
    }
    case 'seek': {
      const pos = await f.seek(op.offset, op.whence);
      return binary ? String(pos) : 'ok';
    }
    case 'seekTell':
      await f.seek(tells.get(op.slot)!);
      return 'ok';
    case 'write':
      return String(await f.write(binary ? fromHex(op.data) : op.data));
    case 'writelines':
      await f.writelines(binary ? op.data.map(fromHex) : op.data);
      return 'ok';
    case 'truncate':
      return String(await f.truncate(op.size));
    case 'flush':
      await f.flush();
      return 'ok';
  }
}

/** Runs `job` with tsaio/fs; the result lines, as driver.py gives CPython's. */
export async function runTsaio(job: Job): Promise<string[]> {
  const out: string[] = [];
  const binary = job.mode.includes('b');
  let f: File | null = null;
  try {
    const opts = binary
      ? undefined
      : { encoding: job.encoding ?? undefined, errors: (job.errors ?? undefined) as 'strict' | undefined };
    f = await open(job.path, job.mode, opts);
  } catch (e) {
    out.push(`open = !${errorKind(e)}`);
  }
  if (f !== null) {
    const tells = new Map<number, number>();
    try {
      for (const [i, op] of job.ops.entries()) {
        let res: string;
        try {
          res = await step(f, op, binary, tells);
        } catch (e) {
          res = `!${errorKind(e)}`;
        }
        out.push(`#${i + 1} ${describeOp(op)} = ${res}`);
        if (res === '!decode') break;
      }
    } finally {
      try {
        await f.close();
      } catch (e) {
        out.push(`close = !${errorKind(e)}`);
      }
    }
  }
  try {
    out.push(`file = ${formatBytes(new Uint8Array(await readFile(job.path)))}`);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
    out.push('file = absent');
  }
  return out;
}
