import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { K, native } from "../../src/native/binding.js";
import { inspectFd } from "../../src/filetest/inspect.js";
import { abstractName, closeServer, connectUnix, echo, inherit, rawUnix, rejectsWith, roundTrip, scenario, tempDir } from "../fixtures/listen-util.js";

const exported = (name: string) => sd.activeFds().find((a) => a.name === name)?.fd;

test("creates a filesystem socket with an exact mode, serves, and never unlinks on close", scenario(async () => {
  const t = tempDir("ux");
  try {
    const path = join(t.dir, "s.sock");
    const s = echo(await sd.listenUnix({ path, mode: 0o640 }));
    assert.equal(lstatSync(path).mode & 0o7777, 0o640);
    assert.ok(lstatSync(path).isSocket());
    const c = await connectUnix(path);
    assert.equal(await roundTrip(c, "hi"), "hi");
    c.destroy();
    assert.equal(inspectFd(exported("unix")!).path, path);
    await closeServer(s);
    assert.ok(existsSync(path), "close() must not remove the socket file");
    sd.forget(s);
    assert.ok(existsSync(path), "forget() must not remove the socket file");
  } finally { t.done(); }
}));

test("mode 0o666 is exact even though the umask would clear group/other write", scenario(async () => {
  const t = tempDir("ux");
  const old = process.umask(0o022);
  try {
    const path = join(t.dir, "m.sock");
    const s = await sd.listenUnix({ path, mode: 0o666 });
    assert.equal(lstatSync(path).mode & 0o777, 0o666);
    await closeServer(s);
  } finally { process.umask(old); t.done(); }
}));

test("abstract names are exact-length (systemd/Go style), not libuv's padded form", scenario(async () => {
  const name = abstractName("ux");
  const s = echo(await sd.listenUnix({ path: name, name: "ctl" }));
  const raw = native().getsockname(exported("ctl")!);
  assert.ok(typeof raw !== "number");
  assert.equal(raw.path!.length, Buffer.byteLength(name), "NUL + name, no padding");
  const c = await connectUnix(name);
  assert.equal(await roundTrip(c, "abs"), "abs");
  c.destroy();
  // Node's own client pads the name to 108 bytes, so it cannot reach the exact-length socket.
  const padded = net.connect("\0" + name.slice(1));
  const [err] = await once(padded, "error");
  assert.equal((err as NodeJS.ErrnoException).code, "ECONNREFUSED");
  await rejectsWith(sd.listenUnix({ path: abstractName("ux"), mode: 0o600 }), "ERR_SD_INVALID_ARG", "abstract");
  await closeServer(s);
}));

test("neither a name nor a path: ERR_SD_NO_SUCH_FD_NAME (the seed's ErrNoSuchFdName)", scenario(async () => {
  await rejectsWith(sd.listenUnix({}), "ERR_SD_NO_SUCH_FD_NAME", "name", "path");
  await rejectsWith(sd.listenUnix({ name: "ctl" }), "ERR_SD_NO_SUCH_FD_NAME", '"ctl"');
  await rejectsWith(sd.listenUnixgram({ name: "ctl" }), "ERR_SD_NO_SUCH_FD_NAME", '"ctl"');
  await rejectsWith(sd.listen("unix", ""), "ERR_SD_NO_SUCH_FD_NAME");
}));

test("inherits by name alone (path read from the fd) and by path alone", scenario(async () => {
  const t = tempDir("ux");
  try {
    const p1 = join(t.dir, "a.sock");
    const p2 = join(t.dir, "b.sock");
    inherit([{ name: "api", fd: rawUnix(p1, "stream") }, { name: "other", fd: rawUnix(p2, "stream") }]);
    const a = echo(await sd.listenUnix({ name: "api" }));
    const b = echo(await sd.listen("unix", p2));
    assert.equal(inspectFd(exported("api")!).path, p1);
    assert.equal(inspectFd(exported("other")!).path, p2, "exported under the inherited name");
    for (const p of [p1, p2]) {
      const c = await connectUnix(p);
      assert.equal(await roundTrip(c, p), p);
      c.destroy();
    }
    await closeServer(a);
    await closeServer(b);
    assert.ok(existsSync(p1) && existsSync(p2));
  } finally { t.done(); }
}));

