// Fault scenarios: sd_notify, the barrier, the FD store and the receiver. Real sockets in this
// process (and a child where the cwd matters). Each scenario asserts the documented SdError or
// the delivered result, that nothing unintended reached the receiver, and that no fd leaked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { K, native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { closeAll, errorOf, probe, tempDir, unixSocket } from "./lib.js";

const it = (name: string, fn: () => Promise<void>, opts: { todo?: string } = {}) => test(name, opts, () => assertNoFdLeak(fn));
const code = (c: string) => (e: unknown) => e instanceof sd.SdError && e.code === c;
const envFor = (path: string) => objectEnv({ NOTIFY_SOCKET: path });
let seq = 0;
const abstractName = (tag: string) => `@sdf-${tag}-${process.pid}-${++seq}`;

/** A NotifyReceiver that records every datagram; `onlyMarker()` proves nothing else arrived. */
function recorder(path = abstractName("rx")) {
  const rx = new sd.NotifyReceiver({ path }).listen();
  const got: string[] = [];
  rx.on("message", (m) => got.push(m.raw.toString()));
  return {
    rx, got,
    async onlyMarker(): Promise<void> {
      const next = rx.next((m) => m.fields.X_MARKER === "1");
      await sd.notify({ X_MARKER: 1 }, { env: envFor(rx.path) });
      await next;
      assert.deepEqual(got, ["X_MARKER=1"], "something reached the receiver before the marker");
    },
  };
}

it("NOTIFY_SOCKET naming a missing path fails with ERR_SD_NOTIFY_SEND (ENOENT) and closes its socket", async () => {
  await assert.rejects(sd.ready(undefined, { env: envFor("/nonexistent/sdkit/notify") }), (e: sd.SdError) => e.code === "ERR_SD_NOTIFY_SEND" && e.sysCode === "ENOENT");
});

it("NOTIFY_SOCKET whose receiver is gone (socket file left behind) fails with ERR_SD_NOTIFY_SEND (ECONNREFUSED)", async () => {
  const t = tempDir("refused");
  try {
    const path = join(t.dir, "notify");
    closeAll(unixSocket("dgram", path, false)); // bound, then the "manager" died: the file stays
    await assert.rejects(sd.ready(undefined, { env: envFor(path) }), (e: sd.SdError) => e.code === "ERR_SD_NOTIFY_SEND" && e.sysCode === "ECONNREFUSED");
    assert.ok(lstatSync(path).isSocket(), "the stale socket file is not ours to remove");
  } finally { t.done(); }
});

it("NOTIFY_SOCKET pointing at a regular file or a directory fails with ERR_SD_NOTIFY_SEND and leaves both untouched", async () => {
  const t = tempDir("notsock");
  try {
    const file = join(t.dir, "file"), dir = join(t.dir, "dir");
    writeFileSync(file, "precious");
    mkdirSync(dir);
    for (const p of [file, dir]) await assert.rejects(sd.ready(undefined, { env: envFor(p) }), code("ERR_SD_NOTIFY_SEND"), p);
    assert.equal(readFileSync(file, "utf8"), "precious");
    assert.ok(statSync(dir).isDirectory());
  } finally { t.done(); }
});

it("NOTIFY_SOCKET longer than sun_path fails with ERR_SD_NOTIFY_SOCKET before any socket is made", async () => {
  await assert.rejects(sd.ready(undefined, { env: envFor("/run/" + "x".repeat(110)) }), code("ERR_SD_NOTIFY_SOCKET"));
  await assert.rejects(sd.ready(undefined, { env: envFor("@" + "x".repeat(108)) }), code("ERR_SD_NOTIFY_SOCKET"));
});

it("empty, bare '@' or vsock NOTIFY_SOCKET values fail with a typed error, never a crash", async () => {
  for (const v of ["", "@", "/"]) await assert.rejects(sd.ready(undefined, { env: envFor(v) }), (e: sd.SdError) => e.code === "ERR_SD_NOTIFY_SOCKET" || e.code === "ERR_SD_NOTIFY_SEND", JSON.stringify(v));
  await assert.rejects(sd.ready(undefined, { env: envFor("vsock:2:1234") }), code("ERR_SD_UNSUPPORTED"));
  await assert.rejects(sd.ready(), (e: sd.SdError) => e instanceof sd.NoNotifySocketError || e.code === "ERR_SD_NOTIFY_SEND" || e.code === "ERR_SD_NOTIFY_SOCKET");
});

