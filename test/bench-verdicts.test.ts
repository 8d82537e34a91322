// The benchmark verdicts can fail, and docs/benchmarks.md holds no verdict
// the code could not produce: the bootstrap judge of bench/_verdict.ts on
// synthetic rounds; every verdict of the page computed again from the
// per-round figures written beside it; every target of bench/targets.json
// judged (or marked not measured, with a reason) and naming variants that
// exist. A measured section must name a clean commit in the history of HEAD.
// The verdict lines are compared whole, so a change to a target or to the
// wording of the judge needs the section measured again (the runner rewrites
// it); placeholders are rewritten by `node --import tsx bench/run.ts --contents`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WORKLOADS } from '../bench/_all.ts';
import type { Figure, Target } from '../bench/_verdict.ts';
import {
  BOOTSTRAP_SEED,
  MIN_ROUNDS,
  bootstrapMedian,
  judge,
  loadTargets,
  median,
  parseRounds,
  rng,
  targetHead,
  targetLines,
} from '../bench/_verdict.ts';
import { DIRTY, VERDICTS_LINE, contents, sections } from '../bench/_report.ts';

const within = (bound: number, op: Target['op'] = '<=') => ({ bound, op, baseline: 'b' });

/** `n` ratios spread evenly over [lo, hi], as judged/baseline figure pairs with baseline 100. */
function pairs(n: number, lo: number, hi: number): { a: Figure[]; b: Figure[] } {
  const ratios = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, n - 1));
  return { a: ratios.map((r) => r * 100), b: ratios.map(() => 100) };
}

