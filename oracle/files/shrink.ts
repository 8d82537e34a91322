/**
 * Shrinking: from a scenario that differs, try smaller ones — fewer
 * operations, a shorter file (halved, lines dropped, lines merged, lines made
 * plain `'a'`s, lines shortened), smaller arguments — and keep each one that
 * still differs the same way, until nothing smaller does or the budget is
 * spent.
 *
 * @module
 */

import { endsWithNewline, joinLines, plain, splitLines, unitOf } from './lines.js';
import { isBinary, isValid, type Op, type Scenario } from './scenario.js';

/** Says, for each candidate, whether it still differs the same way. */
export type Test = (candidates: Scenario[]) => Promise<boolean[]>;

/** How much shrinking may cost. */
export interface Budget {
  /** Candidates it may still run. */
  runs: number;
  /** `performance.now()` after which it stops. */
  until: number;
}

const BATCH = 8;
const MAX_PARTS = 64;

/** The ways to cut `n` items into 2, 4, 8 ... chunks: [start, end) pairs, coarsest first. */
function chunks(n: number, minParts = 2): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let parts = minParts; parts <= Math.min(n, MAX_PARTS) * 2; parts *= 2) {
    const size = Math.max(1, Math.ceil(n / parts));
    for (let start = 0; start < n; start += size) out.push([start, Math.min(n, start + size)]);
    if (size === 1) break;
  }
  return out;
}

function withOps(s: Scenario, ops: Op[]): Scenario {
  return { ...s, ops };
}

function withLines(s: Scenario, lines: Uint8Array[]): Scenario {
  return { ...s, file: joinLines(lines) };
}

const cutOps = (s: Scenario) => s.ops.map((_, i) => withOps(s, s.ops.slice(0, i)));

const dropOps = (s: Scenario) =>
  chunks(s.ops.length).map(([a, b]) => withOps(s, [...s.ops.slice(0, a), ...s.ops.slice(b)]));

/** Where to cut `data` near `at` without splitting a character. */
function charCut(s: Scenario, data: Uint8Array, at: number): number {
  const unit = unitOf(s);
  at -= at % unit;
  if (s.encoding === 'utf-8' && !isBinary(s)) while (at > 0 && (data[at]! & 0xc0) === 0x80) at--;
  return at;
}

function halves(s: Scenario): Scenario[] {
  const f = s.file;
  if (f === null || f.length < 2)
    return f === null || f.length === 0 ? [] : [{ ...s, file: new Uint8Array(0) }];
  const half = charCut(s, f, f.length >> 1);
  const quarter = charCut(s, f, f.length >> 2);
  return [
    { ...s, file: f.slice(0, half) },
    { ...s, file: f.slice(half) },
    { ...s, file: f.slice(0, f.length - quarter) },
    { ...s, file: f.slice(quarter) },
  ];
}

/** Candidates that change the lines of each chunk with `change` (null: no change). */
function perChunk(
  s: Scenario,
  change: (lines: Uint8Array[]) => Uint8Array[] | null,
  minParts = 2,
): Scenario[] {
  if (s.file === null) return [];
  const lines = splitLines(s.file, unitOf(s));
  const out: Scenario[] = [];
  for (const [a, b] of chunks(lines.length, minParts)) {
    const changed = change(lines.slice(a, b));
    if (changed !== null) out.push(withLines(s, [...lines.slice(0, a), ...changed, ...lines.slice(b)]));
  }
  return out;
}

const dropLines = (s: Scenario) => perChunk(s, () => []);

function mergeLines(s: Scenario): Scenario[] {
  const unit = unitOf(s);
  return perChunk(
    s,
    (part) => {
      if (part.length < 2) return null;
      const merged = joinLines(part);
      const a = unit === 2 ? [0x61, 0] : [0x61];
      for (let i = 0; i + unit <= merged.length - unit; i += unit) {
        if (merged[i] === 0x0a && (unit === 1 || merged[i + 1] === 0)) merged.set(a, i);
      }
      return [merged];
    },
    1,
  );
}

function plainLines(s: Scenario): Scenario[] {
  const unit = unitOf(s);
  return perChunk(
    s,
    (part) => {
      const out = part.map((l) => plain(l, unit));
      return out.every((l, i) => Buffer.compare(l, part[i]!) === 0) ? null : out;
    },
    1,
  );
}

