/**
 * A scenario as text a reader can follow and turn into a test: the file's
 * lines (runs of one character as `"a"×65530`, equal lines grouped), the
 * `open` call and the numbered operations.
 *
 * @module
 */

import { splitLines, unitOf } from './lines.js';
import { isBinary, type Op, type Scenario } from './scenario.js';
import { describeOp } from './tsaio-side.js';

const MAX_GROUPS = 30;
const MAX_LINE = 160;

function escape(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const special: Record<number, string> = { 10: '\\n', 13: '\\r', 9: '\\t', 34: '\\"', 92: '\\\\' };
  if (special[cp] !== undefined) return special[cp];
  if (cp >= 0x20 && cp <= 0x7e) return ch;
  return cp < 0x20 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** `items` (characters or escaped bytes) as quoted pieces, runs of 6 or more as `"a"×n`. */
function runLength(items: string[], quote: string): string {
  const parts: string[] = [];
  let plainRun = '';
  const flush = () => {
    if (plainRun !== '') parts.push(`${quote}${plainRun}"`);
    plainRun = '';
  };
  for (let i = 0; i < items.length;) {
    let j = i + 1;
    while (j < items.length && items[j] === items[i]) j++;
    if (j - i >= 6) {
      flush();
      parts.push(`${quote}${items[i]}"×${j - i}`);
    } else plainRun += items.slice(i, j).join('');
    i = j;
  }
  flush();
  return parts.length === 0 ? `${quote}"` : parts.join(' ');
}

/**
 * A string with runs shortened.
 *
 * @example
 * ```ts
 * console.log(describeText('x' + 'a'.repeat(10) + '\n')); // "x" "a"×10 "\n"
 * ```
 */
export function describeText(text: string): string {
  return runLength([...text].map(escape), '"');
}

function describeBytes(bytes: Uint8Array): string {
  return runLength(
    Array.from(bytes, (b) =>
      b >= 0x20 && b <= 0x7e
        ? escape(String.fromCharCode(b))
        : b === 10
          ? '\\n'
          : b === 13
            ? '\\r'
            : `\\x${b.toString(16).padStart(2, '0')}`,
    ),
    'b"',
  );
}

type Decoder = InstanceType<typeof TextDecoder>;

function decoder(s: Scenario): Decoder | null {
  if (isBinary(s)) return null;
  const label = s.encoding === 'utf-16-le' ? 'utf-16le' : s.encoding === 'utf-8' ? 'utf-8' : 'latin1';
  return new TextDecoder(label, { fatal: true });
}

function describeLine(line: Uint8Array, dec: Decoder | null, ascii: boolean): string {
  if (dec !== null && !(ascii && line.some((b) => b >= 0x80))) {
    try {
      return describeText(dec.decode(line));
    } catch {
      // not decodable: shown as bytes
    }
  }
  return describeBytes(line);
}

/** The file's lines, equal ones grouped, at most `MAX_GROUPS` groups. */
export function describeFile(s: Scenario): string[] {
  if (s.file === null) return ['(no file)'];
  const lines = splitLines(s.file, unitOf(s));
  const dec = decoder(s);
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i + 1;
    while (j < lines.length && Buffer.compare(lines[j]!, lines[i]!) === 0) j++;
    if (out.length === MAX_GROUPS) {
      const bytes = lines.slice(i).reduce((n, l) => n + l.length, 0);
      out.push(`… and ${lines.length - i} more lines (${bytes} bytes)`);
      break;
    }
    let line = describeLine(lines[i]!, dec, s.encoding === 'ascii');
    if (line.length > MAX_LINE) line = `${line.slice(0, MAX_LINE)}… (${lines[i]!.length} bytes)`;
    out.push(line + (j - i > 1 ? `  ×${j - i} lines` : ''));
    i = j;
  }
  return out;
}

function describeWrite(s: Scenario, data: string): string {
  const text = isBinary(s) ? describeBytes(Buffer.from(data, 'hex')) : describeText(data);
  const n = isBinary(s) ? data.length / 2 : [...data].length;
  return text.length > MAX_LINE
    ? `${text.slice(0, MAX_LINE)}… (${n} ${isBinary(s) ? 'bytes' : 'chars'})`
    : text;
}

/** One operation, with its data. */
function opText(s: Scenario, op: Op): string {
  if (op.op === 'write') return `write(${describeWrite(s, op.data)})`;
  if (op.op === 'writelines') return `writelines([${op.data.map((d) => describeWrite(s, d)).join(', ')}])`;
  if (op.op === 'tell') return `tell#${op.slot} = tell()`;
  return describeOp(op);
}

/**
 * The whole scenario as text.
 *
 * @example
 * ```ts
 * console.log(describeScenario({ seed: 1, mode: 'rb', encoding: null, errors: null, file: null, ops: [] }));
 * ```
 */
export function describeScenario(s: Scenario): string {
  const opts = isBinary(s)
    ? ''
    : `, encoding='${s.encoding}'${s.errors === null ? '' : `, errors='${s.errors}'`}, newline='\\n'`;
  const size = s.file === null ? '' : ` (${s.file.length} bytes)`;
  return [
    `file${size}:`,
    ...describeFile(s).map((l) => `  ${l}`),
    `f = open(file, '${s.mode}'${opts})`,
    ...s.ops.map((op, i) => `  ${i + 1}. ${opText(s, op)}`),
  ].join('\n');
}
