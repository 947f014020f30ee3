// reexec() under sustained load: SIGHUP → onShutdown drains the servers → execve in place.
// The pid never changes; nobody accepts while the new image starts, but the listening socket
// stays open so connections queue in the backlog: zero refused, zero failed. N cycles
// (SDKIT_PROCESS_CYCLES, default 50); the final image holds exactly the fds the first re-exec'd
// image held. A second test makes execve fail after the fds were moved and checks that every
// fd and stdio flag is restored and the process keeps serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { alive, assertNoFailures, fdProfile, loadSummary, settledProfile, unixSocketReport, startDaemon, startLoads, stopDaemon, type Ev } from "../fixtures/process-harness.js";

const CYCLES = Number(process.env.SDKIT_PROCESS_CYCLES ?? 50);

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve(b));
    }).on("error", reject);
  });
}

test(`${CYCLES} consecutive reexec() cycles under keep-alive and new-connection load: same pid, zero failures, no fd growth`, { timeout: 900_000 }, async () => {
  const checkFds = fdSnapshot();
  const dir = mkdtempSync(join(tmpdir(), "sdkit-reexec-"));
  const statePath = join(dir, "state");
  const daemon = startDaemon({ PROC_MODE: "reexec", PROC_STATE: statePath });
  const { events } = daemon;
  let pid: number | undefined;
  try {
    const first = await events.waitFor((e) => e.ev === "ready" && e.gen === 1, 30_000, "generation 1 ready");
    pid = first.pid;
    const port = first.port as number;
    // Nobody accepts while the new image starts, so requests wait that long in the backlog: about
    // 0.1 s for compiled JS, 1-3 s with tsx on this shared 2-core box, and more than 10 s was seen
    // under a load average of 20. The clients allow 30 s: a request that is never answered still fails.
    const loads = await startLoads(port, 30_000);
    await new Promise((r) => setTimeout(r, 500));

    let profile2: string[] | undefined;
    for (let i = 1; i <= CYCLES; i++) {
      process.kill(pid, "SIGHUP");
      const r = await events.waitFor((e) => e.ev === "ready" && e.gen === i + 1, 60_000, `re-exec ${i}`);
      assert.equal(r.pid, pid, "the pid does not change");
      assert.deepEqual((r.fds as { name: string }[]).map((f) => f.name).sort(), ["state", "web"]);
      if (i === 1) profile2 = fdProfile(pid).fds;
      await new Promise((r) => setTimeout(r, 200)); // some steady-state traffic between gaps
    }
    assert.equal(events.all.filter((e: Ev) => e.ev === "replace-failed").length, 0, JSON.stringify(events.all.filter((e) => e.ev === "replace-failed")));
    await new Promise((r) => setTimeout(r, 300));
    const results = await loads.stop();
    const rss = events.all.filter((e: Ev) => e.ev === "ready").map((e) => Math.round(Number(e.rss) / 2 ** 20));
    // RSS per generation, for soak runs (SDKIT_PROCESS_CYCLES=1000): no assertion, a record.
    console.log(`reexec x${CYCLES}: ${loadSummary(results)}; RSS MiB first/second/last ${rss[0]}/${rss[1]}/${rss.at(-1)}`);
    assertNoFailures(results);
    assert.equal(results.close.pids, 1, "one pid served everything");

    const final = await settledProfile(pid, profile2!);
    assert.equal(final.other, 0, "no connection or unidentified socket is left open");
    assert.deepEqual(final.fds, profile2, `the final image holds exactly the fds of the first re-exec'd image; its Unix sockets:\n${unixSocketReport(pid)}`);
    assert.equal(final.fds.filter((l) => l === `tcp-listen:${port}`).length, 2, "the listener: the server's fd and the registry's dup");
    assert.equal(final.fds.filter((l) => l === statePath).length, 2, "the state file: the app's fd and the exported dup");
  } finally {
    await stopDaemon(daemon, pid);
    rmSync(dir, { recursive: true, force: true });
  }
  checkFds();
});

test("a failed execve restores every fd and stdio flag; the process keeps serving", { timeout: 120_000 }, async () => {
  const checkFds = fdSnapshot();
  const dir = mkdtempSync(join(tmpdir(), "sdkit-reexec-fail-"));
  const bad = join(dir, "not-a-program");
  writeFileSync(bad, "\x7fELF this is not an executable image\n");
  chmodSync(bad, 0o755);
  const daemon = startDaemon({ PROC_MODE: "reexec", PROC_BADEXEC: bad, PROC_STATE: join(dir, "state") });
  const { events } = daemon;
  let pid: number | undefined;
  try {
    const first = await events.waitFor((e) => e.ev === "ready", 30_000, "daemon ready");
    pid = first.pid;
    process.kill(pid, "SIGUSR1");
    const r = await events.waitFor((e) => e.ev === "reexec-failed", 30_000, "reexec failure");
    assert.equal(r.code, "ERR_SD_EXEC");
    assert.match(String(r.message), /execve .*not-a-program failed .*ENOEXEC.*every fd was restored/);
    const before = r.before as { fds: Record<string, string>; flags: number[][] };
    const after = r.after as { fds: Record<string, string>; flags: number[][] };
    assert.deepEqual(after.fds, before.fds, "the same fds, pointing to the same files");
    assert.deepEqual(after.flags, before.flags, "stdio FD_CLOEXEC and O_NONBLOCK as before");
    assert.equal(await get(first.port as number), String(pid), "still serving");
    assert.ok(alive(pid));
    // And a real re-exec still works afterwards.
    process.kill(pid, "SIGHUP");
    const again = await events.waitFor((e) => e.ev === "ready" && e.gen === 2, 60_000, "re-exec after the failure");
    assert.equal(again.pid, pid);
    assert.equal(await get(first.port as number), String(pid));
  } finally {
    await stopDaemon(daemon, pid);
    rmSync(dir, { recursive: true, force: true });
  }
  checkFds();
});
