/**
 * docs/troubleshooting.md has one entry per error code, no more and no fewer: every key of
 * ERROR_CODES (src/errors.ts) has a "### ERR_SD_…" section under "## Error codes", in
 * alphabetical order, each saying what the code means and how to fix it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CODES } from "../../src/errors.js";
import { ROOT } from "../helpers/spawn.js";

const DOC = join(ROOT, "docs", "troubleshooting.md");

/** The problems with `text` as the troubleshooting page for `codes` ([] when it is complete). */
function problems(text: string, codes: readonly string[]): string[] {
  const start = text.indexOf("\n## Error codes\n");
  if (start < 0) return ['no "## Error codes" section'];
  const part = text.slice(start);
  const sections = part.split(/^### /m).slice(1).map((s) => {
    const [heading = "", ...body] = s.split("\n");
    return { code: heading.trim(), body: body.join("\n") };
  });
  const out: string[] = [];
  const documented = sections.map((s) => s.code);
  for (const c of codes) if (!documented.includes(c)) out.push(`${c} has no entry`);
  for (const c of documented) if (!codes.includes(c)) out.push(`${c} is documented but is not an error code`);
  const dupes = documented.filter((c, i) => documented.indexOf(c) !== i);
  for (const c of dupes) out.push(`${c} is documented twice`);
  if (JSON.stringify(documented) !== JSON.stringify([...documented].sort())) out.push("the entries are not in alphabetical order");
  for (const s of sections) {
    const means = /\*\*Means:\*\* \S/.test(s.body), fix = /\*\*Fix:\*\* \S/.test(s.body);
    if (!means || !fix) out.push(`${s.code} lacks ${!means ? '"**Means:**"' : ""}${!means && !fix ? " and " : ""}${!fix ? '"**Fix:**"' : ""}`);
  }
  return out;
}

test("docs/troubleshooting.md explains every ERR_SD_* code, each with what it means and how to fix it", () => {
  const codes = Object.keys(ERROR_CODES);
  assert.ok(codes.length >= 30, "the codes were read");
  assert.deepEqual(problems(readFileSync(DOC, "utf8"), codes), []);
});

test("the check catches a missing entry, an unknown code, a duplicate, disorder and a missing fix", () => {
  const text = readFileSync(DOC, "utf8");
  const codes = Object.keys(ERROR_CODES);
  const missing = text.replace(/^### ERR_SD_LOCKED\n/m, "### ERR_SD_LOCKED_OUT\n");
  assert.deepEqual(problems(missing, codes), ["ERR_SD_LOCKED has no entry", "ERR_SD_LOCKED_OUT is documented but is not an error code"]);
  const twice = `${text}\n### ERR_SD_ACTIVATION\n\n**Means:** x\n\n**Fix:** y\n`;
  assert.deepEqual(problems(twice, codes), ["ERR_SD_ACTIVATION is documented twice", "the entries are not in alphabetical order"]);
  const noFix = text.replace(/(### ERR_SD_TIMEOUT\n[\s\S]*?)\*\*Fix:\*\*/, "$1**Hint:**");
  assert.deepEqual(problems(noFix, codes), ['ERR_SD_TIMEOUT lacks "**Fix:**"']);
  assert.deepEqual(problems("# nothing\n", codes), ['no "## Error codes" section']);
});