void describe('the bootstrap judge (bench/_verdict.ts)', () => {
  void test('clearly within the bound: met', () => {
    const { a, b } = pairs(8, 0.95, 1.05);
    const j = judge(within(1.2), a, b);
    assert.equal(j.word, 'met');
    assert.equal(j.rounds, 8);
    assert.ok(j.interval[0] <= 1 && j.interval[1] <= 1.05, `interval ${j.interval}`);
  });

  void test('clearly beyond the bound: MISSED', () => {
    const { a, b } = pairs(8, 1.4, 1.6);
    assert.equal(judge(within(1.2), a, b).word, 'MISSED');
  });

  void test('straddling the bound: inconclusive', () => {
    const { a, b } = pairs(10, 1.0, 1.4);
    const j = judge(within(1.2), a, b);
    assert.equal(j.word, 'inconclusive');
    assert.ok(j.interval[0] < 1.2 && j.interval[1] > 1.2, `interval ${j.interval}`);
  });

  void test('a median within the bound is not enough: one wide run is inconclusive', () => {
    // Median 1.10 ≤ 1.2, but half the rounds are far beyond: the old "median ≤ bound" said met.
    const ratios = [0.9, 0.95, 1.0, 1.05, 1.1, 1.1, 1.5, 1.6, 1.7, 1.8];
    const j = judge(
      within(1.2),
      ratios.map((r) => r * 100),
      ratios.map(() => 100),
    );
    assert.ok(median(ratios) <= 1.2);
    assert.equal(j.word, 'inconclusive');
  });

  void test(`fewer than ${MIN_ROUNDS} rounds: inconclusive however clear`, () => {
    const { a, b } = pairs(MIN_ROUNDS - 1, 1.0, 1.0);
    const j = judge(within(2), a, b);
    assert.equal(j.word, 'inconclusive');
    assert.match(j.why ?? '', /fewer than/);
  });

  void test('failed rounds are left out; no round with both figures: not measured', () => {
    const { a, b } = pairs(8, 1.0, 1.0);
    assert.equal(judge(within(1.2), a, [...b.slice(0, 4), null, null, null, null]).word, 'inconclusive');
    assert.equal(
      judge(
        within(1.2),
        a,
        a.map(() => null),
      ).word,
      'not measured',
    );
  });

  void test('"ahead of" (< 1): exactly 1 is not ahead', () => {
    const { a, b } = pairs(8, 1.0, 1.0);
    assert.equal(judge(within(1, '<'), a, b).word, 'MISSED');
    assert.equal(judge(within(1, '<='), a, b).word, 'met');
  });

  void test('an absolute bound judges the figure itself', () => {
    const ms = [1010, 1020, 1030, 1015, 1025, 1012, 1018];
    assert.equal(judge({ bound: 1050, op: '<=', baseline: null }, ms, null).word, 'met');
    assert.equal(judge({ bound: 1000, op: '<=', baseline: null }, ms, null).word, 'MISSED');
  });

  void test('a baseline that never finished bounds the ratio from above only', () => {
    const a: Figure[] = Array.from({ length: 8 }, () => 1000);
    const gaveUp: Figure[] = a.map(() => ({ atLeast: 15_000 }));
    // judged 1 s, baseline at least 15 s: ratio at most 0.067, so ahead of it.
    assert.equal(judge(within(1, '<'), a, gaveUp).word, 'met');
    // ...but nothing can be said about "at least 0.5× the baseline".
    assert.equal(judge({ bound: 0.05, op: '<=', baseline: 'b' }, a, gaveUp).word, 'inconclusive');
    // a judged variant that never finished, against a baseline that did: beyond.
    assert.equal(judge(within(1.2), gaveUp, a).word, 'MISSED');
  });

  void test('the bootstrap is seeded: same seed, same interval; the interval holds the median', () => {
    const random = rng(7);
    const xs = Array.from({ length: 12 }, () => 1 + random() / 5);
    const [first] = bootstrapMedian([xs], BOOTSTRAP_SEED);
    const [again] = bootstrapMedian([xs], BOOTSTRAP_SEED);
    assert.deepEqual(first, again);
    assert.ok(first![0] <= median(xs) && median(xs) <= first![1]);
    assert.ok(first![0] >= Math.min(...xs) && first![1] <= Math.max(...xs));
  });

  void test('the lines written for a target read back to the same verdict', () => {
    const t: Target = {
      id: 'X-1',
      workload: 'X',
      judged: 'a',
      baseline: 'b',
      metric: 'elapsed',
      op: '<=',
      bound: 1.2,
      description: 'a within 1.2× of b',
      source: 'test',
    };
    const a: Figure[] = [101.23456789, 99, null, 103, { atLeast: 15_000 }, 98, 97, 100];
    const b: Figure[] = [100, 100, 100, null, 100, 100, 100, 100];
    const lines = targetLines(t, a, b);
    assert.ok(lines[0]!.startsWith(targetHead(t) + ': **'));
    const back = parseRounds(t, lines[1]!);
    assert.deepEqual(targetLines(t, back.judged, back.baseline!), lines);
  });
});

