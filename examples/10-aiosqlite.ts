// Seed §10 "aiosqlite (SQLite)". Mirrors:
//   async with aiosqlite.connect("test.db") as db:
//       await db.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
//       await db.execute("INSERT INTO users(name) VALUES(?)", ("John Doe",))
//       await db.commit()
//       async with db.execute("SELECT * FROM users") as cursor:
//           async for row in cursor:
//               print(row)
// SQLite runs on the connection's own worker thread; the event loop only
// waits. test.db goes in a fresh temp dir, removed at the end.
// Run: npm run example examples/10-aiosqlite.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from 'tsaio';
import { connect } from 'tsaio/sqlite';

const dir = mkdtempSync(join(tmpdir(), 'tsaio-example-'));

try {
  await run(async (signal) => {
    await using db = await connect(join(dir, 'test.db'), { signal });
    await db.execute('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)', [], { signal });
    await db.execute('INSERT INTO users(name) VALUES(?)', ['John Doe'], { signal });
    await db.commit({ signal });

    await using cursor = await db.execute('SELECT * FROM users', [], { signal });
    for await (const row of cursor) console.log(row);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
