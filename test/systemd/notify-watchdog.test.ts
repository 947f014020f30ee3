// The watchdog under a real systemd 252 user manager (WatchdogSec=1): startWatchdog() keeps the
// service alive; a blocked event loop stops the pings and the manager kills it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useUserManager } from "../harness/user-manager.js";
import { serviceLog, serviceUnit } from "../fixtures/notify-units.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const manager = useUserManager();
const it = (name: string, fn: () => Promise<void>) => test(name, { timeout: 120_000 }, () => assertNoFdLeak(fn));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("WatchdogSec=1: with startWatchdog() the service stays up; with its loop blocked for 3 s it is killed and restarted", async () => {
  const m = manager();
  // Two units side by side: one restarts (NRestarts), one stays failed (Result=watchdog).
  await m.writeUnit("n-wd.service", serviceUnit(m, "n-wd", "watchdog", ["WatchdogSec=1", "Restart=on-failure", "RestartSec=100ms"]));
  await m.writeUnit("n-wd-once.service", serviceUnit(m, "n-wd-once", "watchdog", ["WatchdogSec=1", "Restart=no"]));
  for (const u of ["n-wd.service", "n-wd-once.service"]) assert.equal((await m.systemctl("start", u)).code, 0);
  const before = await m.show("n-wd.service", ["MainPID", "WatchdogUSec", "NRestarts"]);
  const onceBefore = await m.show("n-wd-once.service", ["MainPID"]);
  assert.equal(before.WatchdogUSec, "1s");
  const ready = serviceLog(m, "n-wd").find((l) => l.event === "ready")!;
  assert.deepEqual([(ready.watchdog as { enabled: boolean }).enabled, (ready.watchdog as { intervalMs: number }).intervalMs], [true, 1000]);

  await sleep(5000); // five watchdog periods
  for (const [u, pid] of [["n-wd.service", before.MainPID], ["n-wd-once.service", onceBefore.MainPID]] as const) {
    const p = await m.show(u, ["ActiveState", "SubState", "MainPID", "NRestarts", "Result"]);
    assert.deepEqual([p.ActiveState, p.SubState, p.MainPID, p.NRestarts, p.Result], ["active", "running", pid, "0", "success"], u);
  }

  process.kill(Number(before.MainPID), "SIGUSR2");
  process.kill(Number(onceBefore.MainPID), "SIGUSR2");
  const failed = await m.waitFor("n-wd-once.service", "ActiveState", "failed", 30_000);
  assert.equal(failed.Result, "watchdog");
  const restarted = await m.waitFor("n-wd.service", "NRestarts", "1", 30_000);
  await m.waitFor("n-wd.service", "ActiveState", "active", 30_000);
  const after = await m.show("n-wd.service", ["MainPID"]);
  assert.notEqual(after.MainPID, before.MainPID, JSON.stringify(restarted));
  assert.ok(serviceLog(m, "n-wd").some((l) => l.event === "blocking" && l.pid === Number(before.MainPID)));
  for (const u of ["n-wd.service", "n-wd-once.service"]) await m.systemctl("stop", u);
});
