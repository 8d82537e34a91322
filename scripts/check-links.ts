// Checks the project's documentation for broken links: every relative link
// in README.md, docs/*.md and examples/README.md must name a file that
// exists, and a `#fragment` must name a heading of that file (GitHub's
// anchors); every relative `href` of the generated API reference (docs/api,
// made by `npm run docs`) must name a file that exists, and its fragment an
// `id` in it. Prints each broken link and exits 1 if there is one.
//
//   node --import tsx scripts/check-links.ts          # markdown, and docs/api if built
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A broken link: where it is and what is wrong. */
export interface Broken {
  file: string;
  link: string;
  why: string;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOfMarkdown(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const body = text.replace(/```[\s\S]*?```/g, '');
  for (const m of body.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function anchorsOfHtml(text: string): Set<string> {
  return new Set([...text.matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1]!));
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  return file.endsWith('.md') ? anchorsOfMarkdown(text) : anchorsOfHtml(text);
}

function check(file: string, links: string[]): Broken[] {
  const broken: Broken[] = [];
  const where = relative(ROOT, file);
  for (const link of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) continue; // http:, mailto:, ...
    const [path = '', fragment] = link.split('#', 2);
    const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(target)) {
      broken.push({ file: where, link, why: `no such file: ${relative(ROOT, target)}` });
      continue;
    }
    if (fragment === undefined || fragment === '' || statSync(target).isDirectory()) continue;
    if (!anchorsOf(target).has(decodeURIComponent(fragment))) {
      broken.push({ file: where, link, why: `no anchor #${fragment} in ${relative(ROOT, target)}` });
    }
  }
  return broken;
}

/** The markdown files of the project's documentation. */
export function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f));
  return [join(ROOT, 'README.md'), join(ROOT, 'examples', 'README.md'), ...docs];
}

/** Broken relative links of the markdown documentation (links inside code are not links). */
export function checkMarkdown(files = markdownFiles()): Broken[] {
  return files.flatMap((file) => {
    const text = readFileSync(file, 'utf8')
      .replace(/```[\s\S]*?```/g, '')
      .replace(/`[^`\n]*`/g, '');
    const links = [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
    return check(file, links);
  });
}

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? htmlFiles(join(dir, e.name)) : e.name.endsWith('.html') ? [join(dir, e.name)] : [],
  );
}

/** Broken relative links of the generated API reference. */
export function checkHtml(dir = join(ROOT, 'docs', 'api')): Broken[] {
  return htmlFiles(dir).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return check(
      file,
      [...text.matchAll(/\shref="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')),
    );
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const api = join(ROOT, 'docs', 'api');
  const htmlCount = existsSync(api) ? htmlFiles(api).length : 0;
  const broken = [...checkMarkdown(), ...(htmlCount > 0 ? checkHtml(api) : [])];
  for (const b of broken) console.error(`${b.file}: ${b.link} — ${b.why}`);
  const what = `${markdownFiles().length} markdown files${htmlCount > 0 ? ` and ${htmlCount} API pages` : ''}`;
  if (broken.length > 0) {
    console.error(`${broken.length} broken link(s) in ${what}`);
    process.exit(1);
  }
  console.log(`No broken links in ${what}.`);
}
