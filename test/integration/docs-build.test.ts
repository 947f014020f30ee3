/**
 * `npm run docs` builds the API reference with no warning and no error: the real TypeDoc with
 * the repository's typedoc.json (treatWarningsAsErrors, validation notExported/invalidLink),
 * written to a temporary directory instead of docs/api.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/spawn.js";

function typedoc(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "node_modules", "typedoc", "bin", "typedoc"), "--out", out], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

test("typedoc builds the API reference from src/index.ts without warnings", async (t) => {
  const out = mkdtempSync(join(tmpdir(), "sdkit-typedoc-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const config = JSON.parse(readFileSync(join(ROOT, "typedoc.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual([config.entryPoints, config.treatWarningsAsErrors, config.out], [["src/index.ts"], true, "docs/api"]);

  const started = Date.now();
  const r = await typedoc(out);
  t.diagnostic(`typedoc took ${Date.now() - started} ms`);
  // eslint-disable-next-line no-control-regex
  const text = r.output.replace(/\x1b\[[0-9;]*m/g, "");
  assert.doesNotMatch(text, /\[(warning|error)\]/, `typedoc reported problems:\n${text}`);
  assert.equal(r.code, 0, text);

  // The reference has a page for the main entry points of each area.
  assert.ok(existsSync(join(out, "index.html")), "index.html was written");
  const pages = (dir: string) => (existsSync(join(out, dir)) ? readdirSync(join(out, dir)) : []);
  const functions = pages("functions");
  for (const f of ["listenTCP", "listenUnixgram", "notify", "ready", "barrier", "startWatchdog", "listenFdsWithNames", "replaceProcess", "startWorkers", "isTCPListener"]) {
    assert.ok(functions.includes(`${f}.html`), `functions/${f}.html exists (have ${functions.length} function pages)`);
  }
  const classes = pages("classes");
  for (const c of ["SdError", "UnixDatagramSocket", "NotifyReceiver", "ReplaceError"]) assert.ok(classes.includes(`${c}.html`), `classes/${c}.html exists`);
  // Doc comments made it into the pages.
  const listenTcp = readFileSync(join(out, "functions", "listenTCP.html"), "utf8");
  assert.match(listenTcp, /inherited socket/);
});
