// The fd pool with real fds: a fresh `new FdPool(() => entries)` per scenario, and the
// process-wide default pool behind exportFd/forget/cleanup/reset. Every scenario asserts that
// /proc/self/fd is exactly as before (the pool closes each fd it owns exactly once).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import dgram from "node:dgram";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, readSync, readlinkSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FdPool, LOCK_FD_NAME, type PoolEntry } from "../../src/registry/pool.js";
import { activeFds, cleanup, exportFd, fileWith, forget, reset } from "../../src/registry/default.js";
import { isFifo, isSocket } from "../../src/filetest/socket.js";
import { native } from "../../src/native/binding.js";
import { SdError } from "../../src/errors.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const n = native();
const K = n.constants as Record<string, number>;
const isOpen = (fd: number) => typeof n.fstat(fd) !== "number";
const cloexec = (fd: number) => (n.getFlags(fd, 0) & K.FD_CLOEXEC!) !== 0;
const target = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);
function pipe(): [number, number] {
  const p = n.pipe2(K.O_CLOEXEC!);
  assert.ok(Array.isArray(p));
  return p;
}
/** Pipes whose ends the pool will own, as if inherited: [entries, the other ends to close]. */
function inherited(names: string[]): { entries: PoolEntry[]; others: number[] } {
  const entries: PoolEntry[] = [], others: number[] = [];
  for (const name of names) { const [r, w] = pipe(); entries.push({ fd: r, name }); others.push(w); }
  return { entries, others };
}
const closeAll = (fds: number[]) => { for (const fd of fds) assert.equal(n.close(fd), 0, `close ${fd}`); };

test("fresh pool: export keeps a CLOEXEC dup of the same file; forget closes it", () => assertNoFdLeak(() => {
  const pool = new FdPool(() => []);
  const [r, w] = pipe();
  const dup = pool.exportFd("out", w);
  assert.notEqual(dup, w);
  assert.ok(dup >= 3 && cloexec(dup));
  assert.equal(target(dup), target(w));
  closeAll([w]); // closing the original leaves the dup working
  writeSync(dup, "x");
  const buf = Buffer.alloc(1);
  assert.equal(readSync(r, buf), 1);
  assert.deepEqual(pool.activeFds(), [{ name: "out", fd: dup }]);
  assert.equal(pool.forget("out"), 1);
  assert.equal(isOpen(dup), false);
  assert.deepEqual(pool.activeFds(), []);
  assert.equal(pool.forget("out"), 0, "forgetting twice closes nothing");
  closeAll([r]);
}));

test("fresh pool: forget by name closes every fd with that name; forget by object only its own", () => assertNoFdLeak(() => {
  const pool = new FdPool(() => []);
  const [r, w] = pipe();
  const objA = { fd: w }, objB = { fd: w };
  const a1 = pool.exportFd("a", r), a2 = pool.exportFd("a", objA), b = pool.exportFd("b", objB);
  assert.equal(pool.forget(objB), 1, "by object: the one exported for objB");
  assert.equal(isOpen(b), false);
  assert.deepEqual(pool.activeFds().map((e) => e.name), ["a", "a"]);
  assert.equal(pool.forget({ fd: w }), 0, "an equal-looking but different object matches nothing");
  assert.equal(pool.forget("a"), 2);
  assert.ok(!isOpen(a1) && !isOpen(a2));
  closeAll([r, w]);
}));

test("fresh pool: cleanup closes inherited fds not taken, the taken one stays with its owner", () => assertNoFdLeak(() => {
  const { entries, others } = inherited(["x", "y", "z"]);
  const pool = new FdPool(() => entries);
  const taken = pool.fileWith("y");
  assert.deepEqual(taken, entries[1]);
  pool.cleanup();
  assert.deepEqual(entries.map((e) => isOpen(e.fd)), [false, true, false]);
  assert.equal(pool.fileWith(""), undefined, "nothing left");
  pool.cleanup(); // idempotent: nothing is closed twice
  assert.equal(isOpen(taken!.fd), true);
  closeAll([taken!.fd, ...others]);
}));

