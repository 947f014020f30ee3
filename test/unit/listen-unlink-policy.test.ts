// The unlink-policy matrix: policy × what is already at the path. The documented outcome for
// each cell, and whatever happens, a regular file, a symlink or a directory is never removed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync, type Stats } from "node:fs";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { native } from "../../src/native/binding.js";
import { closeServer, connectUnix, echo, rawUnix, rejectsWith, roundTrip, scenario, tempDir } from "../fixtures/listen-util.js";
import { fixture, waitForLine } from "../helpers/spawn.js";

type Policy = sd.UnixSocketUnlinkPolicy;
type Existing = "nothing" | "stale socket" | "live socket (other process)" | "regular file" | "symlink to a socket" | "directory";
type Outcome = "create" | "replace" | "ERR_SD_ADDRESS_IN_USE" | "ERR_SD_UNLINK_REFUSED" | "ERR_SD_LOCKED";

// The documented table (src/listen/unlink-policy.ts). The live owner of the "flock" row holds
// the lock, as every process using that policy does.
const MATRIX: Record<Existing, Record<Policy, Outcome>> = {
  "nothing": { none: "create", always: "create", socket: "create", flock: "create" },
  "stale socket": { none: "ERR_SD_ADDRESS_IN_USE", always: "replace", socket: "replace", flock: "replace" },
  "live socket (other process)": { none: "ERR_SD_ADDRESS_IN_USE", always: "replace", socket: "ERR_SD_ADDRESS_IN_USE", flock: "ERR_SD_LOCKED" },
  "regular file": { none: "ERR_SD_ADDRESS_IN_USE", always: "ERR_SD_UNLINK_REFUSED", socket: "ERR_SD_UNLINK_REFUSED", flock: "ERR_SD_UNLINK_REFUSED" },
  "symlink to a socket": { none: "ERR_SD_ADDRESS_IN_USE", always: "ERR_SD_UNLINK_REFUSED", socket: "ERR_SD_UNLINK_REFUSED", flock: "ERR_SD_UNLINK_REFUSED" },
  "directory": { none: "ERR_SD_ADDRESS_IN_USE", always: "ERR_SD_UNLINK_REFUSED", socket: "ERR_SD_UNLINK_REFUSED", flock: "ERR_SD_UNLINK_REFUSED" },
};

async function liveOwner(path: string, type: "stream" | "dgram", lock: boolean): Promise<ChildProcess> {
  const p = spawn("python3", [fixture("listen-owner.py"), path, type, lock ? "lock" : "nolock"], { stdio: ["pipe", "pipe", "pipe"] });
  await waitForLine(p, /^ready$/);
  return p;
}

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once("exit", r));
  p.stdin!.end();
  await exited;
}

/** Sets up `what` at `path`; returns the owner process for a live socket. */
async function prepare(what: Existing, path: string, dir: string, policy: Policy, type: "stream" | "dgram"): Promise<ChildProcess | undefined> {
  switch (what) {
    case "nothing": return undefined;
    case "stale socket": native().close(rawUnix(path, type)); return undefined;
    case "live socket (other process)": return liveOwner(path, type, policy === "flock");
    case "regular file": writeFileSync(path, "precious"); return undefined;
    case "symlink to a socket": native().close(rawUnix(join(dir, "target.sock"), type)); symlinkSync(join(dir, "target.sock"), path); return undefined;
    case "directory": mkdirSync(path); return undefined;
  }
}

const identity = (st: Stats) => `${st.dev}:${st.ino}:${st.mode}`;

for (const what of Object.keys(MATRIX) as Existing[]) {
  for (const policy of ["none", "always", "socket", "flock"] as Policy[]) {
    const outcome = MATRIX[what][policy];
    test(`policy ${policy} × ${what} → ${outcome}`, scenario(async () => {
      const t = tempDir("ul");
      const path = join(t.dir, "app.sock");
      let owner: ChildProcess | undefined;
      try {
        owner = await prepare(what, path, t.dir, policy, "stream");
        const before = what === "nothing" ? undefined : lstatSync(path);
        const attempt = sd.listenUnix({ path, unlinkPolicy: policy });
        if (outcome === "create" || outcome === "replace") {
          const s = echo(await attempt);
          const now = lstatSync(path);
          assert.ok(now.isSocket());
          // (A stale file's inode number may be reused at once; a live owner's cannot.)
          if (owner) assert.notEqual(identity(now), identity(before!), "the live owner's socket file was replaced");
          const c = await connectUnix(path);
          assert.equal(await roundTrip(c, "mine"), "mine", "the path now reaches the new server");
          c.destroy();
          await closeServer(s);
        } else {
          const err = await rejectsWith(attempt, outcome, path);
          assert.equal(err.path, path);
          assert.equal(identity(lstatSync(path)), identity(before!), "the existing file is untouched");
          if (what === "symlink to a socket") {
            assert.equal(readlinkSync(path), join(t.dir, "target.sock"));
            assert.ok(lstatSync(join(t.dir, "target.sock")).isSocket(), "the link target is untouched too");
          }
          if (what === "regular file") assert.ok(lstatSync(path).isFile());
          if (what === "directory") assert.ok(lstatSync(path).isDirectory());
          if (owner) {
            const c = await connectUnix(path);
            c.destroy(); // the live owner still has its address
          }
        }
      } finally {
        await stop(owner);
        t.done();
      }
    }));
  }
}

test("flock never steals: a live owner that does not hold the lock is ERR_SD_ADDRESS_IN_USE", scenario(async () => {
  const t = tempDir("ul");
  const path = join(t.dir, "app.sock");
  const owner = await liveOwner(path, "stream", false);
  try {
    await rejectsWith(sd.listenUnix({ path, unlinkPolicy: "flock" }), "ERR_SD_ADDRESS_IN_USE", path);
  } finally { await stop(owner); t.done(); }
}));

test("datagram sockets: stale replaced, live kept (probe of the same type), file refused", scenario(async () => {
  const t = tempDir("ul");
  const stale = join(t.dir, "stale.sock");
  const live = join(t.dir, "live.sock");
  const file = join(t.dir, "file");
  native().close(rawUnix(stale, "dgram"));
  writeFileSync(file, "x");
  const owner = await liveOwner(live, "dgram", false);
  try {
    const a = await sd.listenUnixgram({ path: stale });
    await rejectsWith(sd.listenUnixgram({ path: live }), "ERR_SD_ADDRESS_IN_USE", live);
    await rejectsWith(sd.listenUnixgram({ path: file }), "ERR_SD_UNLINK_REFUSED", file);
    // A live *stream* socket at the path is live for a datagram probe too (EPROTOTYPE).
    const streamPath = join(t.dir, "stream.sock");
    const st = rawUnix(streamPath, "stream");
    await rejectsWith(sd.listenUnixgram({ path: streamPath }), "ERR_SD_ADDRESS_IN_USE", streamPath);
    native().close(st);
    a.close();
  } finally { await stop(owner); t.done(); }
}));

test("a symlinked lock file is never followed", scenario(async () => {
  const t = tempDir("ul");
  try {
    const path = join(t.dir, "app.sock");
    writeFileSync(join(t.dir, "elsewhere"), "");
    symlinkSync(join(t.dir, "elsewhere"), path + ".lock");
    await rejectsWith(sd.listenUnix({ path, unlinkPolicy: "flock" }), "ERR_SD_SYSCALL", "ELOOP", ".lock");
  } finally { t.done(); }
}));
