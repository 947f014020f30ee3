/**
 * Socket activation by the real `systemd-socket-activate` (252): the library, inside the
 * fixture show-activation.ts, must see exactly the fds, names and kinds the activator passed,
 * make every fd CLOEXEC and clear LISTEN_*; a names/fds count mismatch must be an
 * ActivationError, not a crash.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixture } from "../helpers/spawn.js";
import { freePort, socketActivate, type ActivateResult } from "../harness/socket-activate.js";

// The activator's child sees PATH/HOME only: run node by absolute path, tsx by --import (cwd = repo).
const SHOW = [process.execPath, "--import", "tsx", fixture("show-activation.ts")];
const dir = mkdtempSync(join(tmpdir(), "sdkit-sa-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Shown {
  pid: number;
  count?: number;
  names?: string[];
  fds?: { fd: number; name: string; what: string; cloexec: boolean }[];
  error?: { name: string; code: string; message: string };
  env: Record<string, string | null>;
}

/** The fixture's JSON line, after checking it exited 0 as the activator's exec'd self. */
function shown(r: ActivateResult): Shown {
  assert.equal(r.code, 0, `fixture failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, `expected one JSON line, got: ${r.stdout}`);
  const out = JSON.parse(lines[0]!) as Shown;
  assert.equal(out.pid, r.pid, "the activator execs the program in place: LISTEN_PID is the activator's pid");
  return out;
}

const GONE = { LISTEN_PID: null, LISTEN_FDS: null, LISTEN_FDNAMES: null, LISTEN_PIDFDID: null };

test("TCP, Unix stream and IPv6 listeners with --fdname: names, kinds, CLOEXEC, env cleared", async () => {
  const [p1, p2] = [await freePort(), await freePort("::1")];
  const sock = join(dir, "ctl.sock");
  const r = await socketActivate({
    listen: [`127.0.0.1:${p1}`, sock, `[::1]:${p2}`],
    fdnames: ["http", "ctl", "admin"],
    env: { FOO: "bar" },
    argv: SHOW,
  });
  const out = shown(r);
  assert.equal(out.error, undefined, JSON.stringify(out.error));
  assert.equal(out.count, 3);
  assert.deepEqual(out.names, ["http", "ctl", "admin"]);
  assert.deepEqual(out.fds, [
    { fd: 3, name: "http", what: `a TCP listener on 127.0.0.1:${p1}`, cloexec: true },
    { fd: 4, name: "ctl", what: `a Unix stream listener at ${sock}`, cloexec: true },
    { fd: 5, name: "admin", what: `a TCP listener on [::1]:${p2}`, cloexec: true },
  ]);
  assert.deepEqual(out.env, GONE);
});

test("UDP and Unix datagram listeners (--datagram) are passed as datagram sockets", async () => {
  const port = await freePort();
  const path = join(dir, "log.sock");
  const out = shown(await socketActivate({
    type: "datagram",
    listen: [`127.0.0.1:${port}`, path],
    fdnames: ["dns", "log"],
    argv: SHOW,
  }));
  assert.equal(out.error, undefined, JSON.stringify(out.error));
  assert.deepEqual(out.fds, [
    { fd: 3, name: "dns", what: `a UDP socket on 127.0.0.1:${port}`, cloexec: true },
    { fd: 4, name: "log", what: `a Unix datagram socket at ${path}`, cloexec: true },
  ]);
  assert.deepEqual(out.env, GONE);
});

test("without --fdname every fd is named \"unknown\"", async () => {
  const sock = join(dir, "anon.sock");
  const out = shown(await socketActivate({ listen: [sock, "@" + `sdkit-sa-${process.pid}`], argv: SHOW }));
  assert.deepEqual(out.names, ["unknown", "unknown"]);
  assert.deepEqual(out.fds?.map((f) => f.what), [
    `a Unix stream listener at ${sock}`,
    `a Unix stream listener at @sdkit-sa-${process.pid}`,
  ]);
  assert.ok(out.fds?.every((f) => f.cloexec));
  assert.deepEqual(out.env, GONE);
});

test("--fdname=a:b with 3 listeners: ActivationError ERR_SD_LISTEN_FDNAMES", async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const r = await socketActivate({
    listen: [`127.0.0.1:${p1}`, join(dir, "mm.sock"), `127.0.0.1:${p2}`],
    fdnames: ["a", "b"],
    argv: SHOW,
  });
  // The activator passes the mismatched names through as is, with a warning.
  assert.match(r.stderr, /number of fd names is different than number of fds: 2 vs 3/);
  const out = shown(r);
  assert.equal(out.count, undefined, "no fds may be reported when the names do not match");
  assert.equal(out.error?.name, "ActivationError");
  assert.equal(out.error?.code, "ERR_SD_LISTEN_FDNAMES");
  assert.match(out.error?.message ?? "", /2 name\(s\) for LISTEN_FDS=3/);
});
