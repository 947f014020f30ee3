// onShutdown's notifications, seen by a fake service manager (NotifyReceiver) in this process:
// the first process sends READY=1; a replacement sends MAINPID=<successor> + BARRIER=1 and the
// replaced process exits WITHOUT STOPPING=1 (the service is not stopping); a successor that was
// never ready and is stopped by the timeout sends nothing; a real stop sends STOPPING=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotifyReceiver, type ReceivedNotifyMessage } from "../../src/index.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { startDaemon, stopDaemon, waitGone } from "../fixtures/process-harness.js";

test("STOPPING=1 only for a real stop: not from a replaced process, not from a successor that never got ready", { timeout: 180_000 }, async () => {
  const checkFds = fdSnapshot();
  const rx = new NotifyReceiver().listen();
  const got: { pid: number; text: string }[] = [];
  rx.on("message", (m: ReceivedNotifyMessage) => got.push({ pid: m.pid, text: m.assignments.map(([k, v]) => `${k}=${v}`).join(" ") }));
  const dir = mkdtempSync(join(tmpdir(), "sdkit-shutdown-"));
  const ctl = join(dir, "ctl.json");
  const daemon = startDaemon({ PROC_MODE: "replace", PROC_CTL: ctl, ...rx.env });
  const { events } = daemon;
  let current: number | undefined;
  try {
    const first = await events.waitFor((e) => e.ev === "ready", 60_000, "first ready");
    current = first.pid;
    await rx.next((m) => m.pid === first.pid && m.fields.READY === "1");

    // A successor that never signals: stopped by the timeout, it must not send STOPPING=1.
    writeFileSync(ctl, JSON.stringify({ env: { PROC_FAULT: "never-ready" }, timeoutMs: 20_000 }));
    process.kill(first.pid, "SIGUSR2");
    const failed = await events.waitFor((e) => e.ev === "replace-failed", 90_000, "timeout rollback");
    assert.equal(failed.reason, "timeout");
    const neverReady = failed.child as number;
    assert.ok(neverReady > 0);

    // A good replacement: MAINPID= then BARRIER=1 from the old main, no STOPPING=1 from it.
    writeFileSync(ctl, "{}");
    process.kill(first.pid, "SIGUSR2");
    const done = await events.waitFor((e) => e.ev === "replaced", 60_000, "replacement");
    const second = done.child as number;
    await events.waitFor((e) => e.pid === first.pid && e.ev === "exit", 30_000, "old main exit");
    await waitGone(first.pid);
    current = second;

    // A real stop of the new main: STOPPING=1 from it.
    process.kill(second, "SIGTERM");
    await events.waitFor((e) => e.pid === second && e.ev === "exit", 30_000, "stop");
    await waitGone(second);
    current = undefined;

    const texts = (pid: number) => got.filter((m) => m.pid === pid).map((m) => m.text.replace(/^STATUS=.*$/, "STATUS"));
    assert.deepEqual(texts(first.pid), ["READY=1 STATUS=serving, generation 1", `MAINPID=${second}`, "BARRIER=1"]);
    assert.deepEqual(texts(neverReady), [], "a successor that never became ready says nothing");
    assert.deepEqual(texts(second), ["STOPPING=1"]);
  } finally {
    await stopDaemon(daemon, current);
    rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
  checkFds();
});