it("a relative NOTIFY_SOCKET is refused even when a receiver listens at that path under the cwd", async () => {
  const t = tempDir("rel");
  const r = recorder(join(t.dir, "notify.sock"));
  try {
    const out = await probe([["notify", "READY=1"]], { cwd: t.dir, env: { NOTIFY_SOCKET: "notify.sock" } });
    assert.equal(errorOf(out.results[0]).code, "ERR_SD_NOTIFY_SOCKET");
    await r.onlyMarker();
  } finally { r.rx.close(); t.done(); }
});

it("an abstract notify name already taken makes NotifyReceiver.listen() fail with ERR_SD_ADDRESS_IN_USE; the owner keeps receiving", async () => {
  const r = recorder();
  try {
    assert.throws(() => new sd.NotifyReceiver({ path: r.rx.path }).listen(), code("ERR_SD_ADDRESS_IN_USE"));
    await r.onlyMarker();
  } finally { r.rx.close(); }
});

it("an abstract NOTIFY_SOCKET taken by a stream socket fails with ERR_SD_NOTIFY_SEND", async () => {
  const name = abstractName("stream");
  const fd = unixSocket("stream", name);
  try {
    await assert.rejects(sd.ready(undefined, { env: envFor(name) }), code("ERR_SD_NOTIFY_SEND"));
  } finally { closeAll(fd); }
});

it("a receiver that stops reading (full queue) makes notify wait without stalling the event loop, then fail with ERR_SD_WOULD_BLOCK; nothing is lost once it reads", async () => {
  const n = native(), c = K();
  const name = abstractName("deaf");
  const fd = n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC! | c.SOCK_NONBLOCK!, 0);
  assert.equal(n.bind(fd, { family: c.AF_UNIX!, path: encodeUnixPath(name) }), 0);
  const drain = () => { const out: string[] = []; for (let r = n.recvmsg(fd, 8192); typeof r !== "number"; r = n.recvmsg(fd, 8192)) out.push(r.data.toString()); return out; };
  try {
    const env = envFor(name);
    let sent = 0;
    for (;;) {
      try { await sd.notify({ X_SEQ: sent }, { env, waitMs: 0 }); sent++; } catch (e) { assert.ok(code("ERR_SD_WOULD_BLOCK")(e)); break; }
      assert.ok(sent < 100_000, "the queue never filled");
    }
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const ticksAtRejection = await sd.notify({ X_SEQ: "late" }, { env, waitMs: 200 }).then(() => -1, (e: unknown) => (assert.ok(code("ERR_SD_WOULD_BLOCK")(e)), ticks));
    clearInterval(ticker);
    assert.ok(ticksAtRejection > 0, "the event loop did not turn while notify waited for room");
    const pending = sd.notify({ X_SEQ: sent }, { env, waitMs: 30_000 });
    const first = drain();
    await pending;
    const all = [...first, ...drain()];
    assert.deepEqual(all, Array.from({ length: sent + 1 }, (_, i) => `X_SEQ=${i}`), "lost, duplicated or reordered notifications");
  } finally { n.close(fd); }
});

it("a barrier the receiver never answers (it keeps the fd) fails with ERR_SD_BARRIER_TIMEOUT and closes both pipe ends", async () => {
  const rx = new sd.NotifyReceiver({ path: abstractName("barrier") }).listen();
  const kept: number[] = [];
  rx.on("message", (m) => { if (m.fields.BARRIER === "1") kept.push(...m.takeFds()); });
  try {
    await assert.rejects(sd.barrier(150, { env: envFor(rx.path) }), code("ERR_SD_BARRIER_TIMEOUT"));
    assert.equal(kept.length, 1, "the receiver got the barrier fd");
  } finally { closeAll(...kept); rx.close(); }
});

it("a barrier sent to a receiver that never reads at all fails with ERR_SD_BARRIER_TIMEOUT", async () => {
  const name = abstractName("deafbarrier");
  const fd = unixSocket("dgram", name, false);
  try {
    await assert.rejects(sd.barrier(150, { env: envFor(name) }), code("ERR_SD_BARRIER_TIMEOUT"));
  } finally { closeAll(fd); } // the queued write end dies with the socket
});