test("fresh pool: reset closes the untaken, and the active set becomes available under its names", () => assertNoFdLeak(() => {
  const { entries, others } = inherited(["old"]);
  const pool = new FdPool(() => entries);
  const [r, w] = pipe();
  const da = pool.exportFd("a", r), db = pool.exportFd("b", w);
  pool.reset();
  assert.equal(isOpen(entries[0]!.fd), false, "the untaken inherited fd was cleaned up");
  assert.deepEqual(pool.activeFds(), []);
  assert.deepEqual(pool.peek("").map((e) => [e.name, e.fd]), [["a", da], ["b", db]]);
  const b = pool.fileWith("b"), a = pool.fileWith("a");
  assert.deepEqual([a?.fd, b?.fd], [da, db]);
  // Re-export after reset: the cycle a re-exec'ing daemon goes through.
  const again = pool.exportFd("a", a!.fd);
  closeAll([a!.fd, b!.fd]);
  assert.equal(pool.forget("a"), 1);
  assert.equal(isOpen(again), false);
  closeAll([r, w, ...others]);
}));

test("fresh pool: fileWith applies every test, '' matches any name, a throwing test is no match", () => assertNoFdLeak(() => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-reg-"));
  const fifoPath = join(dir, "f");
  assert.equal(n.mkfifo(fifoPath, 0o600), 0);
  const fifo = openSync(fifoPath, "r+");
  const sock = n.socket(K.AF_UNIX!, K.SOCK_DGRAM! | K.SOCK_CLOEXEC!, 0);
  const { entries, others } = inherited(["p"]);
  entries.push({ fd: sock, name: "s" }, { fd: fifo, name: "f" });
  const pool = new FdPool(() => entries);
  const seen: number[] = [];
  const boom = Object.assign((fd: number): boolean => { seen.push(fd); throw new Error("boom"); }, { description: "boom" });
  assert.equal(pool.fileWith("", boom), undefined, "a throwing test never matches and never propagates");
  assert.deepEqual(seen, entries.map((e) => e.fd), "it was tried on every fd");
  assert.equal(pool.fileWith("s", isFifo()), undefined, "name matches, test does not");
  assert.equal(pool.fileWith("f", isFifo(join(dir, "other"))), undefined, "every test must pass");
  assert.deepEqual(pool.fileWith("", isSocket({ type: K.SOCK_DGRAM! })), { fd: sock, name: "s" });
  assert.deepEqual(pool.fileWith("", isFifo(fifoPath)), { fd: fifo, name: "f" }, "a named FIFO, not the pipe");
  assert.deepEqual(pool.fileWith(""), entries[0]);
  closeAll([sock, entries[0]!.fd, ...others]);
  closeSync(fifo);
  rmSync(dir, { recursive: true });
}));

test("fresh pool: a failing seed is retried on the next call and nothing is lost", () => assertNoFdLeak(() => {
  let calls = 0;
  const { entries, others } = inherited(["late"]);
  const pool = new FdPool(() => { if (++calls === 1) throw new SdError("ERR_SD_ACTIVATION", "first seed fails"); return entries; });
  assert.throws(() => pool.fileWith(""), { code: "ERR_SD_ACTIVATION" });
  assert.deepEqual(pool.fileWith("late"), entries[0]);
  assert.equal(calls, 2);
  closeAll([entries[0]!.fd, ...others]);
}));

test("fresh pool: lock fds pair with their socket by path (takeLock), travel with exports, and are closed by cleanup", () => assertNoFdLeak(() => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-lock-"));
  const lockA = join(dir, "a.lock"), lockB = join(dir, "b.lock");
  writeFileSync(lockA, ""); writeFileSync(lockB, "");
  const la = openSync(lockA, "r"), lb = openSync(lockB, "r");
  const { entries, others } = inherited(["sock"]);
  entries.push({ fd: la, name: LOCK_FD_NAME }, { fd: lb, name: LOCK_FD_NAME });
  const pool = new FdPool(() => entries);
  assert.deepEqual(pool.peek("").map((e) => e.name), ["sock"], "locks are not offered as files");
  assert.equal(pool.fileWith(LOCK_FD_NAME), undefined);
  assert.equal(pool.takeLock(join(dir, "missing.lock")), undefined);
  assert.equal(pool.takeLock(lockA), la);
  assert.equal(pool.takeLock(lockA), undefined, "a lock is handed out once");
  const sock = pool.fileWith("sock")!;
  const dup = pool.exportFd("sock", sock.fd, la); // the pool now owns la as this socket's lock
  closeAll([sock.fd]);
  assert.deepEqual(pool.handoverFds(), [{ name: "sock", fd: dup }, { name: LOCK_FD_NAME, fd: la }]);
  pool.cleanup();
  assert.equal(isOpen(lb), false, "the unclaimed lock was closed");
  assert.equal(isOpen(la), true, "the exported socket's lock stays");
  pool.reset();
  assert.deepEqual(pool.fileWith("sock"), { fd: dup, name: "sock", lockFd: la }, "reset keeps the pairing");
  const again = pool.exportFd("sock", dup, la);
  closeAll([dup]);
  assert.equal(pool.forget("sock"), 1);
  assert.ok(!isOpen(again) && !isOpen(la), "forget closes the socket's lock with it");
  closeAll(others);
  rmSync(dir, { recursive: true });
}));

