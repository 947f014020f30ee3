// startWorkers(2) under sustained load: a primary holds the listener (never accepting), two
// workers accept on the same socket, and SIGUSR2 rolls them one at a time. N rolling
// replacements (SDKIT_PROCESS_ROLLS, default 10, i.e. 20 worker replacements) with zero failed
// requests; then a worker killed with SIGKILL is respawned in its slot, and stopping the primary
// stops every worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyReceiver, type ReceivedNotifyMessage } from "../../src/index.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { alive, assertNoFailures, loadSummary, startDaemon, startLoads, stopDaemon, waitGone, type Ev } from "../fixtures/process-harness.js";

const ROLLS = Number(process.env.SDKIT_PROCESS_ROLLS ?? 10);

test(`${ROLLS} rolling replacements of 2 workers under keep-alive and new-connection load: zero failures`, { timeout: 900_000 }, async () => {
  const checkFds = fdSnapshot();
  // A fake manager: workers must never notify in the service's name (a worker's STOPPING=1
  // under NotifyAccess=all would stop the service), the primary does.
  const rx = new NotifyReceiver().listen();
  const notes: { pid: number; text: string }[] = [];
  rx.on("message", (m: ReceivedNotifyMessage) => notes.push({ pid: m.pid, text: m.assignments.map(([k, v]) => `${k}=${v}`).join(" ") }));
  const daemon = startDaemon({ PROC_MODE: "primary", ...rx.env });
  const { events } = daemon;
  let primary: number | undefined;
  let workers: number[] = [];
  try {
    const first = await events.waitFor((e) => e.ev === "ready" && e.primary === true, 60_000, "primary ready");
    primary = first.pid;
    workers = first.workers as number[];
    assert.equal(workers.length, 2);
    const loads = await startLoads(first.port as number);
    await new Promise((r) => setTimeout(r, 500));

    const everyWorker = new Set(workers);
    for (let i = 1; i <= ROLLS; i++) {
      const seen = events.all.length;
      process.kill(primary, "SIGUSR2");
      const r = await events.waitFor((e: Ev) => events.all.indexOf(e) >= seen && e.pid === primary && (e.ev === "rolled" || e.ev === "replace-failed"), 120_000, `roll ${i}`);
      assert.equal(r.ev, "rolled", JSON.stringify(r));
      const next = r.workers as number[];
      assert.equal(next.length, 2);
      for (const old of workers) {
        assert.ok(!next.includes(old), `worker ${old} was replaced`);
        assert.equal(alive(old), false, `old worker ${old} has exited when the roll completes`);
      }
      workers = next;
      for (const w of workers) everyWorker.add(w);
    }
    await new Promise((r) => setTimeout(r, 300));
    const results = await loads.stop();
    console.log(`workers x${ROLLS} rolls: ${loadSummary(results)}`);
    assertNoFailures(results);
    const rc = results.close;
    assert.ok(!rc.pidList!.includes(primary), "the primary never accepts");
    assert.ok(rc.pidList!.every((p) => everyWorker.has(p)), "only workers answered");
    assert.ok(rc.pidList!.length >= everyWorker.size - 2, `most worker generations answered (${rc.pidList!.length} of ${everyWorker.size})`);
    assert.equal(events.all.filter((e) => e.ev === "worker-exit").length, 0, "no worker exited unexpectedly");

    // A crashed worker is respawned in its slot.
    const [victim, survivor] = workers as [number, number];
    const seen = events.all.length;
    process.kill(victim, "SIGKILL");
    const gone = await events.waitFor((e) => events.all.indexOf(e) >= seen && e.ev === "worker-exit", 30_000, "worker-exit");
    assert.equal(gone.worker, victim);
    assert.equal(gone.signal, "SIGKILL");
    const respawned = await events.waitFor((e) => events.all.indexOf(e) >= seen && e.ev === "ready" && e.slot === gone.slot, 60_000, "respawned worker");
    assert.notEqual(respawned.pid, victim);
    workers = [respawned.pid, survivor];

    // Stopping the primary stops the workers.
    process.kill(primary, "SIGTERM");
    await events.waitFor((e) => e.pid === primary && e.ev === "exit", 60_000, "primary exit");
    for (const w of [...workers, primary]) await waitGone(w, 30_000);
    assert.deepEqual(notes.filter((n) => n.pid !== primary), [], "no notification from any worker");
    assert.deepEqual(notes.map((n) => n.text), ["STOPPING=1"], "the primary's stop");
  } finally {
    rx.close();
    for (const w of workers) if (alive(w)) process.kill(w, "SIGKILL");
    await stopDaemon(daemon, primary);
  }
  checkFds();
});