test("a name that is a datagram socket: ERR_SD_WRONG_KIND saying so", scenario(async () => {
  const t = tempDir("ux");
  try {
    const p = join(t.dir, "d.sock");
    inherit([{ name: "ctl", fd: rawUnix(p, "dgram") }]);
    await rejectsWith(sd.listenUnix({ name: "ctl" }), "ERR_SD_WRONG_KIND", '"ctl"', `Unix datagram socket at ${p}`, "stream listener");
    await rejectsWith(sd.listenFifo({ name: "ctl" }), "ERR_SD_WRONG_KIND", "FIFO");
    const g = await sd.listenUnixgram({ name: "ctl" });
    assert.equal(g.address().path, p);
    g.close();
  } finally { t.done(); }
}));

test("flock policy: <path>.lock (0600) is held and exported with the socket", scenario(async () => {
  const t = tempDir("ux");
  try {
    const path = join(t.dir, "f.sock");
    const s = await sd.listenUnix({ path, unlinkPolicy: "flock", name: "api" });
    assert.equal(lstatSync(path + ".lock").mode & 0o777, 0o600);
    const handover = sd.defaultPool().handoverFds();
    assert.deepEqual(handover.map((h) => h.name), ["api", sd.LOCK_FD_NAME]);
    assert.equal(readlinkSync(`/proc/self/fd/${handover[1]!.fd}`), path + ".lock");
    await rejectsWith(sd.listenUnix({ path, unlinkPolicy: "flock" }), "ERR_SD_LOCKED", path, ".lock");
    await closeServer(s);
    // Still exported, so still locked: the socket may be handed on at any moment.
    await rejectsWith(sd.listenUnix({ path, unlinkPolicy: "flock" }), "ERR_SD_LOCKED");
    sd.forget(s); // now the lock is released; the stale socket file is replaced
    const again = await sd.listenUnix({ path, unlinkPolicy: "flock" });
    await closeServer(again);
  } finally { t.done(); }
}));

test("a successor takes the inherited lock back with the socket (pairing by lock path)", scenario(async () => {
  const t = tempDir("ux");
  try {
    const path = join(t.dir, "r.sock");
    const s = await sd.listenUnix({ path, unlinkPolicy: "flock", name: "api" });
    await closeServer(s);
    sd.reset(); // as in the successor: socket "api" plus the lock under LOCK_FD_NAME
    const s2 = echo(await sd.listenUnix({ path, unlinkPolicy: "socket" }));
    const handover = sd.defaultPool().handoverFds();
    assert.deepEqual(handover.map((h) => h.name), ["api", sd.LOCK_FD_NAME], "lock travels on, whatever the policy now");
    await rejectsWith(sd.listenUnix({ path, name: "x", unlinkPolicy: "flock" }), "ERR_SD_LOCKED");
    const c = await connectUnix(path);
    assert.equal(await roundTrip(c, "still"), "still");
    c.destroy();
    await closeServer(s2);
  } finally { t.done(); }
}));

test("setUnixSocketUnlinkPolicy sets the default; unknown policies are rejected", scenario(async () => {
  assert.equal(sd.getUnixSocketUnlinkPolicy(), "socket");
  assert.throws(() => sd.setUnixSocketUnlinkPolicy("sometimes" as sd.UnixSocketUnlinkPolicy), { code: "ERR_SD_INVALID_ARG" });
  const t = tempDir("ux");
  try {
    sd.setUnixSocketUnlinkPolicy("flock");
    const path = join(t.dir, "d.sock");
    const s = await sd.listenUnix({ path });
    assert.ok(existsSync(path + ".lock"));
    assert.equal(sd.defaultPool().handoverFds().length, 2);
    await closeServer(s);
    await rejectsWith(sd.listenUnix({ path, unlinkPolicy: "bogus" as sd.UnixSocketUnlinkPolicy }), "ERR_SD_INVALID_ARG");
  } finally {
    sd.setUnixSocketUnlinkPolicy("socket");
    t.done();
  }
  assert.equal(K().AF_UNIX, 1);
}));
