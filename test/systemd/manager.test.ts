/**
 * The user-manager fixture itself: real 252 and 254 managers start in isolation, report their
 * version, run a Type=notify service to active, and leave nothing behind (no sdtest-<pid>
 * cgroup, no process, no runtime dir) — after stop(), and also when the test process dies
 * without calling stop().
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupHierarchies, removeManagerCgroups } from "../harness/cgroup.js";
import { skipUnless254, startUserManager, type UserManager } from "../harness/user-manager.js";
import { fixture, run, spawnWithFds, TSX, waitForLine } from "../helpers/spawn.js";

const skip254 = await skipUnless254();

/** A process identity that survives pid reuse: pid + start time (field 22 of /proc/pid/stat). */
interface Proc { pid: number; start: string }
function procOf(pid: number): Proc {
  return { pid, start: readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[19]! };
}
function stillRunning(p: Proc): boolean {
  try {
    const rest = readFileSync(`/proc/${p.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return rest[19] === p.start && rest[0] !== "Z"; // a zombie is dead, just not reaped yet
  } catch {
    return false;
  }
}

/** Runs a shell Type=notify service to active; returns the processes that must go at stop(). */
async function exercise(m: UserManager, version: number): Promise<Proc[]> {
  const mgr = await m.show("", ["Version", "SystemState"]);
  assert.match(mgr.Version ?? "", new RegExp(`^${version}\\.`));
  assert.equal(m.version, version);
  assert.equal(mgr.SystemState, "running");
  await m.writeUnit("t-ready.service", [
    "[Unit]", "StartLimitIntervalSec=0",
    "[Service]", "Type=notify", "NotifyAccess=all",
    `ExecStart=/bin/sh -c 'systemd-notify --ready --status="ready under ${version}"; exec sleep infinity'`, "",
  ].join("\n"));
  const r = await m.systemctl("start", "t-ready.service");
  assert.equal(r.code, 0, `start failed: ${r.stderr}`);
  const p = await m.show("t-ready.service", ["ActiveState", "SubState", "StatusText", "MainPID", "ControlGroup"]);
  assert.equal(p.ActiveState, "active");
  assert.equal(p.SubState, "running");
  assert.equal(p.StatusText, `ready under ${version}`);
  assert.equal(p.ControlGroup, `/sdtest-${m.pid}/app.slice/t-ready.service`, "services must live in the manager's own cgroup");
  const main = Number(p.MainPID);
  assert.ok(main > 0);
  return [procOf(m.pid), procOf(main)];
}

/** Pids of the starter's owner watcher for manager `pid` (argv: … sdtest-watcher FD sdtest-<pid> …). */
function watchers(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      const i = argv.indexOf("sdtest-watcher");
      if (i >= 0 && argv[i + 2] === `sdtest-${pid}`) out.push(Number(e));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

function assertGone(m: Pick<UserManager, "pid" | "rt">, procs: Proc[]): void {
  for (const h of cgroupHierarchies()) assert.equal(existsSync(join(h, `sdtest-${m.pid}`)), false, `${h}/sdtest-${m.pid} left behind`);
  for (const p of procs) assert.equal(stillRunning(p), false, `pid ${p.pid} still running`);
  assert.deepEqual(watchers(m.pid), [], "the owner watcher must be gone too");
  assert.equal(existsSync(m.rt), false, `${m.rt} left behind`);
}

/** For tear-down done by another process (the watcher): retries assertGone until it holds. */
async function eventuallyGone(m: Pick<UserManager, "pid" | "rt">, procs: Proc[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return assertGone(m, procs);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function lifecycle(version: 252 | 254): Promise<void> {
  const m = await startUserManager({ version });
  let procs: Proc[] = [];
  try {
    procs = await exercise(m, version);
  } finally {
    await m.stop();
  }
  assertGone(m, procs);
  await m.stop(); // idempotent
}

test("252 user manager: starts, runs a Type=notify service, tears down (twice in a row)", async () => {
  await lifecycle(252);
  await lifecycle(252);
});

test("254 user manager (extracted from bookworm-backports): same lifecycle", { skip: skip254 }, async () => {
  await lifecycle(254);
  await lifecycle(254);
});

test("two managers side by side are independent", async () => {
  const versions: (252 | 254)[] = skip254 ? [252, 252] : [252, 254];
  const ms = await Promise.all(versions.map((version) => startUserManager({ version })));
  const procs: Proc[][] = [];
  try {
    assert.notEqual(ms[0]!.pid, ms[1]!.pid);
    assert.notEqual(ms[0]!.rt, ms[1]!.rt);
    procs.push(...(await Promise.all(ms.map((m, i) => exercise(m, versions[i]!)))));
    // A unit written to one manager is unknown to the other.
    await ms[0]!.writeUnit("t-only-first.service", "[Service]\nExecStart=/bin/true\n");
    assert.equal((await ms[0]!.show("t-only-first.service", ["LoadState"])).LoadState, "loaded");
    assert.equal((await ms[1]!.show("t-only-first.service", ["LoadState"])).LoadState, "not-found");
  } finally {
    await Promise.all(ms.map((m) => m.stop()));
  }
  ms.forEach((m, i) => assertGone(m, procs[i] ?? []));
});

// "throw": uncaught exception ('exit' handler); "SIGTERM": signal handler, then the signal is
// re-raised; "SIGKILL": no handler can run, the starter's owner watcher must do it all.
for (const mode of ["throw", "SIGTERM", "SIGKILL"] as const) {
  test(`safety net: a test process that dies (${mode}) without stop() leaves nothing behind`, async () => {
    const child = spawnWithFds([...TSX, fixture("harness-abandon.ts"), mode === "throw" ? "throw" : "wait"]);
    const done = run(child, 120_000);
    let info: { pid: number; mainPid: number; rt: string } | undefined;
    try {
      info = JSON.parse(await waitForLine(child, /^\{"pid"/, 120_000)) as { pid: number; mainPid: number; rt: string };
      const procs = [procOf(info.pid), procOf(info.mainPid)];
      assert.equal(watchers(info.pid).length, 1, "a watcher runs beside each manager");
      if (mode !== "throw") child.kill(mode);
      const r = await done;
      if (mode === "throw") assert.match(r.stderr, /abandoned on purpose/);
      else assert.equal(r.signal, mode, "the safety net must re-raise the signal after cleaning up");
      if (mode !== "SIGKILL") {
        // The in-process net ran synchronously before exit; the watcher may still be finishing.
        for (const h of cgroupHierarchies()) assert.equal(existsSync(join(h, `sdtest-${info.pid}`)), false);
        for (const p of procs) assert.equal(stillRunning(p), false, `pid ${p.pid} still running`);
      }
      await eventuallyGone(info, procs);
    } finally {
      child.kill("SIGKILL");
      if (info) await removeManagerCgroups(info.pid); // only matters if an assertion above failed
    }
  });
}
