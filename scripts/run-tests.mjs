#!/usr/bin/env node
// Runs every test file (test/**/*.test.ts) with node's own test runner, TypeScript via tsx.
// Usage: node scripts/run-tests.mjs [dir-or-file ...]   (default: test/)
// Node 20 does not expand globs in `node --test`, so the files are collected here.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(p, out) {
  const st = statSync(p);
  if (st.isFile()) { if (p.endsWith(".test.ts")) out.push(p); return; }
  for (const e of readdirSync(p).sort()) collect(join(p, e), out);
}
const roots = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("-"));
const files = [];
for (const r of roots.length ? roots : ["test"]) collect(r, files);
const r = spawnSync(process.execPath, [
  "--import", "tsx", "--test", `--test-concurrency=${process.env.SDKIT_TEST_CONCURRENCY ?? 2}`,
  "--test-timeout=900000", ...flags, ...files,
], { stdio: "inherit" });
process.exit(r.status ?? 1);
