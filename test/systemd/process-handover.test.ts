// Process replacement under a real systemd 252 user manager, Type=notify with the default
// NotifyAccess=main (written out explicitly) and the default KillMode=control-group. Under
// load from this process: replaceProcess cycles (the old main sends MAINPID=<successor> and
// waits on a barrier before exiting), `systemctl reload` → SIGHUP → replaceProcess as a reload
// (RELOADING=1 … READY=1), a rollback, and a final `systemctl stop` (drain, Result=success);
// then reexec cycles (MainPID never changes). The unit must stay active/running with
// zero failed requests throughout, and MainPID must follow the new process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { useUserManager, type UserManager } from "../harness/user-manager.js";
import { ROOT, fixture } from "../helpers/spawn.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { alive, assertNoFailures, loadSummary, startLoads, tailLog, waitGone, type Ev } from "../fixtures/process-harness.js";

const manager = useUserManager();
const CYCLES = Number(process.env.SDKIT_PROCESS_SD_CYCLES ?? 20);

/** The unit settings sdkit's replacement needs (documented in src/process.ts). */
function unit(m: UserManager, name: string, env: Record<string, string>): string {
  return [
    "[Unit]", "StartLimitIntervalSec=0",
    "[Service]",
    "Type=notify",
    "NotifyAccess=main", // the default for Type=notify: only the main pid may notify; the old main hands over with MAINPID=
    "KillMode=control-group", // the default: the old main exits by itself; stop still reaches every process
    "ExecReload=/bin/kill -HUP $MAINPID",
    // After a handover the main process is one the manager did not fork ("Supervising process …
    // which is not our child"). With cgroup v1/hybrid inside a container (this test machine),
    // systemd 252 cannot watch the cgroup and does not wait for such a main process on stop: it
    // SIGKILLs it right after SIGTERM. Stopping it from ExecStop= and waiting restores a graceful
    // stop; on the unified hierarchy (cgroup v2) the line is harmless.
    "ExecStop=/bin/sh -c 'kill -TERM $$MAINPID && while kill -0 $$MAINPID 2>/dev/null; do sleep 0.1; done'",
    "TimeoutStopSec=30", // longer than the drain grace period
    `WorkingDirectory=${ROOT}`,
    ...Object.entries(env).map(([k, v]) => `Environment=${k}=${v}`),
    `ExecStart=${process.execPath} --import tsx ${fixture("process-server.ts")}`,
    `StandardOutput=append:${join(m.rt, `${name}.log`)}`, `StandardError=append:${join(m.rt, `${name}.log`)}`,
    "TimeoutStartSec=60", "LimitCORE=0",
    "",
  ].join("\n");
}

async function state(m: UserManager, svc: string): Promise<{ active: string; sub: string; pid: number; restarts: string; invocation: string }> {
  const p = await m.show(svc, ["ActiveState", "SubState", "MainPID", "NRestarts", "InvocationID"]);
  return { active: p.ActiveState!, sub: p.SubState!, pid: Number(p.MainPID), restarts: p.NRestarts!, invocation: p.InvocationID! };
}

async function activeRunning(m: UserManager, svc: string, what: string): Promise<number> {
  const s = await state(m, svc);
  assert.deepEqual([s.active, s.sub], ["active", "running"], `${what}: ${JSON.stringify(s)}`);
  return s.pid;
}

