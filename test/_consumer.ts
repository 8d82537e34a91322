// The programs test/package.test.ts type-checks and runs in fresh projects
// that installed the packed tarball: one per subpath, written as a user
// would, each printing one line the test expects.

/** Subpaths that need nothing beyond `npm i tsaio`. */
export const CORE: Readonly<Record<string, string>> = {
  core: `import { gather, run, sleep, TaskGroup, timeout, TimeoutError } from 'tsaio';

const out = await run(async (signal) => {
  await using tg = new TaskGroup({ signal });
  const a = tg.createTask(async () => {
    await sleep(5);
    return 1;
  });
  const [b, c] = await gather([async () => 2, async () => 3]);
  let timedOut = false;
  try {
    await timeout(10, (s) => sleep(10_000, undefined, { signal: s }));
  } catch (error) {
    timedOut = error instanceof TimeoutError;
  }
  return (await a) + b + c + (timedOut ? 10 : 0);
});
console.log(\`tsaio \${out}\`);
`,
  http: `import { run } from 'tsaio';
import { ClientSession, startTestServer } from 'tsaio/http';

const title = await run(async (signal) => {
  await using server = await startTestServer();
  await using session = new ClientSession();
  await using response = await session.get(\`\${server.url}/json\`, { signal });
  const data = await response.json<{ slideshow: { title: string } }>();
  return data.slideshow.title;
});
console.log(\`tsaio/http \${title}\`);
`,
  fs: `import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'tsaio/fs';

const dir = mkdtempSync(join(tmpdir(), 'tsaio-consumer-'));
try {
  const path = join(dir, 'a.txt');
  {
    await using f = await open(path, 'w', { encoding: 'utf-8' });
    await f.write('written');
  }
  await using f = await open(path, 'r', { encoding: 'utf-8' });
  console.log(\`tsaio/fs \${await f.read()}\`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
`,
  executor: `import { run } from 'tsaio';
import { shutdownDefaultExecutor, toThread } from 'tsaio/executor';

const n = await run(async () => {
  try {
    return await toThread((x: number) => x * 2, 21);
  } finally {
    await shutdownDefaultExecutor();
  }
});
console.log(\`tsaio/executor \${n}\`);
`,
  testing: `import { sleep } from 'tsaio';
import { runVirtual } from 'tsaio/testing';

const slept = await runVirtual(async () => {
  await sleep(3_600_000);
  return 'an hour';
});
console.log(\`tsaio/testing \${slept}\`);
`,
  eslint: `import tsaio, { configs, rules } from 'tsaio/eslint';

const names = Object.keys(rules).join(',');
const same = tsaio.rules === rules && typeof configs.recommended === 'object';
console.log(\`tsaio/eslint \${names} \${same}\`);
`,
};

/** What each core program prints. */
export const CORE_OUTPUT: Readonly<Record<string, RegExp>> = {
  core: /^tsaio 16$/m,
  http: /^tsaio\/http Sample Slide Show$/m,
  fs: /^tsaio\/fs written$/m,
  executor: /^tsaio\/executor 42$/m,
  testing: /^tsaio\/testing an hour$/m,
  eslint: /^tsaio\/eslint \S*pass-signal\S* true$/m,
};

/** Plain JavaScript, no compiler: an ES module and a CommonJS `require`. */
export const PLAIN_MJS = `import { run, sleep } from 'tsaio';
import { ClientSession } from 'tsaio/http';
const n = await run(async () => {
  await sleep(1);
  return typeof ClientSession;
});
console.log('mjs ' + n);
`;

export const PLAIN_CJS = `const { run, sleep } = require('tsaio');
const { open } = require('tsaio/fs');
run(async () => {
  await sleep(1);
  return typeof open;
}).then((n) => console.log('cjs ' + n));
`;

/** Imports each driver subpath and prints what it threw, one JSON line each (ESM and CommonJS). */
export const MISSING_MJS = `for (const subpath of ['tsaio/pg', 'tsaio/sqlite', 'tsaio/nats']) {
  try {
    await import(subpath);
    console.log(JSON.stringify({ subpath, threw: null }));
  } catch (error) {
    console.log(JSON.stringify({ subpath, code: error.code, message: error.message }));
  }
}
`;

export const MISSING_CJS = `for (const subpath of ['tsaio/pg', 'tsaio/sqlite', 'tsaio/nats']) {
  try {
    require(subpath);
    console.log(JSON.stringify({ subpath, threw: null }));
  } catch (error) {
    console.log(JSON.stringify({ subpath, code: error.code, message: error.message }));
  }
}
`;

/** `tsaio/pg` against the machine's PostgreSQL (DATABASE_URL). */
export const PG = `import { run } from 'tsaio';
import { connect, createPool } from 'tsaio/pg';

const dsn = process.env['DATABASE_URL'] ?? 'postgres://root@127.0.0.1:5432/test';
const out = await run(async (signal) => {
  await using conn = await connect(dsn, { signal });
  const two = await conn.fetchval<number>('SELECT 1 + 1', { signal });
  await using pool = await createPool({ dsn, minSize: 1, maxSize: 2 });
  const three = await pool.fetchval<number>('SELECT $1::int + 1', 2);
  return \`\${two} \${three}\`;
});
console.log(\`tsaio/pg \${out}\`);
`;

/** `tsaio/sqlite` on a database in memory. */
export const SQLITE = `import { run } from 'tsaio';
import { connect } from 'tsaio/sqlite';

const rows = await run(async (signal) => {
  await using db = await connect(':memory:', { signal });
  await db.execute('CREATE TABLE t (x INTEGER)');
  await db.executemany('INSERT INTO t VALUES (?)', [[1], [2], [3]]);
  await using cursor = await db.execute('SELECT sum(x) AS s FROM t');
  return cursor.fetchall();
});
console.log(\`tsaio/sqlite \${JSON.stringify(rows)}\`);
`;

/** `tsaio/nats` against the machine's NATS server (127.0.0.1:4222). */
export const NATS = `import { run } from 'tsaio';
import { connect } from 'tsaio/nats';

const connected = await run(async () => {
  await using conn = await connect('127.0.0.1:4222');
  const info = await conn.jsm.getAccountInfo();
  return conn.connected && info.streams >= 0;
});
console.log(\`tsaio/nats \${connected}\`);
`;
