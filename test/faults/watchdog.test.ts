// Fault scenarios: the watchdog. Another process's WATCHDOG_PID, malformed variables, and a
// manager that stops reading or goes away under a running pinger. Real sockets, in-process
// pinger over an injected environment; every scenario stops the pinger and checks fds.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { K, native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { watchdogRunning } from "../../src/watchdog/pinger.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const it = (name: string, fn: () => Promise<void>) => test(name, () => assertNoFdLeak(async () => {
  try { await fn(); } finally { sd.stopWatchdog(); }
}));
const code = (c: string) => (e: unknown) => e instanceof sd.SdError && e.code === c;
let seq = 0;
const name = (tag: string) => `@sdf-wd-${tag}-${process.pid}-${++seq}`;
const tick = () => new Promise((r) => setTimeout(r, 5));

it("WATCHDOG_PID of another process: not enabled, and startWatchdog() sends no ping in its name", async () => {
  const rx = new sd.NotifyReceiver({ path: name("other") }).listen();
  const got: string[] = [];
  rx.on("message", (m) => got.push(m.raw.toString()));
  try {
    const vars = { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: "2000000", WATCHDOG_PID: String(process.ppid) };
    assert.deepEqual(sd.watchdogEnabled({ env: objectEnv(vars) }), { enabled: false, intervalMs: 0, intervalUsec: 0n });
    sd.startWatchdog({ env: objectEnv(vars) }); // a running pinger pings at once, synchronously
    assert.equal(watchdogRunning(), false);
    const marker = rx.next((m) => m.fields.X_MARKER === "1");
    await sd.notify({ X_MARKER: 1 }, { env: objectEnv(vars) });
    await marker;
    assert.deepEqual(got, ["X_MARKER=1"], "a watchdog ping was sent for another process");
  } finally { rx.close(); }
});

it("malformed WATCHDOG_USEC / WATCHDOG_PID fail with ERR_SD_WATCHDOG and leave no pinger behind", async () => {
  const bad = [
    { WATCHDOG_USEC: "abc" }, { WATCHDOG_USEC: "-5" }, { WATCHDOG_USEC: "0" }, { WATCHDOG_USEC: "18446744073709551615" },
    { WATCHDOG_USEC: "1000000", WATCHDOG_PID: "0" }, { WATCHDOG_USEC: "1000000", WATCHDOG_PID: "12ab" }, { WATCHDOG_USEC: "1000000", WATCHDOG_PID: "" },
  ];
  for (const vars of bad) {
    const env = objectEnv({ NOTIFY_SOCKET: "@nobody", ...vars });
    assert.throws(() => sd.watchdogEnabled({ env }), code("ERR_SD_WATCHDOG"), JSON.stringify(vars));
    assert.throws(() => sd.startWatchdog({ env }), code("ERR_SD_WATCHDOG"), JSON.stringify(vars));
    assert.equal(watchdogRunning(), false);
  }
  // The same call with unsetEnv removes the variables even though it throws.
  const vars: Record<string, string | undefined> = { WATCHDOG_USEC: "abc", WATCHDOG_PID: "1" };
  assert.throws(() => sd.watchdogEnabled({ env: objectEnv(vars), unsetEnv: true }), code("ERR_SD_WATCHDOG"));
  assert.deepEqual(vars, {});
});

it("a manager that stops reading: pings fail without stalling the loop or throwing, one warning only", async () => {
  const n = native(), c = K();
  const path = name("deaf");
  const fd = n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC! | c.SOCK_NONBLOCK!, 0);
  assert.equal(n.bind(fd, { family: c.AF_UNIX!, path: encodeUnixPath(path) }), 0);
  const warnings: Error[] = [];
  const onWarning = (w: Error & { code?: string }) => { if (w.code === "SDKIT_WATCHDOG_PING") warnings.push(w); };
  process.on("warning", onWarning);
  try {
    sd.startWatchdog({ env: objectEnv({ NOTIFY_SOCKET: path, WATCHDOG_USEC: "4000" }) }); // a ping every 2 ms
    let ticks = 0;
    while (warnings.length === 0) { await tick(); ticks++; assert.ok(ticks < 6000, "no ping ever failed"); }
    assert.match(warnings[0]!.message, /EAGAIN|queue is full/);
    // Many more failing pings (the queue holds ~10 datagrams; nothing reads it).
    let queued = 0;
    for (let r = n.recvmsg(fd, 64); typeof r !== "number"; r = n.recvmsg(fd, 64)) queued++;
    assert.ok(queued > 0, "no ping arrived at all");
    for (let i = 0; i < 40; i++) await tick();
    assert.equal(warnings.length, 1, "the pinger warned more than once");
    assert.equal(watchdogRunning(), true, "a full queue is transient: the pinger must keep going");
  } finally {
    process.off("warning", onWarning);
    n.close(fd);
  }
});

it("NOTIFY_SOCKET removed under a running pinger: the pinger stops by itself", async () => {
  const rx = new sd.NotifyReceiver({ path: name("unset") }).listen();
  try {
    const vars: Record<string, string | undefined> = { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: "4000" };
    const first = rx.next((m) => m.fields.WATCHDOG === "1");
    sd.startWatchdog({ env: objectEnv(vars) });
    await first;
    delete vars.NOTIFY_SOCKET;
    let ticks = 0;
    while (watchdogRunning()) { await tick(); ticks++; assert.ok(ticks < 6000, "the pinger never stopped"); }
  } finally { rx.close(); }
});

it("STOPPING=1 stops the pinger even when the message cannot be delivered", async () => {
  const rx = new sd.NotifyReceiver({ path: name("stop") }).listen();
  try {
    const vars = { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: "1000000" };
    sd.startWatchdog({ env: objectEnv(vars) });
    assert.equal(watchdogRunning(), true);
    await assert.rejects(sd.stopping(undefined, { env: objectEnv({ ...vars, NOTIFY_SOCKET: "/nonexistent/notify" }) }), code("ERR_SD_NOTIFY_SEND"));
    assert.equal(watchdogRunning(), false, "a dying service kept feeding the watchdog");
  } finally { rx.close(); }
});
