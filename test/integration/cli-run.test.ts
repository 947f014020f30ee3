// `sdkit run` driving programs that know nothing of sdkit: a python3 Type=notify service, a
// scripted sender covering the protocol, and shell scripts using systemd-notify / sdkit notify.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "../helpers/spawn.js";
import { SDKIT, startRun, tempDir, type RunHandle } from "../fixtures/cli-kit.js";

const SERVICE = fixture("cli-service.py");
const NOTIFIER = fixture("cli-notifier.py");
type Ev = Record<string, unknown>;
const is = (name: string, extra: (e: Ev) => boolean = () => true) => (e: Ev) => e.event === name && extra(e);

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let d = "";
    s.on("data", (c) => (d += c)).on("end", () => resolve(d.trim())).on("error", reject);
  });
}

async function stop(r: RunHandle): Promise<number | null> {
  r.child.kill("SIGTERM");
  return (await r.done).code;
}

test("python3 Type=notify service: READY/STATUS, FD-store restart after a crash, watchdog expiry, SIGHUP replacement", async (t) => {
  const r = startRun(["-l", "127.0.0.1:0", "--fdname", "web", "--watchdog-sec", "3s", "--fdstore-max", "4", SERVICE]);
  t.after(() => r.kill());
  const listening = await r.event(is("listening"));
  const port = Number(String(listening.address).split(":")[1]);
  const ready1 = await r.event(is("ready"));
  const first = await r.line((l) => l.event === "start");
  assert.equal(ready1.mainPid, first.pid);
  assert.equal(ready1.statusText, `serving from ${first.pid}`);
  assert.deepEqual([first.names, first.watchdog, first.watchdogPidIsOwn, first.fdstore, first.state], [["web"], "3000000", true, "4", null]);
  assert.equal(await ask(port), String(first.pid));

  // Crash: restarted with the listener and the stored state pipe (FDPOLL=0), same port.
  process.kill(first.pid as number, "SIGUSR2");
  const crash = await r.event(is("exit", (e) => e.pid === first.pid));
  assert.deepEqual([crash.code, crash.result], [3, "failure"]);
  const second = await r.line((l) => l.event === "start" && l.pid !== first.pid);
  assert.deepEqual(second.names, ["web", "state"]);
  assert.equal(second.state, `state from ${first.pid}`);
  const ready2 = await r.event(is("ready", (e) => e.mainPid === second.pid));
  assert.equal(ready2.restarts, 1);
  assert.equal(await ask(port), String(second.pid));

  // Watchdog: the service stops pinging; it is killed with SIGABRT and restarted.
  process.kill(second.pid as number, "SIGUSR1");
  const wd = await r.event(is("watchdog-timeout", (e) => e.pid === second.pid));
  assert.equal(wd.reason, "timeout");
  const killed = await r.event(is("exit", (e) => e.pid === second.pid));
  assert.deepEqual([killed.signal, killed.result], ["SIGABRT", "watchdog"]);
  const ready3 = await r.event(is("ready", (e) => e.mainPid !== second.pid && e.mainPid !== first.pid));
  assert.equal(ready3.restarts, 2);

  // SIGHUP: a new copy starts, becomes ready, then the old one is stopped (not a restart).
  const third = ready3.mainPid as number;
  const mark = r.events.length;
  r.child.kill("SIGHUP");
  const replaced = await r.event(is("replaced"), mark);
  assert.equal(replaced.oldPid, third);
  assert.notEqual(replaced.newPid, third);
  const oldExit = await r.event(is("exit", (e) => e.pid === third), mark);
  assert.deepEqual([oldExit.code, oldExit.result], [0, "replaced"]);
  assert.equal(replaced.restarts, 2, "a replacement is not a restart");
  assert.equal(await ask(port), String(replaced.newPid));
  assert.equal(await stop(r), 0);
  await r.event(is("stopping", (e) => e.pid === replaced.newPid));
});

