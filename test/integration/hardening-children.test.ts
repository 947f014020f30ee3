// Hardening: what an unrelated child process (spawned with child_process, as any app does) gets
// from an sdkit daemon. It must get no inherited or exported fd, no lock, notify or pipe fd, and
// after unsetEnv none of LISTEN_*/NOTIFY_SOCKET/WATCHDOG_* nor sdkit's private handshake
// variables. Checked from outside, in /proc/<child>/fd and /proc/<child>/environ.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { native } from "../../src/native/binding.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { inspectSleeper } from "../faults/sleeper.js";
import { closeAll, errorOf, inetSocket, okOf, probe, tempDir, unixSocket } from "../faults/lib.js";

const fileCheck = fdSnapshot();
after(() => fileCheck());
let ambient: number[] = [];

/** Spawns `sleep`, returns its fds (beyond stdio and what every child of ours gets) and environment. */
async function inspectChild(): Promise<{ fds: string[]; env: string[] }> {
  const c = await inspectSleeper();
  const fds = [...c.fds].filter(([fd]) => fd > 2 && !ambient.includes(fd)).map(([fd, t]) => `${fd} -> ${t}`);
  return { fds, env: c.environ.filter((e) => /^(LISTEN_|NOTIFY_SOCKET=|WATCHDOG_|SDKIT_)/.test(e)) };
}

before(async () => { ambient = (await inspectChild()).fds.map((l) => Number(l.split(" ")[0])); });

test("every fd sdkit creates or exports (listeners, lock, receiver, barrier pipe, dups) stays out of unrelated children", async () => {
  const t = tempDir("hard");
  const n = native();
  const raw = n.pipe2(0) as [number, number]; // an app's own inheritable pipe, exported
  assert.ok(Array.isArray(raw));
  const deaf = `@sdf-hard-${process.pid}`;
  const deafFd = unixSocket("dgram", deaf, false);
  let deafOpen = true;
  const closeDeaf = () => { if (deafOpen) { deafOpen = false; closeAll(deafFd); } };
  const objs: { close(): unknown }[] = [];
  try {
    objs.push(await sd.listenTCP({ name: "web", host: "127.0.0.1", port: 0 }));
    objs.push(await sd.listenUDP({ name: "dns", host: "127.0.0.1", port: 0 }));
    objs.push(await sd.listenUnix({ name: "ctl", path: join(t.dir, "ctl.sock"), unlinkPolicy: "flock" }));
    objs.push(await sd.listenUnixgram({ name: "log", path: join(t.dir, "log.sock") }));
    objs.push(new sd.NotifyReceiver({ path: `@sdf-hard-rx-${process.pid}` }).listen());
    const dup = sd.exportFd("raw", raw[0]);
    assert.equal(n.getFlags(dup, 0) & 1, 1, "an exported dup is not close-on-exec");
    const pendingBarrier = sd.barrier(30_000, { env: objectEnv({ NOTIFY_SOCKET: deaf }) }).catch((e: sd.SdError) => e.code);
    await new Promise((r) => setImmediate(r));
    const child = await inspectChild();
    const ownRaw = child.fds.filter((l) => Number(l.split(" ")[0]) === raw[0] || Number(l.split(" ")[0]) === raw[1]);
    assert.deepEqual(child.fds.filter((l) => !ownRaw.includes(l)), [], "sdkit fds leaked into an unrelated child");
    closeDeaf(); // the barrier's only reader goes away: the wait ends (timeout or hang-up)
    await pendingBarrier;
  } finally {
    closeDeaf();
    for (const o of objs) o.close();
    for (const { name } of sd.activeFds()) sd.forget(name);
    closeAll(...raw);
    t.done();
  }
});

test("inherited fds, taken or not, stay out of the daemon's children, and LISTEN_* with them", async () => {
  const a = inetSocket("tcp"), b = inetSocket("udp"), c = inetSocket("tcp");
  try {
    const out = await probe([["listenTCP", { name: "web", host: "127.0.0.1" }], ["listenUDP", { name: "dns", host: "127.0.0.1" }], ["grandchild"]],
      { fds: [a, b, c], names: ["web", "dns", "unused"] });
    okOf(out.results[0]); okOf(out.results[1]);
    const g = okOf<{ fds: number[]; targets: Record<string, string>; env: string[] }>(out.results[2]);
    assert.deepEqual(g.fds.filter((fd) => fd > 2 && !ambient.includes(fd)).map((fd) => `${fd} -> ${g.targets[fd]}`), []);
    assert.deepEqual(g.env, []);
  } finally { closeAll(a, b, c); }
});

test("after notify({ unsetEnv: true }), delivered or not, no notify or watchdog variable reaches a child", async () => {
  const rx = new sd.NotifyReceiver({ path: `@sdf-hard-env-${process.pid}` }).listen();
  try {
    const env = { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: "30000000", WATCHDOG_PID: "1" };
    const unset = await probe([["notify", "READY=1", { unsetEnv: true }], ["env"], ["grandchild"]], { env });
    okOf(unset.results[0]);
    assert.deepEqual(okOf(unset.results[1]), {});
    assert.deepEqual(okOf<{ env: string[] }>(unset.results[2]).env, []);
    // Also when sending fails: the variables go whatever happens.
    const failed = await probe([["notify", "READY=1", { unsetEnv: true }], ["grandchild"]], { env: { ...env, NOTIFY_SOCKET: "/nonexistent/notify" } });
    assert.equal(errorOf(failed.results[0]).code, "ERR_SD_NOTIFY_SEND");
    assert.deepEqual(okOf<{ env: string[] }>(failed.results[1]).env, []);
  } finally { rx.close(); }
});

test("sdkit's private handshake variables never reach a grandchild, even when they name nothing valid", async () => {
  const out = await probe([["env"], ["grandchild"]], { env: { SDKIT_READY_FD: "9", SDKIT_PARENT_PID: "1" } });
  assert.deepEqual(okOf(out.results[0]), {});
  assert.deepEqual(okOf<{ env: string[] }>(out.results[1]).env, []);
});

test("a successor started by startProcess gets the exported fds at 3.. but never WATCHDOG_PID, LISTEN_PIDFDID or a stale LISTEN_PID", async () => {
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  try {
    sd.exportFd("dns", sock);
    const saved = { ...process.env };
    Object.assign(process.env, { WATCHDOG_PID: String(process.pid), WATCHDOG_USEC: "1000000", LISTEN_PIDFDID: "12345", LISTEN_PID: "1" });
    let pid: number;
    try {
      pid = await sd.startProcess({}, { argv: ["/bin/sleep", "30"] });
    } finally {
      for (const k of ["WATCHDOG_PID", "WATCHDOG_USEC", "LISTEN_PIDFDID", "LISTEN_PID"]) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
    }
    try {
      for (let i = 0; i < 200 && !readlinkSync(`/proc/${pid}/exe`).endsWith("/sleep"); i++) await new Promise((r) => setTimeout(r, 10));
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      assert.ok(env.includes(`LISTEN_PID=${pid}`) && env.includes("LISTEN_FDS=1") && env.includes("LISTEN_FDNAMES=dns"), env.filter((e) => e.startsWith("LISTEN")).join(" "));
      assert.deepEqual(env.filter((e) => /^(WATCHDOG_PID|LISTEN_PIDFDID|SDKIT_)/.test(e)), []);
      assert.equal(readlinkSync(`/proc/${pid}/fd/3`), readlinkSync(`/proc/self/fd/${sd.activeFds()[0]!.fd}`));
    } finally { process.kill(pid, "SIGKILL"); }
  } finally { sd.forget("dns"); sock.close(); }
});
