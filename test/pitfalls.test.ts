// The seed's four pitfalls (section 13), in TypeScript, and what tsaio does
// about each — docs/pitfalls.md describes them; every claim there is shown here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { InvalidStateError, createTask, gather, getRunningLoop, run, sleep } from '../src/index.ts';
import { recommended } from '../src/eslint/index.ts';
import { closeRunSync, runSync, toThread } from '../src/executor/index.ts';
import { runVirtual } from '../src/testing.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UNIT = 100;

/** What console.warn printed while `fn` ran. */
async function warnings(fn: () => Promise<unknown>): Promise<string[]> {
  const out: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void out.push(args.map(String).join(' '));
  try {
    await fn();
  } finally {
    console.warn = warn;
  }
  return out;
}

/** Blocks the thread it runs on for `ms`, as `time.sleep` or `requests.get` would. */
function blockFor(ms: number): string {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return 'done';
}

void describe('pitfall 1: a blocking call inside a task', () => {
  void test('debug mode names the task that blocked the loop, and for how long', async () => {
    const out = await warnings(() =>
      run(async () => void (await createTask(() => blockFor(2 * UNIT), { name: 'bad-fetch' })), {
        debug: true,
      }),
    );
    const about = out.filter((m) => m.includes("name='bad-fetch'"));
    assert.equal(about.length, 1, out.join('\n'));
    assert.match(
      about[0]!,
      /^Executing <Task \w+ name='bad-fetch'> took \d+\.\d{3} seconds\n {2}created at:/,
    );
  });

  void test('the same call through toThread leaves the loop free: no warning, and a timer keeps ticking', async () => {
    let ticks = 0;
    const out = await warnings(() =>
      run(
        async () => {
          const ticker = setInterval(() => ticks++, 10);
          try {
            const job = createTask(() => toThread(blockFor, 3 * UNIT), { name: 'good-fetch' });
            assert.equal(await job, 'done');
          } finally {
            clearInterval(ticker);
          }
        },
        { debug: true },
      ),
    );
    assert.deepEqual(
      out.filter((m) => m.includes("name='good-fetch'")),
      [],
    );
    assert.ok(ticks >= 5, `the loop ran its timer while the thread blocked (${ticks} ticks)`);
  });
});

void describe('pitfall 2: a forgotten await', () => {
  void test("tsaio/eslint's recommended rules report the floating promise, with its line", async () => {
    const eslint = new ESLint({
      cwd: ROOT,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ['**/*.ts'],
          languageOptions: {
            parser: tseslint.parser,
            // A project of the fixture alone: linting it does not load the whole repo.
            parserOptions: { project: ['test/fixtures/tsconfig.pitfall.json'], tsconfigRootDir: ROOT },
          },
          plugins: { '@typescript-eslint': tseslint.plugin as never, ...recommended.plugins },
          rules: recommended.rules as Linter.RulesRecord,
        },
      ],
    });
    const [result] = await eslint.lintFiles(['test/fixtures/pitfall-floating.ts']);
    const found = result!.messages.map((m) => `${m.line}: ${m.ruleId}`);
    assert.deepEqual(found, ['8: @typescript-eslint/no-floating-promises']);
  });

  void test("the project's own lint config turns on every recommended rule", () => {
    const config = readFileSync(`${ROOT}/eslint.config.js`, 'utf8');
    for (const rule of Object.keys(recommended.rules)) {
      assert.ok(config.includes(`'${rule}': 'error'`), `${rule} is on in eslint.config.js`);
    }
  });

  void test('at run time, debug mode reports the error of a task nobody awaited', async () => {
    const out: string[] = [];
    const loop = getRunningLoop();
    loop.setExceptionHandler((_loop, context) => void out.push(context.message));
    try {
      await run(
        async () => {
          createTask(async () => Promise.reject(new Error('lost')), { name: 'forgotten' }); // no await
          await sleep(5);
        },
        { debug: true },
      );
    } finally {
      loop.setExceptionHandler(null);
    }
    assert.equal(out.length, 1, out.join('\n'));
    assert.match(out[0]!, /^Task exception was never retrieved: <Task finished name='forgotten'/);
  });
});

void describe('pitfall 3: sequential awaits where gather was meant', () => {
  const fetchOne = (url: string) => sleep(UNIT, `Data from ${url}`);

  void test('three awaits one after another take the sum of their times; gather takes the longest (virtual time)', async () => {
    const { sequential, concurrent } = await runVirtual(async () => {
      const loop = getRunningLoop();
      let start = loop.time();
      const r1 = await fetchOne('url1');
      const r2 = await fetchOne('url2');
      const r3 = await fetchOne('url3');
      const sequential = loop.time() - start;
      start = loop.time();
      const together = await gather([fetchOne('url1'), fetchOne('url2'), fetchOne('url3')]);
      const concurrent = loop.time() - start;
      assert.deepEqual([r1, r2, r3], together);
      return { sequential, concurrent };
    });
    assert.equal(sequential, 3 * UNIT);
    assert.equal(concurrent, UNIT);
  });
});

void describe('pitfall 4: run() inside a running program', () => {
  void test('run() inside run() is refused, with a message that says to await instead', async () => {
    const inner = async () => 'inner result';
    await run(async () => {
      await assert.rejects(
        run(inner),
        (e) => e instanceof InvalidStateError && /await the function instead/.test(e.message),
      );
      assert.equal(await inner(), 'inner result'); // what Jupyter's `await main()` is
    });
  });

  void test('from sync code, runSync gives an async result without a nested loop', () => {
    const syncFunction = (): number =>
      runSync(async (x: number) => {
        await new Promise((r) => setTimeout(r, 10));
        return x * 2;
      }, 21);
    try {
      assert.equal(syncFunction(), 42);
    } finally {
      closeRunSync();
    }
  });
});