test("the whole protocol from a scripted sender: BARRIER, RELOADING, EXTEND_TIMEOUT, ERRNO, WATCHDOG_USEC, FD store with FDPOLL, FDSTOREREMOVE, STOPPING, WATCHDOG=trigger", async (t) => {
  const r = startRun(["--fdstore-max", "4", "--restart", "no", NOTIFIER, "READY=1\\nSTATUS=one", "@barrier", "RELOADING=1\\nMONOTONIC_USEC=123",
    "READY=1", "EXTEND_TIMEOUT_USEC=5000000", "ERRNO=5", "WATCHDOG_USEC=30000000", "@pipe:keep:nopoll", "@pipe:gone:poll",
    "FDSTOREREMOVE=1\\nFDNAME=keep", "@pipe:keep:nopoll", "STOPPING=1", "WATCHDOG=trigger"]);
  t.after(() => r.kill());
  const res = await r.done;
  assert.equal(res.code, 128 + 6, "killed by the watchdog (SIGABRT) and not restarted: 128+SIGABRT");
  const names = r.events.map((e) => e.event);
  const order = ["ready", "reloading", "reloaded", "extend-timeout", "errno", "watchdog-usec", "fdstore", "fdstore", "fdstore-hangup", "fdstore-remove", "fdstore", "stopping", "watchdog-timeout", "exit"];
  assert.deepEqual(names.filter((n) => order.includes(n as string)), order);
  const get = (n: string) => r.events.filter((e) => e.event === n);
  assert.equal(get("status")[0]!.text, "one");
  assert.deepEqual(r.lines[0], { barrier: true }, "BARRIER=1 answered by closing the fd");
  assert.equal(get("errno")[0]!.errno, 5);
  assert.equal(get("extend-timeout")[0]!.usec, 5_000_000);
  assert.equal(get("watchdog-usec")[0]!.usec, 30_000_000);
  assert.deepEqual(get("fdstore").map((e) => [e.name, e.stored, e.total]), [["keep", 1, 1], ["gone", 1, 2], ["keep", 1, 1]]);
  assert.equal(get("fdstore-hangup")[0]!.name, "gone", "a polled pipe whose writer closed is dropped");
  assert.deepEqual([get("fdstore-remove")[0]!.name, get("fdstore-remove")[0]!.removed], ["keep", 1]);
  assert.equal(get("reloading")[0]!.state, "reloading");
  assert.equal(get("reloaded")[0]!.state, "running");
  assert.equal(get("watchdog-timeout")[0]!.reason, "trigger");
  assert.deepEqual([get("exit")[0]!.signal, get("exit")[0]!.result], ["SIGABRT", "watchdog"]);
});

test("shell services: systemd-notify and sdkit notify are accepted as the main pid; status line", async (t) => {
  for (const notifier of [["systemd-notify"], [...SDKIT, "notify"]]) {
    const cmd = `${notifier.map((a) => `'${a}'`).join(" ")} --ready --status="from sh"; exec sleep 600`;
    const r = startRun(["/bin/sh", "-c", cmd]);
    t.after(() => r.kill());
    const ready = await r.event(is("ready"));
    assert.equal(ready.statusText, "from sh", notifier[0]);
    assert.equal(r.events.filter(is("ignored")).length, 0, "nothing ignored: the message carries the shell's pid");
    assert.equal(await stop(r), 0);
  }
  // Without --json: the human status line.
  const { spawn } = await import("node:child_process");
  const child = spawn(SDKIT[0]!, [...SDKIT.slice(1), "run", "/bin/sh", "-c", "systemd-notify --ready --status=hello; exec sleep 600"], { stdio: ["ignore", "ignore", "pipe"] });
  t.after(() => { child.kill("SIGTERM"); });
  let err = "";
  await new Promise<void>((resolve) => child.stderr.on("data", (d) => { err += d; if (/● running {2}pid \d+ {2}restarts 0 {2}"hello"/.test(err)) resolve(); }));
  child.kill("SIGTERM");
  await new Promise((res) => child.on("close", res));
});

test("NotifyAccess: a forked helper's READY is ignored by default, accepted with --notify-access=all", async (t) => {
  const helper = `${NOTIFIER} READY=1 @exit:0`;
  const strict = startRun(["--timeout-start-sec", "3s", "--restart", "no", "/bin/sh", "-c", `${helper}; exec sleep 600`]);
  t.after(() => strict.kill());
  const ignored = await strict.event(is("ignored"));
  assert.match(String(ignored.reason), /only the main pid/);
  await strict.event(is("start-timeout"));
  assert.notEqual((await strict.done).code, 0);
  assert.equal(strict.events.filter(is("ready")).length, 0);
  const all = startRun(["--notify-access", "all", "/bin/sh", "-c", `${helper}; exec sleep 600`]);
  t.after(() => all.kill());
  await all.event(is("ready"));
  assert.equal(await stop(all), 0);
});

test("MAINPID= moves the service to another process; its death is noticed", async (t) => {
  const r = startRun(["--restart", "no", "/bin/sh", "-c", "sleep 600 & systemd-notify --no-block --ready MAINPID=$!; exit 0"]);
  t.after(() => r.kill());
  const moved = await r.event(is("mainpid"));
  await r.event(is("ready"));
  await r.event(is("exit", (e) => e.pid === moved.newPid), 0, 1000).then(() => assert.fail("must still be running"), () => {});
  process.kill(moved.newPid as number, "SIGKILL");
  const exit = await r.event(is("exit"));
  assert.equal(exit.pid, moved.newPid);
  assert.equal((await r.done).code, 1, "an unknown exit status counts as failure");
});

test("--watch: a change replaces the service without downtime", async (t) => {
  const dir = tempDir("watch");
  const r = startRun(["-w", dir, SERVICE]);
  t.after(() => r.kill());
  const ready = await r.event(is("ready"));
  writeFileSync(join(dir, "app.js"), "changed");
  const replaced = await r.event(is("replaced"));
  assert.equal(replaced.oldPid, ready.mainPid);
  assert.match(String((await r.event(is("replace"))).reason), /^watch /);
  assert.equal(await stop(r), 0);
});
