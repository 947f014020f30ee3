// Rollback under load: each faulty successor must leave the old process serving with zero failed
// requests, be gone by the time replaceProcess rejects, and produce an error that says what
// happened. Faults are injected into one successor at a time through the daemon's PROC_CTL file.
// Ends with a good replacement, to show the daemon is still able to hand over.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { fixture } from "../helpers/spawn.js";
import { alive, assertNoFailures, loadSummary, startDaemon, startLoads, stopDaemon, waitGone, type Ev } from "../fixtures/process-harness.js";

interface Scenario {
  name: string;
  ctl: Record<string, unknown>;
  code: string;
  reason: string;
  message: RegExp;
  exitCode?: number | null;
  signal?: string | null;
  /** The event the successor logs once it is up; if it never did, it died of SIGTERM instead. */
  upEvent?: string;
}

const SCENARIOS: Scenario[] = [
  { name: "successor exits with an error", ctl: { env: { PROC_FAULT: "exit" } }, code: "ERR_SD_REPLACE_FAILED", reason: "exit", exitCode: 3, message: /exited with status 3 before it signaled readiness/ },
  { name: "successor crashes after taking the fds", ctl: { env: { PROC_FAULT: "crash-after-fds" } }, code: "ERR_SD_REPLACE_FAILED", reason: "exit", signal: "SIGABRT", message: /was killed by SIGABRT/ },
  // The timeouts leave room for a loaded machine's start-up time (several seconds with tsx), so
  // the successor is really up (serving, or stuck) when it is stopped: the never-ready one then
  // drains on SIGTERM and exits 0; the deaf one needs SIGKILL.
  // (If it was still starting, SIGTERM's default action ends it: `whenNotUp` applies.)
  { name: "successor never signals ready", ctl: { env: { PROC_FAULT: "never-ready" }, timeoutMs: 10_000 }, code: "ERR_SD_REPLACE_TIMEOUT", reason: "timeout", signal: null, exitCode: 0, upEvent: "ready", message: /did not signal readiness within 10000 ms/ },
  { name: "successor hangs and ignores SIGTERM", ctl: { env: { PROC_FAULT: "hang" }, timeoutMs: 10_000, killGraceMs: 500 }, code: "ERR_SD_REPLACE_TIMEOUT", reason: "timeout", signal: "SIGKILL", upEvent: "hanging", message: /SIGKILL after 500 ms/ },
  { name: "successor closes the readiness pipe", ctl: { env: { PROC_FAULT: "close-pipe" } }, code: "ERR_SD_REPLACE_FAILED", reason: "closed", message: /closed the readiness pipe without signaling/ },
  { name: "broken argv: program not found", ctl: { argv: ["/nonexistent/node", fixture("process-server.ts")] }, code: "ERR_SD_REPLACE_FAILED", reason: "exec", exitCode: 127, message: /program was not found \(exit status 127/ },
  { name: "broken argv: script not found", ctl: { argv: [process.execPath, "/nonexistent/server.js"] }, code: "ERR_SD_REPLACE_FAILED", reason: "exit", exitCode: 1, message: /exited with status 1 before it signaled readiness/ },
];

test("every rollback scenario leaves the old process serving with zero failed requests", { timeout: 600_000 }, async (t) => {
  const checkFds = fdSnapshot();
  const dir = mkdtempSync(join(tmpdir(), "sdkit-rollback-"));
  const ctlPath = join(dir, "ctl.json");
  const daemon = startDaemon({ PROC_MODE: "replace", PROC_CTL: ctlPath });
  const { events } = daemon;
  let current: number | undefined;
  try {
    const first = await events.waitFor((e) => e.ev === "ready", 30_000, "daemon ready");
    current = first.pid;
    const loads = await startLoads(first.port as number);
    await new Promise((r) => setTimeout(r, 300));

    let seen = events.all.length;
    for (const s of SCENARIOS) {
      await t.test(s.name, async () => {
        writeFileSync(ctlPath, JSON.stringify(s.ctl));
        process.kill(current!, "SIGUSR2");
        const r = await events.waitFor((e) => events.all.indexOf(e) >= seen && e.pid === current && (e.ev === "replace-failed" || e.ev === "replaced"), 60_000, `${s.name}: outcome`);
        seen = events.all.length;
        assert.equal(r.ev, "replace-failed", `expected a rollback, got ${JSON.stringify(r)}`);
        assert.equal(r.code, s.code, String(r.message));
        assert.equal(r.reason, s.reason, String(r.message));
        assert.match(String(r.message), s.message);
        const up = s.upEvent === undefined || events.all.some((e) => e.ev === s.upEvent && e.pid === r.child);
        if (!up) {
          t.diagnostic(`${s.name}: the successor was still starting when the timeout stopped it`);
          assert.equal(r.signal, "SIGTERM", String(r.message));
        } else {
          if (s.exitCode !== undefined) assert.equal(r.exitCode, s.exitCode, String(r.message));
          if (s.signal !== undefined) assert.equal(r.signal, s.signal, String(r.message));
        }
        assert.match(String(r.message), /keeps serving/);
        assert.ok(alive(current!), "the old process is still running");
        if (r.child !== null) assert.equal(alive(r.child as number), false, "the failed successor is gone when the promise rejects");
      });
    }

    await t.test("then a good replacement still hands over", async () => {
      writeFileSync(ctlPath, "{}");
      const old = current!;
      process.kill(old, "SIGUSR2");
      const r = await events.waitFor((e: Ev) => events.all.indexOf(e) >= seen && e.pid === old && (e.ev === "replaced" || e.ev === "replace-failed"), 60_000, "good replacement");
      assert.equal(r.ev, "replaced", JSON.stringify(r));
      await waitGone(old);
      current = r.child as number;
    });

    const results = await loads.stop();
    console.log(`rollbacks: ${loadSummary(results)}`);
    assertNoFailures(results);
  } finally {
    await stopDaemon(daemon, current);
    rmSync(dir, { recursive: true, force: true });
  }
  checkFds();
});
