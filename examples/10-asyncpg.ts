// Seed §10 "Async Databases", asyncpg (PostgreSQL). Mirrors:
//   conn = await asyncpg.connect(host="localhost", database="mydb", user="user", password="password")
//   rows = await conn.fetch("SELECT id, name FROM users WHERE active = $1", True)
//   for row in rows: print(row["id"], row["name"])
//   await conn.execute("INSERT INTO users(name, email) VALUES($1, $2)", "John Doe", "john@example.com")
//   await conn.close()
// The server is DATABASE_URL (default: the local one, postgres://127.0.0.1/test);
// `users` is a temporary table made here, so the example leaves nothing behind.
// Run: npm run example examples/10-asyncpg.ts
import { run } from 'tsaio';
import { connect } from 'tsaio/pg';

const DSN = process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test';

await run(async (signal) => {
  const conn = await connect(DSN, { signal });
  try {
    await conn.execute(
      'CREATE TEMP TABLE users (id serial PRIMARY KEY, name text, email text, active bool DEFAULT true)',
    );
    await conn.execute("INSERT INTO users(name, active) VALUES ('Ada', true), ('Bob', false), ('Cy', true)");

    // Query: rows are plain objects keyed by column name.
    const rows = await conn.fetch('SELECT id, name FROM users WHERE active = $1', true, { signal });
    for (const row of rows) console.log(row.id, row.name);

    // Insert: execute resolves to the status string, as asyncpg's does.
    const status = await conn.execute(
      'INSERT INTO users(name, email) VALUES($1, $2)',
      'John Doe',
      'john@example.com',
      { signal },
    );
    console.log(status);
    console.log(await conn.fetchrow('SELECT name, email FROM users WHERE id = $1', 4, { signal }));
  } finally {
    await conn.close();
  }
});