test(`Type=notify, NotifyAccess=main: ${CYCLES} replaceProcess cycles, reloads, a rollback and stop under load`, { timeout: 900_000 }, async (t) => {
  const m = manager();
  const checkFds = fdSnapshot();
  const svc = "p-handover.service";
  const ctlPath = join(m.rt, "ctl.json");
  writeFileSync(ctlPath, "{}");
  await m.writeUnit(svc, unit(m, "p-handover", { PROC_MODE: "replace", PROC_HUP: "1", PROC_CTL: ctlPath }));
  const log = tailLog(join(m.rt, "p-handover.log"));
  const { events } = log;
  const pids: number[] = [];
  try {
    const r = await m.systemctl("start", svc);
    assert.equal(r.code, 0, r.stderr + events.stderr);
    const first = await events.waitFor((e) => e.ev === "ready", 60_000, "first generation ready");
    const s0 = await state(m, svc);
    assert.equal(s0.pid, first.pid, "MainPID is the first generation");
    pids.push(s0.pid);
    const loads = await startLoads(first.port as number);

    await t.test(`${CYCLES} replaceProcess cycles: MainPID follows the successor, the unit stays active`, async () => {
      for (let i = 1; i <= CYCLES; i++) {
        const old = pids.at(-1)!;
        process.kill(old, "SIGUSR2");
        const done = await events.waitFor((e) => e.pid === old && (e.ev === "replaced" || e.ev === "replace-failed"), 60_000, `cycle ${i}`);
        assert.equal(done.ev, "replaced", JSON.stringify(done));
        const child = done.child as number;
        // replaceProcess resolved only after MAINPID= and the barrier: the manager has switched.
        assert.equal(await activeRunning(m, svc, `cycle ${i}, right after the handover`), child);
        await waitGone(old);
        assert.equal(await activeRunning(m, svc, `cycle ${i}, after the old main exited`), child);
        pids.push(child);
      }
    });

    await t.test("systemctl reload → SIGHUP → replaceProcess as a reload (RELOADING=1 … READY=1, MAINPID=)", async () => {
      for (let i = 1; i <= 3; i++) {
        const old = pids.at(-1)!;
        const rr = await m.systemctl("reload", svc);
        assert.equal(rr.code, 0, rr.stderr);
        const p = await m.waitFor(svc, "MainPID", new RegExp(`^(?!${old}$)\\d+$`), 60_000);
        const child = Number(p.MainPID);
        await m.waitFor(svc, "SubState", "running", 30_000);
        await waitGone(old);
        assert.equal(await activeRunning(m, svc, `reload ${i}`), child);
        pids.push(child);
      }
    });

    await t.test("a successor that fails rolls back: MainPID and the unit are unchanged", async () => {
      const old = pids.at(-1)!;
      writeFileSync(ctlPath, JSON.stringify({ env: { PROC_FAULT: "exit" } }));
      const seen = events.all.length;
      process.kill(old, "SIGUSR2");
      const f = await events.waitFor((e: Ev) => events.all.indexOf(e) >= seen && e.pid === old && (e.ev === "replace-failed" || e.ev === "replaced"), 60_000, "rollback");
      writeFileSync(ctlPath, "{}");
      assert.equal(f.ev, "replace-failed");
      assert.equal(f.reason, "exit");
      assert.equal(await activeRunning(m, svc, "after the rollback"), old);
      assert.ok(alive(old));
    });

    const results = await loads.stop();
    console.log(`systemd handover (${CYCLES} cycles + 3 reloads + 1 rollback): ${loadSummary(results)}`);
    assertNoFailures(results);
    const s1 = await state(m, svc);
    assert.equal(s1.restarts, "0", "never restarted by the manager");
    assert.equal(s1.invocation, s0.invocation, "one and the same invocation throughout");

    await t.test("systemctl stop after the handovers: drain, exit 0 → inactive, Result=success", async () => {
      const last = pids.at(-1)!;
      assert.equal((await m.systemctl("stop", svc)).code, 0);
      const p = await m.show(svc, ["ActiveState", "Result"]);
      assert.deepEqual([p.ActiveState, p.Result], ["inactive", "success"]);
      const exit = await events.waitFor((e) => e.pid === last && e.ev === "exit", 10_000, "last exit");
      assert.equal(exit.replaced, false);
    });
  } finally {
    await m.systemctl("stop", svc);
    log.stop();
  }
  checkFds();
});

test("Type=notify: reexec cycles keep MainPID; the unit stays active with zero failed requests", { timeout: 600_000 }, async () => {
  const m = manager();
  const checkFds = fdSnapshot();
  const svc = "p-reexec.service";
  await m.writeUnit(svc, unit(m, "p-reexec", { PROC_MODE: "reexec" }));
  const log = tailLog(join(m.rt, "p-reexec.log"));
  const { events } = log;
  try {
    assert.equal((await m.systemctl("start", svc)).code, 0, events.stderr);
    const first = await events.waitFor((e) => e.ev === "ready", 60_000, "first image ready");
    const pid = await activeRunning(m, svc, "started");
    assert.equal(pid, first.pid);
    const loads = await startLoads(first.port as number, 30_000); // the start-up gap: see process-reexec.test.ts
    const n = Math.max(3, Math.round(CYCLES / 2));
    for (let i = 1; i <= n; i++) {
      assert.equal((await m.systemctl("reload", svc)).code, 0);
      const r = await events.waitFor((e) => e.ev === "ready" && e.gen === i + 1, 60_000, `re-exec ${i}`);
      assert.equal(r.pid, pid);
      assert.equal(await activeRunning(m, svc, `re-exec ${i}`), pid, "MainPID never changes");
    }
    const results = await loads.stop();
    console.log(`systemd reexec x${n}: ${loadSummary(results)}`);
    assertNoFailures(results);
    assert.equal((await state(m, svc)).restarts, "0");
  } finally {
    await m.systemctl("stop", svc);
    log.stop();
  }
  checkFds();
});
