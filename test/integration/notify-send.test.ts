// notify() and its helpers against real receivers: the independent python3 one and sdkit's
// NotifyReceiver; transport errors, back-pressure, concurrency and credentials.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { K, native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { startPythonReceiver } from "../helpers/python-receiver.js";
import fc from "fast-check";

const it = (name: string, fn: () => Promise<void>) => test(name, () => assertNoFdLeak(fn));
const code = (c: string) => (e: unknown) => e instanceof sd.SdError && e.code === c;

/** Runs `fn` with NOTIFY_SOCKET (and nothing else of the notify env) set in process.env. */
async function withNotifySocket(value: string | undefined, fn: () => Promise<void>): Promise<void> {
  const saved = { ...process.env };
  for (const k of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) delete process.env[k];
  if (value !== undefined) process.env.NOTIFY_SOCKET = value;
  try { await fn(); } finally {
    for (const k of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
  }
}

/** A bound datagram socket nobody reads: its queue fills up (net.unix.max_dgram_qlen). */
function deafSocket(): { path: string; drain(): number; close(): void } {
  const n = native(), c = K();
  const path = `@sdkit-deaf-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC! | c.SOCK_NONBLOCK!, 0);
  assert.equal(n.bind(fd, { family: c.AF_UNIX!, path: encodeUnixPath(path) }), 0);
  return {
    path,
    drain() { let k = 0; for (let r = n.recvmsg(fd, 8192); typeof r !== "number"; r = n.recvmsg(fd, 8192)) { r.fds.forEach((f) => n.close(f)); k++; } return k; },
    close() { n.close(fd); },
  };
}

it("ready(status) reaches an independent python receiver as exactly the assignments sent, with our pid", async () => {
  const py = await startPythonReceiver();
  try {
    await withNotifySocket(py.address, async () => {
      await sd.ready("listening on :8080");
      await sd.notify({ X_APP_STATE: "warm", STATUS: "a=b=c" });
      await sd.notify("WATCHDOG=1\n");
    });
    const msgs = await py.waitFor(3);
    assert.deepEqual(msgs.map((m) => m.assignments), [
      [["READY", "1"], ["STATUS", "listening on :8080"]],
      [["X_APP_STATE", "warm"], ["STATUS", "a=b=c"]],
      [["WATCHDOG", "1"]],
    ]);
    for (const m of msgs) assert.deepEqual([m.pid, m.uid, m.gid, m.truncated, m.fds], [process.pid, process.getuid!(), process.getgid!(), false, []]);
  } finally { await py.stop(); }
});

it("a filesystem-path NOTIFY_SOCKET works too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-notify-"));
  const py = await startPythonReceiver({ address: join(dir, "notify") });
  try {
    await sd.status("via path", { env: objectEnv({ NOTIFY_SOCKET: py.address }) });
    assert.deepEqual((await py.waitFor(1))[0]!.assignments, [["STATUS", "via path"]]);
  } finally { await py.stop(); rmSync(dir, { recursive: true, force: true }); }
});

it("every helper sends one message with the documented assignments", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const got: [string, string][][] = [];
  rx.on("message", (m) => got.push(m.assignments));
  try {
    const opts = { env: objectEnv({ NOTIFY_SOCKET: rx.path }) };
    const before = process.hrtime.bigint() / 1000n;
    await sd.reloading(undefined, opts);
    const after = process.hrtime.bigint() / 1000n;
    await sd.ready(undefined, opts);
    await sd.stopping("bye", opts);
    await sd.mainPid(4242, opts);
    await sd.extendTimeout(1500.4, opts);
    await sd.errno(5, opts);
    await sd.watchdogTrigger(opts);
    await sd.fdStoreRemove("web", opts);
    await sd.notifyStatus("watchdog", "fine", opts);
    await sd.notifyStatus("none", "only status", opts);
    await sd.notifyStatus("reloading", undefined, opts);
    while (got.length < 11) await new Promise((r) => setImmediate(r));
    const mono = BigInt(got[0]![1]![1]);
    assert.ok(mono >= before && mono <= after, "MONOTONIC_USEC is CLOCK_MONOTONIC in µs, taken at the call");
    assert.deepEqual(got[0]!.map(([k]) => k), ["RELOADING", "MONOTONIC_USEC"]);
    assert.deepEqual(got.slice(1, 10), [
      [["READY", "1"]], [["STOPPING", "1"], ["STATUS", "bye"]], [["MAINPID", "4242"]], [["EXTEND_TIMEOUT_USEC", "1500400"]],
      [["ERRNO", "5"]], [["WATCHDOG", "trigger"]], [["FDSTOREREMOVE", "1"], ["FDNAME", "web"]],
      [["WATCHDOG", "1"], ["STATUS", "fine"]], [["STATUS", "only status"]],
    ]);
    assert.deepEqual(got[10]!.map(([k]) => k), ["RELOADING", "MONOTONIC_USEC"]);
  } finally { rx.close(); }
});

it("helpers validate their arguments before anything is sent", async () => {
  const env = objectEnv({});
  await assert.rejects(sd.mainPid(0, { env }), code("ERR_SD_INVALID_ARG"));
  await assert.rejects(sd.extendTimeout(-1, { env }), code("ERR_SD_INVALID_ARG"));
  await assert.rejects(sd.errno(1.5, { env }), code("ERR_SD_INVALID_ARG"));
  await assert.rejects(sd.fdStoreRemove("a:b", { env }), code("ERR_SD_INVALID_ARG"));
  await assert.rejects(sd.notifyStatus("none", undefined, { env }), code("ERR_SD_INVALID_ARG"));
  await assert.rejects(sd.notifyStatus("bogus" as "ready", undefined, { env }), code("ERR_SD_INVALID_ARG"));
  await assert.rejects(sd.status("two\nlines", { env }), code("ERR_SD_INVALID_MESSAGE"));
  await assert.rejects(sd.notify("BARRIER=1", { env: objectEnv({ NOTIFY_SOCKET: "@x" }) }), code("ERR_SD_INVALID_MESSAGE"));
  await assert.rejects(sd.notify("READY=1", { env: objectEnv({ NOTIFY_SOCKET: "@x" }), pid: -3 }), code("ERR_SD_INVALID_ARG"));
});

it("unset NOTIFY_SOCKET rejects with NoNotifySocketError; unsetEnv clears the variables even on failure", async () => {
  await withNotifySocket(undefined, async () => {
    await assert.rejects(sd.ready(), (e: unknown) => e instanceof sd.NoNotifySocketError && e.code === "ERR_SD_NO_NOTIFY_SOCKET");
  });
  await withNotifySocket("@sdkit-nobody-listens-here", async () => {
    process.env.WATCHDOG_USEC = "1000000";
    process.env.WATCHDOG_PID = String(process.pid);
    await assert.rejects(sd.ready(undefined, { unsetEnv: true }), code("ERR_SD_NOTIFY_SEND"));
    assert.deepEqual([process.env.NOTIFY_SOCKET, process.env.WATCHDOG_USEC, process.env.WATCHDOG_PID], [undefined, undefined, undefined]);
  });
});

it("unusable addresses fail with a typed error saying what to fix", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-notify-"));
  try {
    const send = (raw: string) => sd.ready(undefined, { env: objectEnv({ NOTIFY_SOCKET: raw }) });
    await assert.rejects(send(join(dir, "missing")), (e: unknown) => e instanceof sd.SdError && e.code === "ERR_SD_NOTIFY_SEND" && e.sysCode === "ENOENT" && /stale/.test(e.message));
    await assert.rejects(send("@sdkit-nobody-listens-here"), (e: unknown) => e instanceof sd.SdError && e.code === "ERR_SD_NOTIFY_SEND" && e.sysCode === "ECONNREFUSED");
    await assert.rejects(send("relative/notify"), code("ERR_SD_NOTIFY_SOCKET"));
    await assert.rejects(send("vsock:2:9999"), code("ERR_SD_UNSUPPORTED"));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

it("a full receiver gives ERR_SD_WOULD_BLOCK at once with waitMs: 0, and after the bound otherwise", async () => {
  const deaf = deafSocket();
  try {
    const env = objectEnv({ NOTIFY_SOCKET: deaf.path });
    let sent = 0;
    for (;;) {
      try { await sd.notify({ X_N: sent }, { env, waitMs: 0 }); sent++; } catch (e) { assert.ok(code("ERR_SD_WOULD_BLOCK")(e), String(e)); break; }
      assert.ok(sent < 10_000, "the queue never filled");
    }
    await assert.rejects(sd.notify({ X_N: -1 }, { env, waitMs: 50 }), code("ERR_SD_WOULD_BLOCK"));
    assert.equal(deaf.drain(), sent, "nothing beyond the accepted messages was queued");
  } finally { deaf.close(); }
});

it("the bounded wait resolves as soon as the receiver makes room, without blocking the loop", async () => {
  const deaf = deafSocket();
  try {
    const env = objectEnv({ NOTIFY_SOCKET: deaf.path });
    while (await sd.notify({ X: 1 }, { env, waitMs: 0 }).then(() => true, () => false));
    let settled = false;
    const pending = sd.notify({ X_LAST: "yes" }, { env, waitMs: 60_000 }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20)); // the loop keeps turning meanwhile
    assert.equal(settled, false);
    deaf.drain();
    await pending;
    assert.equal(deaf.drain(), 1);
  } finally { deaf.close(); }
});

it("hundreds of concurrent notify() calls all arrive (fresh unbound socket per call)", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const seen = new Set<string>();
  rx.on("message", (m) => seen.add(m.fields.X_I!));
  try {
    const env = objectEnv({ NOTIFY_SOCKET: rx.path });
    await Promise.all(Array.from({ length: 300 }, (_, i) => sd.notify({ X_I: i }, { env })));
    while (seen.size < 300) await new Promise((r) => setImmediate(r));
    assert.equal(seen.size, 300);
  } finally { rx.close(); }
});

it("pid: sends on behalf of another process (root), and falls back to our own credentials when refused", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const child = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
  try {
    const env = objectEnv({ NOTIFY_SOCKET: rx.path });
    let next = rx.next((m) => m.fields.X_WHO === "child");
    await sd.notify({ X_WHO: "child" }, { env, pid: child.pid! });
    assert.equal((await next).pid, process.getuid!() === 0 ? child.pid : process.pid);
    next = rx.next((m) => m.fields.X_WHO === "ghost");
    await sd.notify({ X_WHO: "ghost" }, { env, pid: 2 ** 22 + 1 }); // above pid_max: no such process
    assert.equal((await next).pid, process.pid);
  } finally {
    rx.close();
    await new Promise((r) => { child.once("close", r); child.kill("SIGKILL"); });
  }
});

it("round trip: hundreds of generated messages reach the python receiver as exactly their assignments", async () => {
  const py = await startPythonReceiver();
  try {
    const env = objectEnv({ NOTIFY_SOCKET: py.address });
    const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/);
    const value = fc.string({ unit: "grapheme", maxLength: 40 }).filter((v) => !/[\n\r\0\\]/.test(v));
    const states = fc.sample(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 6 }), { numRuns: 300, seed: 42 });
    for (const s of states) await sd.notify(s, { env });
    const msgs = await py.waitFor(states.length, 30_000);
    assert.deepEqual(msgs.map((m) => m.assignments), states);
    assert.ok(msgs.every((m) => m.pid === process.pid && !m.truncated));
  } finally { await py.stop(); }
});
