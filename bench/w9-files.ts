// W9: read 1,000 files of 64 KiB, at most 64 at once.
//
// Every variant runs the same 64 loops that take the next file index from a
// shared counter, so the limit is identical and only the reading differs:
// tsaio's `open` + `read` + close (binary and text mode) against raw
// `fs/promises.readFile` (as bytes and as UTF-8 text). The files are written
// once into the system's temporary directory, outside the measured region,
// and kept for later runs. Each variant fails unless it read every byte.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mark, Workload } from './_workload.ts';

const SIZE = 64 * 1024;
const LIMIT = 64;
const DIR = join(tmpdir(), 'tsaio-bench-w9');

/** The n files, written once (ASCII text, so text and binary reads see the same bytes). */
function files(n: number): string[] {
  mkdirSync(DIR, { recursive: true });
  const content = Buffer.alloc(SIZE, 'tsaio W9 line of text\n');
  return Array.from({ length: n }, (_, i) => {
    const path = join(DIR, `f${i}.txt`);
    let size = -1;
    try {
      size = statSync(path).size;
    } catch {
      // not written yet
    }
    if (size !== SIZE) writeFileSync(path, content);
    return path;
  });
}

/** Reads every file with `read`, `LIMIT` at a time; checks the total. */
async function readAll(
  paths: string[],
  mark: Mark,
  read: (path: string) => Promise<{ length: number }>,
): Promise<void> {
  let next = 0;
  let total = 0;
  const loop = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const data = await read(path);
      total += data.length;
      mark();
    }
  };
  await Promise.all(Array.from({ length: LIMIT }, loop));
  if (total !== paths.length * SIZE)
    throw new Error(`W9 check failed: read ${total} of ${paths.length * SIZE}`);
}

export const w9: Workload = {
  id: 'W9',
  title: '1,000 files of 64 KiB read, at most 64 at once',
  n: 1_000,
  note:
    'The same 64 loops take the next file from a shared counter in every variant, so only the reading ' +
    'differs: tsaio `open(path, mode)` + `read()` + close (binary `rb` and text `r`, UTF-8) against ' +
    '`fs/promises.readFile` (bytes, and `utf8` text). The files (ASCII text) are written once, outside the ' +
    'measured region, into the temporary directory and reused; after the first run they are in the page ' +
    'cache. Each variant fails unless it read every byte. `mark()` is called when the first file is read.',
  unit: 'file',
  baseline: 'raw-readFile',
  variants: [
    {
      name: 'raw-readFile',
      code: "import { readFile } from 'node:fs/promises'; await readFile(path)",
      async load() {
        const { readFile } = await import('node:fs/promises');
        return async (n, mark) => readAll(files(n), mark, (p) => readFile(p));
      },
    },
    {
      name: 'tsaio-open-read',
      code: "await using f = await open(path, 'rb'); await f.read()",
      async load() {
        const { open } = await import('tsaio/fs');
        return async (n, mark) =>
          readAll(files(n), mark, async (p) => {
            await using f = await open(p, 'rb');
            return f.read();
          });
      },
    },
    {
      name: 'raw-readFile-text',
      code: "await readFile(path, 'utf8')",
      async load() {
        const { readFile } = await import('node:fs/promises');
        return async (n, mark) => readAll(files(n), mark, (p) => readFile(p, 'utf8'));
      },
    },
    {
      name: 'tsaio-open-read-text',
      code: "await using f = await open(path, 'r', { encoding: 'utf-8' }); await f.read()",
      async load() {
        const { open } = await import('tsaio/fs');
        return async (n, mark) =>
          readAll(files(n), mark, async (p) => {
            await using f = await open(p, 'r', { encoding: 'utf-8' });
            return f.read();
          });
      },
    },
  ],
};
