// W12: SQLite — 100,000 inserts in one transaction, then 100,000 single-row
// selects from 4 concurrent tasks: tsaio/sqlite (better-sqlite3 on the
// connection's worker thread) against better-sqlite3 called on the main
// thread.
//
// The worker hop costs time per statement; what it buys is an event loop
// that stays free. Each variant samples the loop's delay during the body
// with `perf_hooks.monitorEventLoopDelay` (10 ms resolution) and reports its
// p99 and max: with the raw driver the loop is blocked for as long as its
// synchronous calls run back to back.
//
// Each run uses a fresh database file in a temp dir (WAL, the file made and
// the table created in `load()`, outside the timed body).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Body, Extras, Mark, Workload } from './_workload.ts';

const TASKS = 4;
const SCHEMA = 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)';

function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-w12-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'w12.sqlite');
}

/**
 * Runs `work` while sampling the event loop's delay; returns its p99 and max
 * in ms. The histogram's first tick only starts its clock, and a loop
 * blocked by synchronous work records nothing until it turns again: so the
 * sampling starts a few ticks before `work` and goes on a little after it.
 */
async function withLoopDelay(work: () => Promise<void>): Promise<Extras> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, 25));
  await work();
  await new Promise((r) => setTimeout(r, 25));
  h.disable();
  return { 'loop delay p99 ms': h.percentile(99) / 1e6, 'loop delay max ms': h.max / 1e6 };
}

/** `TASKS` tasks each selecting its share of the ids 1..n. */
async function selects(n: number, mark: Mark, select: (id: number) => Promise<unknown>): Promise<void> {
  mark(); // every row is in: the peak of the data
  await Promise.all(
    Array.from({ length: TASKS }, async (_, t) => {
      for (let id = t + 1; id <= n; id += TASKS) {
        const row = (await select(id)) as { name?: unknown } | null | undefined;
        if (row?.name !== `item ${id}`) throw new Error(`bad row for ${id}: ${JSON.stringify(row)}`);
      }
    }),
  );
}

export const w12: Workload = {
  id: 'W12',
  title:
    'SQLite: 100,000 inserts in one transaction, then 100,000 single-row selects from 4 concurrent tasks',
  n: 100_000,
  note:
    'A fresh WAL database file per run. Inserts: one `INSERT INTO items VALUES (?, ?)` per row, all in one ' +
    'transaction, committed at the end; selects: 4 tasks, each `SELECT id, name FROM items WHERE id = ?` for ' +
    'its quarter of the ids, checking the row. `raw` runs better-sqlite3 on the main thread (each task ' +
    "awaits between its synchronous calls, so the tasks interleave); `tsaio` runs it on the connection's " +
    'worker thread; `tsaio-executemany` does the inserts in one `executemany`. The loop delay columns are ' +
    "the event loop's delay sampled during the body (`monitorEventLoopDelay`, 10 ms resolution): what any " +
    'other work of the process (a timer, a socket) would have waited.',
  unit: 'statement',
  baseline: 'raw',
  variants: [
    {
      name: 'raw',
      code: "const db = new Database(file); const ins = db.prepare('INSERT ...'); db.exec('BEGIN'); ins.run(i, name); ... db.exec('COMMIT'); await (async () => sel.get(id))()",
      async load(): Promise<Body> {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(freshFile());
        db.pragma('journal_mode = WAL');
        db.exec(SCHEMA);
        const ins = db.prepare('INSERT INTO items VALUES (?, ?)');
        const sel = db.prepare('SELECT id, name FROM items WHERE id = ?');
        return (n, mark) =>
          withLoopDelay(async () => {
            db.exec('BEGIN');
            for (let i = 1; i <= n; i++) ins.run(i, `item ${i}`);
            db.exec('COMMIT');
            await selects(n, mark, async (id) => sel.get(id));
          });
      },
    },
    {
      name: 'tsaio',
      code: "const db = await connect(file); await db.execute('INSERT ...', [i, name]) (each awaited); await db.commit(); await (await db.execute('SELECT ...', [id])).fetchone()",
      async load(): Promise<Body> {
        const { connect } = await import('tsaio/sqlite');
        const db = await connect(freshFile());
        await db.execute('PRAGMA journal_mode = WAL');
        await db.execute(SCHEMA);
        return (n, mark) =>
          withLoopDelay(async () => {
            for (let i = 1; i <= n; i++)
              await db.execute('INSERT INTO items VALUES (?, ?)', [i, `item ${i}`]);
            await db.commit();
            await selects(n, mark, async (id) =>
              (await db.execute('SELECT id, name FROM items WHERE id = ?', [id])).fetchone(),
            );
          });
      },
    },
    {
      name: 'tsaio-executemany',
      code: "await db.executemany('INSERT ...', rows); await db.commit(); selects as tsaio",
      async load(): Promise<Body> {
        const { connect } = await import('tsaio/sqlite');
        const db = await connect(freshFile());
        await db.execute('PRAGMA journal_mode = WAL');
        await db.execute(SCHEMA);
        return (n, mark) =>
          withLoopDelay(async () => {
            const rows = Array.from({ length: n }, (_, k) => [k + 1, `item ${k + 1}`]);
            await db.executemany('INSERT INTO items VALUES (?, ?)', rows);
            await db.commit();
            await selects(n, mark, async (id) =>
              (await db.execute('SELECT id, name FROM items WHERE id = ?', [id])).fetchone(),
            );
          });
      },
    },
  ],
};