void describe('bench/targets.json', () => {
  const targets = loadTargets();

  void test('every target names its workload, judged variant and baseline as they exist', () => {
    const ids = new Set<string>();
    for (const t of targets) {
      assert.ok(!ids.has(t.id), `${t.id} twice`);
      ids.add(t.id);
      const w = WORKLOADS.find((x) => x.id === t.workload);
      assert.ok(w, `${t.id}: no workload ${t.workload}`);
      const names = w.variants.map((v) => v.name);
      assert.ok(names.includes(t.judged), `${t.id}: ${t.workload} has no variant ${t.judged}`);
      if (t.baseline !== null)
        assert.ok(names.includes(t.baseline), `${t.id}: ${t.workload} has no variant ${t.baseline}`);
      assert.notEqual(t.judged, t.baseline, `${t.id}: judged against itself`);
      assert.match(t.metric, /^(elapsed|cpu|peakRss|rssGrowth|extra:.+)$/, t.id);
      assert.ok(t.op === '<=' || t.op === '<', `${t.id}: op ${t.op}`);
      assert.ok(Number.isFinite(t.bound) && t.bound > 0, `${t.id}: bound ${t.bound}`);
      assert.ok(t.description.trim() !== '' && t.source.trim() !== '', `${t.id}: description and source`);
      assert.match(t.id, /^[\w'-]+$/, `${t.id}: id`);
    }
  });

  void test('every workload has targets, and none judges itself', () => {
    for (const w of WORKLOADS) {
      assert.ok(
        targets.some((t) => t.workload === w.id),
        `${w.id} has no target`,
      );
      assert.ok(!('judge' in w), `${w.id} still has a judge of its own`);
    }
  });
});

void describe('docs/benchmarks.md', () => {
  const targets = loadTargets();
  const text = readFileSync(new URL('../docs/benchmarks.md', import.meta.url), 'utf8');
  const all = sections(text);

  void test('has a section for every workload and no other', () => {
    assert.deepEqual(
      [...all.keys()],
      WORKLOADS.map((w) => w.id),
    );
  });

  for (const w of WORKLOADS) {
    void test(`${w.id}: every verdict is what bench/_verdict.ts computes from the rounds written beside it`, () => {
      const body = all.get(w.id);
      assert.ok(body !== undefined, `no section for ${w.id}`);
      const lines = body.split('\n');
      const own = targets.filter((t) => t.workload === w.id);
      const measured = body.includes(VERDICTS_LINE);
      if (measured) {
        assert.ok(!body.includes(DIRTY), `${w.id} was measured on uncommitted code`);
        const commit = /^- Code: commit ([0-9a-f]{7,40}), clean tree$/m.exec(body)?.[1];
        assert.ok(commit, `${w.id}: no clean, named commit`);
        assertCommitKnown(commit);
        const runs = Number(/^- Measured: .*; rounds: (\d+)$/m.exec(body)?.[1]);
        assert.ok(runs >= 1, `${w.id}: no rounds`);
        for (const t of own) {
          const at = lines.findIndex((l) => l.startsWith(targetHead(t) + ': '));
          assert.ok(at >= 0, `${t.id} has no verdict in ${w.id}`);
          const { judged, baseline } = parseRounds(t, lines[at + 1] ?? '');
          assert.equal(judged.length, runs, `${t.id}: ${judged.length} rounds written, ${runs} run`);
          assert.deepEqual(
            targetLines(t, judged, baseline),
            [lines[at], lines[at + 1]],
            `${t.id}: the verdict written is not the one its rounds give`,
          );
        }
      } else {
        for (const t of own) {
          const line = lines.find((l) => l.startsWith(targetHead(t) + ': '));
          assert.ok(line, `${t.id} has no line in ${w.id}`);
          assert.match(line, /: \*\*not measured\*\* — \S.*$/, `${t.id}: not measured, with a reason`);
        }
      }
      // No verdict-like line for anything but a target of this workload.
      for (const m of body.matchAll(/^- `([^`]+)` .*\*\*(met|MISSED|inconclusive|not measured)\*\*/gm)) {
        assert.ok(
          own.some((t) => t.id === m[1]),
          `${w.id}: a verdict for ${m[1]}, no target of ${w.id}`,
        );
      }
      assert.doesNotMatch(
        measured ? '' : body,
        /\*\*(met|MISSED|inconclusive)\*\*/,
        `${w.id}: a verdict with no run behind it`,
      );
    });
  }

  void test('the table of contents repeats the verdicts of the sections', () => {
    const toc = /^## Contents\n[\s\S]*?(?=^## W)/m.exec(text)?.[0];
    assert.ok(toc, 'no contents');
    assert.equal(
      toc,
      contents(
        WORKLOADS.map((w) => w.id),
        all,
      ) + '\n',
    );
  });
});

/** The commit a section names is in the history of what is checked out (when git can tell). */
function assertCommitKnown(commit: string): void {
  let known: boolean;
  try {
    execFileSync('git', ['merge-base', '--is-ancestor', commit, 'HEAD'], { stdio: 'ignore' });
    known = true;
  } catch (error) {
    // No git at all: nothing to check against.
    if ((error as { status?: number | null }).status == null) return;
    known = false;
  }
  assert.ok(known, `commit ${commit} is not in the history of HEAD`);
}
