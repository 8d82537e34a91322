// W8: 20,000 `SELECT $1::int` with 50 in flight through a pool of 10.
//
// Every variant runs in its own child process against the machine's
// PostgreSQL (DATABASE_URL, else 127.0.0.1:5432/test). Its pool is opened in
// `load()`, outside the timed body, and warmed with 50 queries so that all
// 10 connections are open (and, for the variants that prepare, the
// statement is prepared on each). The body is the same for every client: 50
// workers looping "take the next number i, run SELECT $1::int with i, check
// the value" until all N are done, so only the client differs.
//
// `pg-pool` is the raw driver tsaio/pg is built on (node-postgres) with
// unnamed statements; `pg-pool-named` is node-postgres with a named
// (prepared) statement, as tsaio's statement cache sends: the target, tsaio
// within 10% of its raw driver, is judged against it (like for like).
// `postgres` is postgres.js's own pool, which pipelines several queries on
// one connection; `postgres-reserve` is postgres.js used the way the asyncpg
// API uses a connection (one query at a time on a connection held for it):
// the driver measurement behind the choice (docs/pg.md).
//
// `tsaio` pipelines (its pool sends a read without signal or timeout on a
// busy connection, in node-postgres's pipeline mode); `tsaio-alone` is the
// same call with a signal, which is never pipelined (one statement per
// connection at a time, as pg-pool-named). `pg-pipeline` is node-postgres's
// pipeline mode used raw: 10 clients, queries spread round robin.
import type { Body, Workload } from './_workload.ts';
import { sharedDsn } from '../test/_postgres.ts';

const IN_FLIGHT = 50;
const POOL = 10;
const SQL = 'SELECT $1::int AS v';

type Query = (i: number) => Promise<unknown>;

async function drive(n: number, query: Query): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const v = await query(i);
      if (v !== i) throw new Error(`bad value ${String(v)} for ${i}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** Warms `query` (all connections open) and returns the body. */
async function ready(query: Query): Promise<Body> {
  await drive(IN_FLIGHT, query);
  return async (n, mark) => {
    mark();
    await drive(n, query);
  };
}

export const w8: Workload = {
  id: 'W8',
  title: '20,000 `SELECT $1::int`, 50 in flight, through a pool of 10 connections',
  n: 20_000,
  note:
    "Against the machine's PostgreSQL 15 over 127.0.0.1 (shared with the other processes of the machine). " +
    'Each pool is opened and warmed (50 queries: every connection open) outside the timed body; the body is ' +
    'the same for every client: 50 workers looping "SELECT $1::int with the next number, check it" until N ' +
    'are done. Queries/s = N / elapsed. `pg-pool` is the raw driver tsaio/pg runs on (node-postgres) with unnamed ' +
    'statements; `pg-pool-named` the same with a named statement, as tsaio sends, so the target is judged against it. ' +
    '`tsaio` pipelines these reads (several on a busy connection, node-postgres pipeline mode); `tsaio-alone` gives each ' +
    'call a signal, which keeps it alone on its connection; `pg-pipeline` is node-postgres pipeline mode used raw (10 clients, round robin).',
  unit: 'query',
  baseline: 'pg-pool-named',
  variants: [
    {
      name: 'pg-pool',
      code: "const pool = new pg.Pool({ max: 10 }); (await pool.query('SELECT $1::int AS v', [i])).rows[0].v",
      async load() {
        const { default: pg } = await import('pg');
        const pool = new pg.Pool({ connectionString: sharedDsn(), max: POOL });
        return ready(async (i) => (await pool.query(SQL, [i])).rows[0].v);
      },
    },
    {
      name: 'tsaio',
      code: "const pool = await createPool({ minSize: 10, maxSize: 10 }); await pool.fetchval('SELECT $1::int AS v', i)",
      async load() {
        const { createPool } = await import('tsaio/pg');
        const pool = await createPool({ dsn: sharedDsn(), minSize: POOL, maxSize: POOL });
        return ready((i) => pool.fetchval(SQL, i));
      },
    },
    {
      name: 'tsaio-alone',
      code: "const signal = new AbortController().signal; await pool.fetchval('SELECT $1::int AS v', i, { signal })",
      async load() {
        const { createPool } = await import('tsaio/pg');
        const pool = await createPool({ dsn: sharedDsn(), minSize: POOL, maxSize: POOL });
        // A call with a signal can be cancelled, so it is never pipelined: one statement per connection at a time.
        const signal = new AbortController().signal;
        return ready((i) => pool.fetchval(SQL, i, { signal }));
      },
    },
    {
      name: 'pg-pool-named',
      code: "(await pool.query({ name: 'w8', text: 'SELECT $1::int AS v', values: [i] })).rows[0].v",
      async load() {
        const { default: pg } = await import('pg');
        const pool = new pg.Pool({ connectionString: sharedDsn(), max: POOL });
        return ready(async (i) => (await pool.query({ name: 'w8', text: SQL, values: [i] })).rows[0].v);
      },
    },
    {
      name: 'pg-pipeline',
      code: "const c = clients[i % 10]; /* new pg.Client({ pipeline: true }) */ (await c.query({ name: 'w8', text: 'SELECT $1::int AS v', values: [i] })).rows[0].v",
      async load() {
        const { default: pg } = await import('pg');
        const clients = await Promise.all(
          Array.from({ length: POOL }, async () => {
            const c = new pg.Client({ connectionString: sharedDsn(), pipeline: true });
            await c.connect();
            return c;
          }),
        );
        let turn = 0;
        return ready(
          async (i) =>
            (await clients[turn++ % POOL]!.query({ name: 'w8', text: SQL, values: [i] })).rows[0].v,
        );
      },
    },
    {
      name: 'postgres',
      code: 'const sql = postgres({ max: 10 }); (await sql`SELECT ${i}::int AS v`)[0].v',
      async load() {
        const { default: postgres } = await import('postgres');
        const sql = postgres(sharedDsn(), { max: POOL, onnotice: () => {} });
        return ready(async (i) => (await sql`SELECT ${i}::int AS v`)[0]!.v);
      },
    },
    {
      name: 'postgres-reserve',
      code: 'const c = await sql.reserve(); try { (await c`SELECT ${i}::int AS v`)[0].v } finally { c.release() }',
      async load() {
        const { default: postgres } = await import('postgres');
        const sql = postgres(sharedDsn(), { max: POOL, onnotice: () => {} });
        return ready(async (i) => {
          const c = await sql.reserve();
          try {
            return (await c`SELECT ${i}::int AS v`)[0]!.v;
          } finally {
            c.release();
          }
        });
      },
    },
  ],
};
