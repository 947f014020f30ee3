// replaceProcess under sustained load: a real daemon (test/fixtures/process-server.ts) is
// replaced N times (SDKIT_PROCESS_CYCLES, default 50) while two load clients run in their own
// processes: autocannon and Node's Agent with keep-alive connections, and a client opening a new
// connection per request (with some 50 ms requests in flight at every handover). Zero failed requests and zero
// connection errors is the assertion. The daemon also holds a flock-owned Unix socket and an
// exported file fd ("FD-store" style); both must survive, and the final process must hold exactly
// the fds its first successor held (no growth).
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, openSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { native, K } from "../../src/native/binding.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { assertNoFailures, fdProfile, loadSummary, settledProfile, unixSocketReport, startDaemon, startLoads, stopDaemon, waitGone, type Ev } from "../fixtures/process-harness.js";

const CYCLES = Number(process.env.SDKIT_PROCESS_CYCLES ?? 50);

function getUnix(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: path, path: "/", agent: false }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve(b));
    }).on("error", reject);
  });
}

/** True when another open file description holds the flock on `path`. */
function lockHeld(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const c = K();
    const r = native().flock(fd, c.LOCK_EX! | c.LOCK_NB!);
    return r < 0;
  } finally {
    closeSync(fd);
  }
}

test(`${CYCLES} consecutive replaceProcess cycles under keep-alive and new-connection load: zero failures, no fd growth`, { timeout: 900_000 }, async () => {
  const checkFds = fdSnapshot();
  const dir = mkdtempSync(join(tmpdir(), "sdkit-replace-"));
  const unixPath = join(dir, "ctl.sock"), statePath = join(dir, "state");
  const daemon = startDaemon({ PROC_MODE: "replace", PROC_UNIX: unixPath, PROC_STATE: statePath });
  const { events } = daemon;
  let current: number | undefined;
  try {
    const first = await events.waitFor((e) => e.ev === "ready" && e.gen === 1, 30_000, "generation 1 ready");
    current = first.pid;
    const port = first.port as number;

    const loads = await startLoads(port);
    await new Promise((r) => setTimeout(r, 500));

    let profileGen2: string[] | undefined;
    for (let i = 1; i <= CYCLES; i++) {
      const old = current;
      process.kill(old, "SIGUSR2");
      const done = await events.waitFor((e) => e.pid === old && (e.ev === "replaced" || e.ev === "replace-failed"), 60_000, `cycle ${i} handover`);
      assert.equal(done.ev, "replaced", `cycle ${i}: ${JSON.stringify(done)}`);
      const next = done.child as number;
      await events.waitFor((e) => e.pid === old && e.ev === "exit", 30_000, `cycle ${i} old process exit`);
      await waitGone(old);
      current = next;
      if (i === 1) profileGen2 = fdProfile(next).fds;
    }
    await new Promise((r) => setTimeout(r, 300));
    const results = await loads.stop();
    const rss = events.all.filter((e: Ev) => e.ev === "ready").map((e) => Math.round(Number(e.rss) / 2 ** 20));
    // RSS per generation, for soak runs (SDKIT_PROCESS_CYCLES=1000): no assertion, a record.
    console.log(`replace x${CYCLES}: ${loadSummary(results)}; RSS MiB first/second/last ${rss[0]}/${rss[1]}/${rss.at(-1)}`);
    assertNoFailures(results);
    const rc = results.close;
    assert.ok((rc.pids ?? 0) >= CYCLES, `answers came from (nearly) every generation: ${rc.pids} pids for ${CYCLES + 1} generations`);

    // Every generation exported the same names; the final one still has the Unix socket, the
    // lock and the state file, and exactly the fds generation 2 had.
    const last = events.all.filter((e: Ev) => e.ev === "ready").at(-1)!;
    assert.equal(last.pid, current);
    assert.equal(last.gen, CYCLES + 1);
    assert.deepEqual((last.fds as { name: string }[]).map((f) => f.name).sort(), ["ctl", "state", "web"]);
    assert.equal(await getUnix(unixPath), String(current), "the Unix socket is served by the final process");
    assert.equal(lockHeld(`${unixPath}.lock`), true, "the flock travelled with the socket");
    // Quiet now: the clients have closed their connections (give the last FINs a moment).
    const final = await settledProfile(current, profileGen2!);
    assert.equal(final.other, 0, "no connection or unidentified socket is left open");
    assert.deepEqual(final.fds, profileGen2, `the final process holds exactly the fds of generation 2; its Unix sockets:\n${unixSocketReport(current)}`);
    const links = final.fds;
    assert.equal(links.filter((l) => l === `tcp-listen:${port}`).length, 2, "the TCP listener: the server's fd and the registry's dup");
    assert.equal(links.filter((l) => l === `unix-listen:${unixPath}`).length, 2, "the Unix listener: the server's fd and the registry's dup");
    assert.equal(links.filter((l) => l === `${unixPath}.lock`).length, 1, "one lock fd");
    assert.equal(links.filter((l) => l === statePath).length, 2, "the state file: the app's fd and the exported dup");
  } finally {
    await stopDaemon(daemon, current);
    rmSync(dir, { recursive: true, force: true });
  }
  checkFds();
});
