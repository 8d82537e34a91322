// Seed §10 "Connection Pool (Production Required)". Mirrors:
//   pool = await asyncpg.create_pool(host="localhost", database="mydb", user="user", password="password",
//                                    min_size=5, max_size=20)
//   async def query(user_id):
//       async with pool.acquire() as conn:
//           return await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
//   results = await asyncio.gather(*[query(i) for i in range(1, 11)])
//   await pool.close()
// The 10 queries each take 1 unit on the server (pg_sleep); run at once on the
// pool they take about 1 unit, not 10. The "users" here are made up by the
// query itself, so the example needs no table.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/10-asyncpg-pool.ts
import { gather, run } from 'tsaio';
import { createPool, type Pool } from 'tsaio/pg';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;
const DSN = process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test';
const USER = "SELECT $1::int AS id, 'user ' || $1 AS name, pg_backend_pid() AS pid FROM pg_sleep($2)";

async function query(pool: Pool, userId: number, signal: AbortSignal) {
  await using conn = await pool.acquire({ signal, timeout: 30_000 }); // released at the end of the block
  return conn.fetchrow<{ id: number; name: string; pid: number }>(USER, userId, UNIT / 1000, { signal });
}

await run(async (signal) => {
  const pool = await createPool({ dsn: DSN, minSize: 5, maxSize: 20 });
  try {
    const start = performance.now();
    const results = await gather(
      Array.from({ length: 10 }, (_, i) => (s: AbortSignal) => query(pool, i + 1, s)),
      {
        signal,
      },
    );
    const elapsed = (performance.now() - start) / UNIT;
    for (const row of results) console.log(row?.id, row?.name);
    console.log(`Connections used: ${new Set(results.map((r) => r?.pid)).size}`);
    console.log(`Elapsed: ${elapsed.toFixed(1)}s`);
  } finally {
    await pool.close();
  }
});
