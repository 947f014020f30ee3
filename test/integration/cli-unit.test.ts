// `sdkit unit` output checked by systemd itself: `systemd-analyze --user verify` must accept the
// generated files without a single warning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, fixture } from "../helpers/spawn.js";
import { SDKIT, finish, tempDir } from "../fixtures/cli-kit.js";

/** A unit directory with the stub targets that default dependencies point to. */
function unitDir(): { dir: string; runtime: string } {
  const base = tempDir("unit");
  const dir = join(base, "units"), runtime = join(base, "rt");
  mkdirSync(dir);
  mkdirSync(runtime, { mode: 0o700 });
  for (const t of ["default", "basic", "sockets", "shutdown", "timers", "paths", "multi-user"]) {
    writeFileSync(join(dir, `${t}.target`), `[Unit]\nDescription=${t}\n`);
  }
  return { dir, runtime };
}

function verify(dir: string, runtime: string, files: string[]) {
  return finish(spawn("systemd-analyze", ["--user", "verify", ...files], {
    env: { PATH: process.env.PATH!, SYSTEMD_UNIT_PATH: dir, XDG_RUNTIME_DIR: runtime }, stdio: ["ignore", "pipe", "pipe"],
  }));
}

test("generated service and socket units pass systemd-analyze --user verify without warnings", async () => {
  const { dir, runtime } = unitDir();
  const gen = await finish(spawn(SDKIT[0]!, [...SDKIT.slice(1), "unit", "-n", "web", "--description", "Web 100% ready",
    "-l", "127.0.0.1:8080", "-l", "[::1]:8080", "-l", "udp:127.0.0.1:5353", "-l", join(dir, "web.sock"), "-l", "@web-ctl", "-l", `fifo:${join(dir, "cmd.fifo")}`,
    "--fdname", "http:http:dns:ctl:ctl:pipe", "--watchdog-sec", "30s", "--fdstore-max", "8", "--reload-signal", "HUP",
    "--restart", "always", "--restart-sec", "100ms", "--notify-access", "main", "-E", "NODE_ENV=production", "-E", 'GREETING=hello "world" $USER',
    "--working-directory", ROOT, "-o", dir, "--", process.execPath, fixture("show-activation.ts"), "--flag=a b", "$HOME", "%i"],
  { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  assert.equal(gen.code, 0, gen.stderr);
  const files = gen.stdout.trim().split("\n");
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ["web.service", "web.socket", "web-dns.socket", "web-ctl.socket", "web-pipe.socket"]);
  const r = await verify(dir, runtime, files);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "no warnings");
  const svc = readFileSync(files[0]!, "utf8");
  assert.match(svc, /^Type=notify$/m);
  assert.match(svc, /^WatchdogSec=30s$/m);
  assert.match(svc, /^FileDescriptorStoreMax=8$/m);
  assert.match(svc, /^ExecReload=\/bin\/kill -s HUP \$MAINPID$/m);
  assert.match(svc, /^Sockets=web\.socket web-dns\.socket web-ctl\.socket web-pipe\.socket$/m);
  assert.match(readFileSync(files[2]!, "utf8"), /^ListenDatagram=127\.0\.0\.1:5353$/m);
});

test("verify catches what it should: the check is not vacuous", async () => {
  const { dir, runtime } = unitDir();
  writeFileSync(join(dir, "bad.service"), "[Service]\nType=notify\nExecStart=/nonexistent/program\n");
  const r = await verify(dir, runtime, [join(dir, "bad.service")]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /nonexistent/);
});

test("printing without -o, and refusing a value with a newline", async () => {
  const out = await finish(spawn(SDKIT[0]!, [...SDKIT.slice(1), "unit", "-n", "solo", "/bin/true"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^\[Service\]$/m);
  assert.doesNotMatch(out.stdout, /==>/, "one file is printed as is");
  const outDir = tempDir("no");
  const bad = await finish(spawn(SDKIT[0]!, [...SDKIT.slice(1), "unit", "-n", "x", "--description", "a\n[Service]\nExecStartPre=/bin/evil", "-o", outDir, "/bin/true"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^sdkit unit: The description must not contain newlines/);
  assert.equal(bad.stdout, "");
  assert.deepEqual(readdirSync(outDir), [], "nothing was written");
});
