// NotifyReceiver: what a supervisor sees — credentials, fds (closed unless taken), truncation,
// path handling — checked against systemd-notify (252) as an independent sender.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { K, native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { fixture, run, spawnWithFds, TSX } from "../helpers/spawn.js";

const it = (name: string, fn: () => Promise<void>) => test(name, () => assertNoFdLeak(fn));

function rawSend(path: string, data: Buffer, fds: number[] = []): number {
  const n = native(), c = K();
  const fd = n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC!, 0);
  try { return n.sendmsg(fd, data, { family: c.AF_UNIX!, path: encodeUnixPath(path) }, fds, null); } finally { n.close(fd); }
}

it("systemd-notify: READY and STATUS arrive with the caller's pid, and its barrier completes because fds are closed", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const msgs: sd.ReceivedNotifyMessage[] = [];
  rx.on("message", (m) => msgs.push(m));
  try {
    const r = await run(spawnWithFds(["/usr/bin/systemd-notify", "--ready", "--status=hello from sh"], { env: { NOTIFY_SOCKET: rx.path } }), 20_000);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(msgs[0]!.assignments, [["READY", "1"], ["STATUS", "hello from sh"]]);
    // systemd-notify reports its parent: the /bin/sh shim exec'd it, so that is us.
    assert.equal(msgs[0]!.pid, process.pid);
    assert.equal(msgs[0]!.uid, process.getuid!());
    assert.deepEqual(msgs[1]!.assignments, [["BARRIER", "1"]]);
    assert.equal(msgs[1]!.fds.length, 1);
  } finally { rx.close(); }
});

it("takeFds() keeps received fds open for the caller; otherwise they are closed after the listeners", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const [r, w] = native().pipe2(K().O_CLOEXEC!) as [number, number];
  try {
    let kept: number[] = [];
    let auto: readonly number[] = [];
    const taken = rx.next((m) => m.fields.X === "take" && (kept = m.takeFds()).length > 0);
    assert.ok(rawSend(rx.path, Buffer.from("X=take"), [r]) > 0);
    await taken;
    assert.equal(typeof native().fstat(kept[0]!), "object", "the taken fd is still open");
    assert.equal((native().fstat(kept[0]!) as number[])[2], (native().fstat(r) as number[])[2]);
    native().close(kept[0]!);
    const other = rx.next((m) => m.fields.X === "auto" && (auto = m.fds).length > 0);
    assert.ok(rawSend(rx.path, Buffer.from("X=auto"), [r, w]) > 0);
    await other;
    await new Promise((res) => setImmediate(res));
    for (const fd of auto) assert.equal(native().fstat(fd), -9, `received fd ${fd} was closed (EBADF)`);
  } finally { native().close(r); native().close(w); rx.close(); }
});

it("oversized datagrams are flagged as truncated (the manager ignores them)", async () => {
  const rx = new sd.NotifyReceiver().listen();
  try {
    const next = rx.next();
    rawSend(rx.path, Buffer.from("STATUS=" + "x".repeat(5000)));
    const m = await next;
    assert.equal(m.truncated, true);
    assert.equal(m.raw.length, sd.NOTIFY_BUFFER_MAX);
    const ok = rx.next();
    rawSend(rx.path, Buffer.from("STATUS=" + "x".repeat(sd.NOTIFY_BUFFER_MAX - 7)));
    assert.equal((await ok).truncated, false);
  } finally { rx.close(); }
});

it("a path receiver replaces a stale socket, refuses other files, and removes its socket on close", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-rx-"));
  try {
    const path = join(dir, "notify");
    const first = new sd.NotifyReceiver({ path }).listen();
    const second = new sd.NotifyReceiver({ path }).listen(); // replaces the (still bound) first one's file
    const got = second.next();
    await sd.status("to the second", { env: sd.objectEnv({ NOTIFY_SOCKET: path }) });
    assert.equal((await got).fields.STATUS, "to the second");
    first.close();
    assert.equal(existsSync(path), true, "closing the first receiver leaves the second one's socket alone");
    second.close();
    assert.equal(existsSync(path), false);
    writeFileSync(path, "not a socket");
    assert.throws(() => new sd.NotifyReceiver({ path }).listen(), (e: unknown) => e instanceof sd.SdError && e.code === "ERR_SD_UNLINK_REFUSED");
    assert.throws(() => new sd.NotifyReceiver({ path: "relative" }), (e: unknown) => e instanceof sd.SdError && e.code === "ERR_SD_INVALID_ARG");
    const closed = new sd.NotifyReceiver().listen();
    const waiting = closed.next();
    closed.close();
    await assert.rejects(waiting, (e: unknown) => e instanceof sd.SdError && e.code === "ERR_SD_SOCKET_CLOSED");
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

it("an unref'd receiver and the watchdog pinger do not keep a process alive", async () => {
  const rx = new sd.NotifyReceiver().listen();
  try {
    const ping = rx.next((m) => m.fields.WATCHDOG === "1");
    const child = spawnWithFds([...TSX, fixture("notify-unref.ts")], { env: { ...rx.env, WATCHDOG_USEC: "60000000" } });
    const r = await run(child, 30_000);
    assert.deepEqual([r.code, r.stdout], [0, "started\n"], r.stderr);
    assert.equal((await ping).pid, child.pid, "the child's pinger did ping before it exited");
  } finally { rx.close(); }
});
