// The "flock" unlink policy between real processes: of 10 racing for one socket path exactly
// one owns it, nobody steals a live socket, a crashed owner's stale socket is taken over, and
// the lock travels with the socket to a replacement process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { connectUnix, jsonLines, roundTrip, scenario, tempDir } from "../fixtures/listen-util.js";
import { TSX, fixture, spawnWithFds } from "../helpers/spawn.js";

interface Line { pid: number; i?: number; ok?: boolean; code?: string; fileIno?: number; ready?: boolean; replaced?: number; active?: { name: string }[] }

/** Starts a daemon and collects its (and its successors') JSON lines. */
function daemon(plan: string) {
  const child = spawnWithFds([...TSX, fixture("listen-daemon.ts"), plan]);
  const { next } = jsonLines<Line>(child, 90_000);
  return { child, next, result: (pid = child.pid!) => next((l) => l.pid === pid && l.i === 0, `the result of ${pid}`) };
}
type Daemon = ReturnType<typeof daemon>;

async function stop(p: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = once(p, "exit");
  p.kill(signal);
  await exited;
}

async function gone(pid: number): Promise<void> {
  for (;;) {
    try { process.kill(pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `n` daemons at once; returns the single winner and stops the losers. */
async function race(plan: string, n: number): Promise<{ winner: Daemon; line: Line }> {
  const all = Array.from({ length: n }, () => daemon(plan));
  const results = await Promise.all(all.map((d) => d.result()));
  const winners = results.filter((r) => r.ok);
  const codes = results.filter((r) => !r.ok).map((r) => r.code);
  assert.equal(winners.length, 1, `exactly one of ${n} owns the path: ${JSON.stringify(results)}`);
  assert.deepEqual(codes, Array(n - 1).fill("ERR_SD_LOCKED"), "the others see a live owner, not an unlinkable file");
  const winner = all[results.indexOf(winners[0]!)]!;
  await Promise.all(all.filter((d) => d !== winner).map((d) => stop(d.child)));
  return { winner, line: winners[0]! };
}

test("flock: 10 racing processes, one owner; no theft; crash recovery; the lock moves with the socket", scenario(async () => {
  const t = tempDir("race");
  const path = join(t.dir, "app.sock");
  const plan = JSON.stringify({ policy: "flock", listeners: [{ fn: "listenUnix", opts: { path } }] });
  const running: Daemon[] = [];
  let successorPid = 0;
  try {
    // Round 1: nothing there yet.
    const r1 = await race(plan, 10);
    running.push(r1.winner);
    assert.equal(lstatSync(path).ino, r1.line.fileIno, "the owner's socket file was never replaced");
    const c1 = await connectUnix(path);
    assert.equal(await roundTrip(c1, "one"), "one");
    c1.destroy();

    // The owner crashes: its lock dies with it; the stale socket file is taken over by exactly one.
    await stop(r1.winner.child, "SIGKILL");
    const r2 = await race(plan, 5);
    running.push(r2.winner);
    assert.equal(lstatSync(path).ino, r2.line.fileIno);

    // Replacement: the successor inherits the socket and the lock fd.
    r2.winner.child.kill("SIGUSR2");
    successorPid = (await r2.winner.next((l) => l.replaced !== undefined, "the replacement")).replaced!;
    const s = await r2.winner.result(successorPid);
    assert.equal(s.ok, true, JSON.stringify(s));
    assert.equal(s.fileIno, r2.line.fileIno, "the successor serves the same socket file");
    const ready = await r2.winner.next((l) => l.pid === successorPid && l.ready === true, "successor ready");
    assert.deepEqual(ready.active!.map((a) => a.name), ["unix", "sdkit-lock"]);
    await stop(r2.winner.child);

    // The predecessor is gone; the lock is still held (by the successor).
    const contender = daemon(plan);
    running.push(contender);
    assert.equal((await contender.result()).code, "ERR_SD_LOCKED");
    await stop(contender.child);
    const c2 = await connectUnix(path);
    assert.equal(await roundTrip(c2, "two"), "two");
    c2.destroy();
    assert.equal(lstatSync(path).ino, r2.line.fileIno);

    // Once the successor exits, the path is free for the next owner.
    process.kill(successorPid, "SIGTERM");
    await gone(successorPid);
    successorPid = 0;
    const next = daemon(plan);
    running.push(next);
    assert.equal((await next.result()).ok, true);
    await stop(next.child);
  } finally {
    for (const d of running) await stop(d.child);
    if (successorPid) { process.kill(successorPid, "SIGKILL"); await gone(successorPid); }
    t.done();
  }
}));
