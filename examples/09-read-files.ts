// Seed §9 "Async File IO: aiofiles": read several files concurrently. Mirrors:
//   async def read_file(path):
//       async with aiofiles.open(path, "r", encoding="utf-8") as f:
//           return await f.read()
//   async def write_file(path, content):
//       async with aiofiles.open(path, "w", encoding="utf-8") as f:
//           await f.write(content)
//   contents = await asyncio.gather(read_file("file1.txt"), read_file("file2.txt"), read_file("file3.txt"))
//   for content in contents:
//       print(content[:100])
// The three files are written first (with write_file) in a fresh temporary
// directory, which is removed at the end.
// Run: npm run example examples/09-read-files.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, gather } from 'tsaio';
import { open } from 'tsaio/fs';

async function readFile(path: string, signal: AbortSignal): Promise<string> {
  await using f = await open(path, 'r', { encoding: 'utf-8', signal });
  return f.read({ signal });
}

async function writeFile(path: string, content: string): Promise<void> {
  await using f = await open(path, 'w', { encoding: 'utf-8' });
  await f.write(content);
}

const dir = mkdtempSync(join(tmpdir(), 'tsaio-example-09-'));
try {
  await run(async () => {
    const paths = ['file1.txt', 'file2.txt', 'file3.txt'].map((name) => join(dir, name));
    await gather(paths.map((p, i) => () => writeFile(p, `File ${i + 1}: ${'héllo wörld '.repeat(20)}`)));
    // Concurrently read multiple files
    const contents = await gather(paths.map((p) => (signal: AbortSignal) => readFile(p, signal)));
    for (const content of contents) console.log([...content].slice(0, 100).join('')); // content[:100]
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