test("default pool: exportFd of a net.Server survives server.close(); the socket still accepts through the dup", () => assertNoFdLeak(async () => {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const dup = exportFd("web", server);
  assert.ok(cloexec(dup));
  assert.deepEqual(activeFds(), [{ name: "web", fd: dup }]);
  server.close();
  await once(server, "close");
  assert.equal(isOpen(dup), true);
  // Serve through a second dup (Node owns and closes what it adopts; the pool keeps its own).
  const adopted = net.createServer((c) => c.end("via dup"));
  adopted.listen({ fd: n.dupCloexec(dup, 3) });
  await once(adopted, "listening");
  const client = net.connect(port, "127.0.0.1");
  let got = "";
  client.on("data", (d) => (got += d));
  await once(client, "close");
  assert.equal(got, "via dup");
  adopted.close();
  await once(adopted, "close");
  assert.equal(forget("web"), 1);
  assert.equal(isOpen(dup), false);
}));

test("default pool: a dgram.Socket's dup still receives after socket.close()", () => assertNoFdLeak(async () => {
  const sock = dgram.createSocket("udp4");
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  const { port } = sock.address();
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => warnings.push(`${w.code}: ${w.message}`);
  process.on("warning", onWarning);
  const dup = exportFd("udp", sock);
  await new Promise((res) => setImmediate(res)); // warnings are emitted on the next tick
  process.off("warning", onWarning);
  assert.deepEqual(warnings, [], "exporting a dgram.Socket must not touch its deprecated _handle");
  sock.close();
  await once(sock, "close");
  const sender = n.socket(K.AF_INET!, K.SOCK_DGRAM! | K.SOCK_CLOEXEC!, 0);
  assert.equal(n.sendmsg(sender, Buffer.from("ping"), { family: K.AF_INET!, address: "127.0.0.1", port }, [], null), 4);
  const msg = n.recvmsg(dup, 64); // loopback UDP is queued before sendmsg returns
  assert.ok(typeof msg !== "number", `recvmsg: ${String(msg)}`);
  assert.equal(msg.data.toString(), "ping");
  closeAll([sender]);
  assert.equal(forget(sock), 1, "forget by the exported object");
  assert.equal(isOpen(dup), false);
}));

test("default pool: a FileHandle's and a raw fd's dups outlive their originals", () => assertNoFdLeak(async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-fh-"));
  writeFileSync(join(dir, "data"), "hello");
  const fh = await open(join(dir, "data"), "r");
  const dfh = exportFd("file", fh);
  await fh.close();
  const buf = Buffer.alloc(5);
  assert.equal(readSync(dfh, buf, 0, 5, 0), 5);
  assert.equal(buf.toString(), "hello");
  const [r, w] = pipe();
  const dw = exportFd("file", w); // a second fd under the same name
  closeAll([w]);
  writeSync(dw, "z");
  assert.equal(readSync(r, buf, 0, 1, null), 1);
  assert.equal(forget("file"), 2, "both fds named 'file'");
  assert.ok(!isOpen(dfh) && !isOpen(dw));
  closeAll([r]);
  rmSync(dir, { recursive: true });
}));

test("default pool: reset makes exports available by name; cleanup closes what is not taken", () => assertNoFdLeak(() => {
  const [r, w] = pipe();
  const dr = exportFd("reader", r), dw = exportFd("writer", w);
  reset();
  assert.deepEqual(activeFds(), []);
  assert.deepEqual(fileWith("writer", isFifo()), { fd: dw, name: "writer" });
  cleanup();
  assert.equal(isOpen(dr), false, "the untaken 'reader' was closed");
  assert.equal(fileWith("reader"), undefined);
  closeAll([dw, r, w]);
}));

test("default pool: bad exports fail with typed errors and track nothing", () => assertNoFdLeak(async () => {
  const [r, w] = pipe();
  assert.throws(() => exportFd("a:b", r), { code: "ERR_SD_INVALID_ARG" });
  assert.throws(() => exportFd("x", net.createServer()), { code: "ERR_SD_INVALID_ARG" }, "not listening yet");
  closeAll([w]);
  assert.throws(() => exportFd("x", w), { code: "ERR_SD_BAD_FD" });
  assert.deepEqual(activeFds(), []);
  closeAll([r]);
}));
