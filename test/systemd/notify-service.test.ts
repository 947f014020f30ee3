// sdkit's notify API under a real systemd 252 user manager: Type=notify readiness with a status,
// barrier() answered by the manager, and reload via ExecReload + RELOADING=1/READY=1.
// (Type=notify-reload needs 254: notify-reload.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useUserManager } from "../harness/user-manager.js";
import { serviceLog, serviceUnit } from "../fixtures/notify-units.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const manager = useUserManager();
const it = (name: string, fn: () => Promise<void>) => test(name, { timeout: 120_000 }, () => assertNoFdLeak(fn));

it("Type=notify: ready(status) makes the unit active with that StatusText", async () => {
  const m = manager();
  await m.writeUnit("n-ready.service", serviceUnit(m, "n-ready", "ready"));
  const r = await m.systemctl("start", "n-ready.service");
  assert.equal(r.code, 0, r.stderr + JSON.stringify(serviceLog(m, "n-ready")));
  const p = await m.show("n-ready.service", ["ActiveState", "SubState", "StatusText", "MainPID"]);
  assert.deepEqual([p.ActiveState, p.SubState, p.StatusText], ["active", "running", `ready: pid ${p.MainPID}`]);
  const ready = serviceLog(m, "n-ready").find((l) => l.event === "ready")!;
  assert.equal((ready.env as { NOTIFY_SOCKET: string }).NOTIFY_SOCKET, join(m.rt, "systemd", "notify"));
  assert.equal((await m.systemctl("stop", "n-ready.service")).code, 0);
  const after = await m.show("n-ready.service", ["ActiveState", "Result"]);
  assert.deepEqual([after.ActiveState, after.Result], ["inactive", "success"], "stopping() then exit(0) on SIGTERM");
});

it("barrier() resolves against the real manager", async () => {
  const m = manager();
  await m.writeUnit("n-barrier.service", serviceUnit(m, "n-barrier", "barrier"));
  assert.equal((await m.systemctl("start", "n-barrier.service")).code, 0);
  await m.waitFor("n-barrier.service", "StatusText", "after barrier", 30_000);
  assert.deepEqual(serviceLog(m, "n-barrier").find((l) => l.event === "barrier"), { pid: serviceLog(m, "n-barrier")[0]!.pid, mode: "barrier", event: "barrier", ok: true });
  await m.systemctl("stop", "n-barrier.service");
});

it("ExecReload + RELOADING=1/READY=1 (252): systemctl reload completes and the unit stays active", async () => {
  const m = manager();
  await m.writeUnit("n-reload.service", serviceUnit(m, "n-reload", "reload", ["ExecReload=/bin/kill -HUP $MAINPID"]));
  assert.equal((await m.systemctl("start", "n-reload.service")).code, 0);
  const pid = (await m.show("n-reload.service", ["MainPID"])).MainPID;
  for (const n of [1, 2]) {
    const r = await m.systemctl("reload", "n-reload.service");
    assert.equal(r.code, 0, r.stderr);
    // 252 ends the reload job when ExecReload's kill exits; the service's RELOADING=1 then puts
    // the unit back into "reloading" until its READY=1 (254's Type=notify-reload waits for it).
    await m.waitFor("n-reload.service", "StatusText", `reloaded ${n}`, 30_000);
    const p = await m.waitFor("n-reload.service", "SubState", "running", 30_000);
    assert.deepEqual([p.ActiveState, (await m.show("n-reload.service", ["MainPID"])).MainPID], ["active", pid]);
  }
  assert.deepEqual(serviceLog(m, "n-reload").map((l) => l.event), ["ready", "reloading", "reloaded", "reloading", "reloaded"]);
  await m.systemctl("stop", "n-reload.service");
});
