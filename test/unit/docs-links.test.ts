/**
 * Every relative link in the Markdown docs (README.md, docs/*.md, examples/*\/README.md) points
 * at a file or directory that exists, and every #anchor at a heading of the target (GitHub's
 * slugs). The docs also name only files that exist when they say "examples/<name>".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { ROOT } from "../helpers/spawn.js";

/** GitHub's heading anchors for a Markdown text (duplicates get -1, -2, …). */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = md.replace(/^```[\s\S]*?^```$/gm, "");
  for (const m of text.matchAll(/^#{1,6} +(.*?) *#*$/gm)) {
    const slug = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** The relative links of a Markdown text (outside code), as written. */
function links(md: string): string[] {
  const text = md.replace(/^```[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
}

/** Problems with the links of the Markdown file `file` ([] when all resolve). */
function brokenLinks(file: string): string[] {
  const out: string[] = [];
  const md = readFileSync(file, "utf8");
  for (const link of links(md)) {
    const [path = "", anchor] = link.split("#");
    const target = path === "" ? file : join(dirname(file), path);
    if (!existsSync(target)) { out.push(`${relative(ROOT, file)}: ${link}: ${relative(ROOT, target)} does not exist`); continue; }
    if (anchor === undefined) continue;
    if (statSync(target).isDirectory() || !target.endsWith(".md")) { out.push(`${relative(ROOT, file)}: ${link}: an anchor into a non-Markdown target`); continue; }
    if (!anchors(readFileSync(target, "utf8")).has(anchor)) out.push(`${relative(ROOT, file)}: ${link}: no heading "#${anchor}" in ${relative(ROOT, target)}`);
  }
  return out;
}

function docFiles(): string[] {
  const files = [join(ROOT, "README.md")];
  for (const f of readdirSync(join(ROOT, "docs"))) if (f.endsWith(".md")) files.push(join(ROOT, "docs", f));
  for (const d of readdirSync(join(ROOT, "examples"))) {
    const r = join(ROOT, "examples", d, "README.md");
    if (existsSync(r)) files.push(r);
  }
  return files;
}

test("relative links and anchors in README.md, docs/ and the examples' READMEs resolve", () => {
  const files = docFiles();
  assert.ok(files.length >= 10, `found ${files.length} Markdown files`);
  const broken = files.flatMap(brokenLinks);
  assert.deepEqual(broken, []);
});

test("every example directory has a README and the docs name only examples that exist", () => {
  const examples = readdirSync(join(ROOT, "examples")).filter((d) => statSync(join(ROOT, "examples", d)).isDirectory());
  for (const d of examples) assert.ok(existsSync(join(ROOT, "examples", d, "README.md")), `examples/${d}/README.md`);
  const named = new Set(docFiles().flatMap((f) => [...readFileSync(f, "utf8").matchAll(/examples\/([a-z][\w-]*)/g)].map((m) => m[1]!)));
  for (const n of named) assert.ok(examples.includes(n), `the docs mention examples/${n}, which does not exist`);
});

test("the link check finds a missing file and a missing anchor", (t) => {
  assert.deepEqual([...anchors("# In containers, with `sdkit run`\n## Zero-downtime replacement\n## A\n## A\n```\n# not a heading\n```\n")],
    ["in-containers-with-sdkit-run", "zero-downtime-replacement", "a", "a-1"]);
  assert.deepEqual(links("see [a](docs/x.md#y), [b](https://example.com), `[c](z.md)` and [d](#here)"), ["docs/x.md#y", "#here"]);
  const dir = mkdtempSync(join(tmpdir(), "sdkit-links-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const md = join(dir, "page.md");
  const doc = relative(dir, join(ROOT, "docs", "troubleshooting.md"));
  writeFileSync(md, `# Page\n\n[ok](#page) [gone](missing.md) [bad anchor](${doc}#no-such-heading) [good](${doc}#error-codes)\n`);
  const broken = brokenLinks(md);
  assert.equal(broken.length, 2, broken.join("\n"));
  assert.match(broken[0]!, /missing\.md does not exist/);
  assert.match(broken[1]!, /no heading "#no-such-heading"/);
});
