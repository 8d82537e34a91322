// The documentation has no broken links (README.md, docs/*.md,
// examples/README.md; the generated API reference is checked by `npm run
// docs` in CI), and the checker itself catches what it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMarkdown, markdownFiles, slug } from '../scripts/check-links.ts';

void test('no broken relative link or anchor in the markdown documentation', () => {
  assert.ok(markdownFiles().length >= 4);
  assert.deepEqual(checkMarkdown(), []);
});

void test("anchors follow GitHub's rules", () => {
  assert.equal(slug('W3 — 100,000 tasks, each yielding once'), 'w3--100000-tasks-each-yielding-once');
  assert.equal(slug('From asyncio to `tsaio`'), 'from-asyncio-to-tsaio');
});

void test('the checker finds a missing file, a missing anchor, and skips code and URLs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-links-'));
  try {
    const page = join(dir, 'page.md');
    writeFileSync(join(dir, 'other.md'), '# Other page\n\n## A part\n');
    writeFileSync(
      page,
      [
        '# Title',
        '[ok](other.md#a-part) [self](#title) [web](https://example.com/x) `[code](nope.md)`',
        '[gone](missing.md) [bad anchor](other.md#nowhere)',
        '```md\n[in a fence](also-missing.md)\n```',
      ].join('\n'),
    );
    const broken = checkMarkdown([page]);
    assert.deepEqual(
      broken.map((b) => b.link),
      ['missing.md', 'other.md#nowhere'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