function shortenLines(s: Scenario): Scenario[] {
  const unit = unitOf(s);
  return perChunk(
    s,
    (part) => {
      let changed = false;
      const out = part.map((l) => {
        const body = endsWithNewline(l, unit) ? l.length - unit : l.length;
        if (body < 2 * unit) return l;
        changed = true;
        const cut = charCut(s, l, body >> 1);
        return new Uint8Array(Buffer.concat([l.subarray(0, cut), l.subarray(body)]));
      });
      return changed ? out : null;
    },
    1,
  );
}

/** Smaller arguments for one operation. */
function smallerArgs(op: Op, binary: boolean): Op[] {
  const smaller = (n: number) => [...new Set([0, 1, n >> 1, n - 1])].filter((m) => m >= 0 && m < n);
  switch (op.op) {
    case 'read':
    case 'readline':
      return op.n === null ? [] : smaller(op.n).map((n) => ({ ...op, n }));
    case 'readlines':
      return op.hint === null ? [] : smaller(op.hint).map((hint) => ({ ...op, hint }));
    case 'lines':
      return smaller(op.k).map((k) => ({ ...op, k }));
    case 'seek':
      return op.whence === 0 ? smaller(op.offset).map((offset) => ({ ...op, offset })) : [];
    case 'write': {
      if (op.data.length === 0) return [];
      // Halve whole bytes (hex digit pairs) or whole characters (never half a surrogate pair).
      const half = binary
        ? op.data.slice(0, (op.data.length >> 2) * 2)
        : [...op.data].slice(0, [...op.data].length >> 1).join('');
      return [
        { ...op, data: '' },
        { ...op, data: half },
      ];
    }
    case 'writelines':
      return op.data.length === 0 ? [] : [{ ...op, data: op.data.slice(1) }];
    case 'truncate':
      return op.size === null ? [] : smaller(op.size).map((size) => ({ ...op, size }));
    default:
      return [];
  }
}

function smallerOps(s: Scenario): Scenario[] {
  return s.ops.flatMap((op, i) =>
    smallerArgs(op, isBinary(s)).map((o) => withOps(s, [...s.ops.slice(0, i), o, ...s.ops.slice(i + 1)])),
  );
}

const PASSES: ReadonlyArray<(s: Scenario) => Scenario[]> = [
  cutOps,
  dropOps,
  halves,
  dropLines,
  plainLines,
  mergeLines,
  shortenLines,
  smallerOps,
];

/** True if the file decodes in the scenario's text encoding (binary: true). */
export function decodable(s: Scenario): boolean {
  if (isBinary(s) || s.file === null) return true;
  if (s.encoding === 'ascii') return s.file.every((b) => b < 0x80);
  if (s.encoding === 'latin-1') return true;
  try {
    new TextDecoder(s.encoding === 'utf-16-le' ? 'utf-16le' : 'utf-8', { fatal: true }).decode(s.file);
    return true;
  } catch {
    return false;
  }
}

/** True if `a` and `b` are the same scenario (a pass may offer the one it started from). */
function same(a: Scenario, b: Scenario): boolean {
  const bytesEqual =
    a.file === null || b.file === null ? a.file === b.file : Buffer.compare(a.file, b.file) === 0;
  return bytesEqual && a.errors === b.errors && JSON.stringify(a.ops) === JSON.stringify(b.ops);
}

/** The first of `candidates` that `test` accepts (in batches, coarsest first), or null. */
async function firstAccepted(candidates: Scenario[], test: Test, budget: Budget): Promise<Scenario | null> {
  for (let i = 0; i < candidates.length && !spent(budget); i += BATCH) {
    const batch = candidates.slice(i, i + BATCH);
    budget.runs -= batch.length;
    const k = (await test(batch)).indexOf(true);
    if (k >= 0) return batch[k]!;
  }
  return null;
}

/** True once the budget is spent. */
export function spent(budget: Budget): boolean {
  return budget.runs <= 0 || performance.now() > budget.until;
}

/**
 * The smallest scenario found that `test` accepts, starting from `start`
 * (which it accepts): each pass is repeated while it finds a smaller one,
 * and the passes are gone through again until none does.
 */
export async function shrink(start: Scenario, test: Test, budget: Budget): Promise<Scenario> {
  const mustDecode = decodable(start);
  const ok = (c: Scenario) => isValid(c) && (!mustDecode || decodable(c)) && !same(c, current);
  let current = start;
  for (let progress = true; progress && !spent(budget);) {
    progress = false;
    for (const pass of PASSES) {
      for (;;) {
        const smaller = await firstAccepted(pass(current).filter(ok), test, budget);
        if (smaller === null) break;
        current = smaller;
        progress = true;
      }
    }
  }
  return current;
}
