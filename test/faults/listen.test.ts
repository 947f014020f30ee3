// Fault scenarios: Unix socket paths under every unlink policy. What is at the path (a regular
// file, a directory, a symlink, a stale socket, a live socket of another process, with or
// without its lock) and what happens to the lock file. Asserts the documented SdError, that the
// other process keeps serving, and that no file that was not ours is removed or changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sd from "../../src/index.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { closeAll, tempDir, unixSocket } from "./lib.js";

const POLICIES = ["none", "always", "socket", "flock"] as const;
type Policy = (typeof POLICIES)[number];
const OWNER = fileURLToPath(new URL("../fixtures/fault-owner.py", import.meta.url));
const code = (c: string) => (e: unknown) => e instanceof sd.SdError && e.code === c;
const it = (name: string, fn: (dir: string) => Promise<void>, opts: { todo?: string } = {}) => test(name, opts, () => assertNoFdLeak(async () => {
  const t = tempDir("listen");
  try { await fn(t.dir); } finally { t.done(); }
}));

/** listenUnix at `path` answering "sdkit"; close() also forgets the exported dup (and lock). */
async function listen(path: string, unlinkPolicy: Policy): Promise<{ close(): Promise<void> }> {
  const server = await sd.listenUnix({ name: "fault", path, unlinkPolicy });
  server.on("connection", (c) => c.end("sdkit"));
  return { close: async () => { await new Promise((r) => server.close(r)); sd.forget(server); } };
}

/** Connects to `path` and returns what the server says. */
function ask(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    const c = net.connect(path);
    const t = setTimeout(() => { c.destroy(); reject(new Error(`no answer at ${path}`)); }, 20_000);
    c.on("data", (d) => (data += d)).on("end", () => { clearTimeout(t); resolve(data); }).on("error", (e) => { clearTimeout(t); reject(e); });
  });
}

/** A python3 process owning `path` (optionally holding `<path>.lock`). */
async function foreignOwner(path: string, lock = false): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn("/usr/bin/python3", [OWNER, path, ...(lock ? ["--lock"] : [])], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => { if (d.toString().includes("ready")) resolve(); });
    child.once("exit", (c) => reject(new Error(`fault-owner.py exited ${c}`)));
  });
  return { child, stop: async () => { child.stdin!.end(); if (child.exitCode === null) await new Promise((r) => child.once("exit", r)); } };
}

/** Asserts every entry of `before` is unchanged; the only new entry allowed is our own lock file. */
function assertUntouched(dir: string, before: Record<string, string>): void {
  const now = snapshot(dir);
  for (const [p, what] of Object.entries(before)) assert.equal(now[p], what, `${p} was changed or removed`);
  for (const p of Object.keys(now)) if (!(p in before)) assert.match(p, /\.sock\.lock$/, `${p} appeared`);
}