it("more than 253 fds for the FD store go out as several FDNAME messages and all arrive", async () => {
  const rx = new sd.NotifyReceiver({ path: abstractName("fdstore") }).listen();
  const src = unixSocket("dgram");
  const fds = Array.from({ length: 300 }, () => native().dupCloexec(src, 3));
  const perMessage: number[] = [];
  rx.on("message", (m) => { if (m.fields.FDSTORE === "1" && m.fields.FDNAME === "big") perMessage.push(m.fds.length); });
  try {
    const done = rx.next((m) => m.fields.STATUS === "stored");
    await sd.notify({ STATUS: "stored" }, { env: envFor(rx.path), fds: fds.map((fd) => ({ name: "big", fd })) });
    await done; // sent after the fds, on the same connection: everything before it has arrived
    assert.ok(perMessage.every((k) => k <= 253), `a message carried ${Math.max(...perMessage)} fds`);
    assert.equal(perMessage.reduce((a, b) => a + b, 0), 300, `fds per message: ${perMessage}`);
  } finally { closeAll(...fds, src); rx.close(); }
});

it("an FD store entry whose fd was closed fails with ERR_SD_BAD_FD and sends nothing", async () => {
  const r = recorder();
  try {
    const fd = unixSocket("dgram");
    closeAll(fd);
    await assert.rejects(sd.ready(undefined, { env: envFor(r.rx.path), fds: [{ name: "gone", fd }] }), code("ERR_SD_BAD_FD"));
    await r.onlyMarker();
  } finally { r.rx.close(); }
});

it("newline, CR, NUL or backslash injected into a value, key or FDNAME is refused and nothing reaches the manager", async () => {
  const r = recorder();
  const env = envFor(r.rx.path);
  try {
    for (const v of ["ok\nREADY=1", "ok\rREADY=1", "ok\0READY=1", "ok\\\nREADY=1", "ok\\"]) {
      await assert.rejects(sd.status(v, { env }), code("ERR_SD_INVALID_MESSAGE"), JSON.stringify(v));
      await assert.rejects(sd.notify({ STATUS: v }, { env }), code("ERR_SD_INVALID_MESSAGE"), JSON.stringify(v));
    }
    await assert.rejects(sd.notify("STATUS=a\nREADY=1\0", { env }), code("ERR_SD_INVALID_MESSAGE"));
    await assert.rejects(sd.notify({ "READY=1\nX": 1 }, { env }), code("ERR_SD_INVALID_MESSAGE"));
    await assert.rejects(sd.fdStoreRemove("a\nREADY=1", { env }), code("ERR_SD_INVALID_ARG"));
    await assert.rejects(sd.notify({ STATUS: "x".repeat(5000) }, { env }), code("ERR_SD_INVALID_MESSAGE"));
    await r.onlyMarker();
  } finally { r.rx.close(); }
});

it("NotifyReceiver refuses a regular file at its path instead of replacing it", async () => {
  const t = tempDir("rxfile");
  try {
    const path = join(t.dir, "notify");
    writeFileSync(path, "not a socket");
    assert.throws(() => new sd.NotifyReceiver({ path }).listen(), code("ERR_SD_UNLINK_REFUSED"));
    assert.equal(readFileSync(path, "utf8"), "not a socket");
  } finally { t.done(); }
});

it("NotifyReceiver.close() after a successor re-bound the path leaves the successor's socket in place", async () => {
  const t = tempDir("rxswap");
  try {
    const path = join(t.dir, "notify");
    const old = new sd.NotifyReceiver({ path }).listen();
    const successor = new sd.NotifyReceiver({ path }).listen(); // replaces the file (stale for it)
    try {
      const ino = lstatSync(path).ino;
      old.close();
      assert.ok(existsSync(path) && lstatSync(path).ino === ino, "the old receiver removed the successor's socket file");
      const got = successor.next((m) => m.fields.READY === "1");
      await sd.ready(undefined, { env: envFor(path) });
      await got;
    } finally { old.close(); successor.close(); }
  } finally { t.done(); }
});
