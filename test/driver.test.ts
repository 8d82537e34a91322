// The optional drivers' loader (src/_driver.ts): a missing driver is an
// error that names the subpath, the package and the command that installs
// it; anything else a driver throws while loading passes through unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDriver, resolveDriver } from '../src/_driver.ts';

void test('a driver that is not installed: ERR_MODULE_NOT_FOUND naming the subpath, package and npm i', () => {
  const error = (() => {
    try {
      loadDriver('tsaio-no-such-driver', 'tsaio/x', ['tsaio-no-such-driver', 'tsaio-no-such-peer']);
    } catch (e) {
      return e as Error & { code?: string };
    }
    return assert.fail('loadDriver did not throw');
  })();
  assert.equal(error.code, 'ERR_MODULE_NOT_FOUND');
  assert.equal(
    error.message,
    "tsaio/x needs the package 'tsaio-no-such-driver' (an optional peer dependency of tsaio), which is not " +
      'installed: install it beside tsaio with `npm i tsaio-no-such-driver tsaio-no-such-peer`',
  );
  assert.equal((error.cause as { code?: string }).code, 'MODULE_NOT_FOUND');
  assert.throws(() => resolveDriver('tsaio-no-such-driver', 'tsaio/x', ['tsaio-no-such-driver']), {
    message: /^tsaio\/x needs the package 'tsaio-no-such-driver'.*`npm i tsaio-no-such-driver`$/,
  });
});

void test('an installed driver loads; what it throws while loading (a missing dependency of its own) passes through', () => {
  const pg = loadDriver('pg', 'tsaio/pg') as { Client: unknown };
  assert.equal(typeof pg.Client, 'function');
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-driver-'));
  try {
    const broken = join(dir, 'node_modules', 'broken-driver');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'package.json'), '{ "name": "broken-driver", "main": "index.js" }\n');
    writeFileSync(join(broken, 'index.js'), "require('tsaio-dependency-that-is-missing');\n");
    assert.throws(() => loadDriver(join(broken, 'index.js'), 'tsaio/x'), {
      code: 'MODULE_NOT_FOUND',
      message: /^Cannot find module 'tsaio-dependency-that-is-missing'/,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