/** Everything under `dir`: name → kind and content/target, to prove nothing was touched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name), st = lstatSync(p);
      out[p] = st.isSymbolicLink() ? `link:${readlinkSync(p)}` : st.isDirectory() ? "dir" : st.isSocket() ? `socket:${st.ino}` : `file:${readFileSync(p, "utf8")}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

it("a regular file at the socket path is refused under every policy and keeps its content", async (dir) => {
  const path = join(dir, "app.sock");
  writeFileSync(path, "config, not a socket");
  for (const p of POLICIES) {
    await assert.rejects(listen(path, p), code(p === "none" ? "ERR_SD_ADDRESS_IN_USE" : "ERR_SD_UNLINK_REFUSED"), p);
  }
  assert.equal(readFileSync(path, "utf8"), "config, not a socket");
});

it("a directory at the socket path is refused under every policy and keeps its content", async (dir) => {
  const path = join(dir, "app.sock");
  mkdirSync(path);
  writeFileSync(join(path, "inside"), "x");
  const before = snapshot(dir);
  for (const p of POLICIES) await assert.rejects(listen(path, p), (e: sd.SdError) => e.code === "ERR_SD_UNLINK_REFUSED" || (p === "none" && e.code === "ERR_SD_ADDRESS_IN_USE"), p);
  assertUntouched(dir, before);
});

it("a symlink at the socket path (to a stale socket or to a file) is never followed nor removed", async (dir) => {
  const path = join(dir, "app.sock"), target = join(dir, "real.sock"), file = join(dir, "file");
  closeAll(unixSocket("stream", target)); // a stale socket the link points to
  writeFileSync(file, "keep");
  for (const to of [target, file]) {
    rmSync(path, { force: true });
    symlinkSync(to, path);
    const before = snapshot(dir);
    for (const p of POLICIES) await assert.rejects(listen(path, p), (e: sd.SdError) => e.code === "ERR_SD_UNLINK_REFUSED" || (p === "none" && e.code === "ERR_SD_ADDRESS_IN_USE"), `${p} -> ${to}`);
    assertUntouched(dir, before);
  }
});

it("a stale socket file (its owner died) is replaced under socket/always/flock and refused under none", async (dir) => {
  const path = join(dir, "app.sock");
  for (const p of POLICIES) {
    closeAll(unixSocket("stream", path)); // bound, listening, then the owner died
    if (p === "none") { await assert.rejects(listen(path, p), code("ERR_SD_ADDRESS_IN_USE")); rmSync(path); continue; }
    const s = await listen(path, p);
    assert.equal(await ask(path), "sdkit", p);
    await s.close();
    assert.ok(lstatSync(path).isSocket(), "closing never unlinks (a successor may still use the file)");
    rmSync(path);
  }
});

for (const p of POLICIES) {
  // Only "always" takes a live address over; "flock" probes under its lock and never steals.
  const outcome = p === "always" ? "is taken over (documented)" : "is refused and the owner keeps serving";
  it(`a live socket of another process under policy "${p}" ${outcome}`, async (dir) => {
    const path = join(dir, "app.sock");
    const owner = await foreignOwner(path);
    try {
      if (p !== "always") {
        await assert.rejects(listen(path, p), code("ERR_SD_ADDRESS_IN_USE"));
        assert.equal(await ask(path), `owner:${owner.child.pid}`, "the owner lost its address");
      } else {
        const s = await listen(path, p);
        assert.equal(await ask(path), "sdkit");
        await s.close();
      }
    } finally { await owner.stop(); }
  });
}

it("a live owner holding the lock file makes the flock policy fail with ERR_SD_LOCKED; socket and lock stay", async (dir) => {
  const path = join(dir, "app.sock");
  const owner = await foreignOwner(path, true);
  try {
    const before = snapshot(dir);
    await assert.rejects(listen(path, "flock"), code("ERR_SD_LOCKED"));
    assertUntouched(dir, before);
    assert.equal(await ask(path), `owner:${owner.child.pid}`);
  } finally { await owner.stop(); }
});

it("the lock file deleted under a live owner does not let the flock policy steal its socket", async (dir) => {
  const path = join(dir, "app.sock");
  const owner = await foreignOwner(path, true);
  try {
    unlinkSync(`${path}.lock`); // an admin "cleaning up" /run
    let s: { close(): Promise<void> } | undefined;
    try { s = await listen(path, "flock"); } catch (e) { assert.ok(code("ERR_SD_LOCKED")(e) || code("ERR_SD_ADDRESS_IN_USE")(e), String(e)); }
    try {
      assert.equal(await ask(path), `owner:${owner.child.pid}`, "the live owner's socket was unlinked and replaced");
    } finally { await s?.close(); }
  } finally { await owner.stop(); }
});

it("a lock file replaced by a symlink is refused (O_NOFOLLOW): its target is neither opened, created nor locked", async (dir) => {
  const path = join(dir, "app.sock"), victim = join(dir, "victim"), missing = join(dir, "created-by-follow");
  writeFileSync(victim, "do not touch");
  for (const to of [victim, missing]) {
    rmSync(`${path}.lock`, { force: true });
    symlinkSync(to, `${path}.lock`);
    await assert.rejects(listen(path, "flock"), (e: sd.SdError) => e.code === "ERR_SD_SYSCALL" && e.sysCode === "ELOOP", to);
  }
  assert.equal(readFileSync(victim, "utf8"), "do not touch");
  assert.equal(existsSync(missing), false, "following the link created its target");
  assert.equal(existsSync(path), false, "nothing was bound");
});

it("a lock file replaced by a directory fails with a typed error and binds nothing", async (dir) => {
  const path = join(dir, "app.sock");
  mkdirSync(`${path}.lock`);
  await assert.rejects(listen(path, "flock"), (e: sd.SdError) => e instanceof sd.SdError && e.sysCode === "EISDIR");
  assert.equal(existsSync(path), false);
  assert.ok(lstatSync(`${path}.lock`).isDirectory());
});
