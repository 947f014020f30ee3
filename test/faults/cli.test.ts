// Fault scenarios: the sdkit command line. `sdkit run` must not let a process it did not start
// speak for the service (forged READY=1/STATUS=), unless --notify-access all says so; a notify
// socket path or listen address that is taken fails cleanly, touching nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { ROOT } from "../helpers/spawn.js";
import { TSX_ABS, collect, tempDir } from "./lib.js";

const MAIN = join(ROOT, "src", "cli", "main.ts");
interface Ev { event: string; state?: string; mainPid?: number | null; statusText?: string | null; sender?: number; pid?: number; [k: string]: unknown }

/** `sdkit run --json …` with its events (stderr JSON lines). */
function sdkitRun(args: string[]): { child: ChildProcess; events: Ev[]; wait(pred: (e: Ev) => boolean, what: string): Promise<Ev>; stop(): Promise<void> } {
  const child = spawn(TSX_ABS[0]!, [...TSX_ABS.slice(1), MAIN, "run", "--json", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const events: Ev[] = [];
  let buf = "", err = "";
  child.stderr!.on("data", (d) => {
    buf += d;
    for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) {
      const line = buf.slice(0, i);
      if (line.startsWith("{")) events.push(JSON.parse(line) as Ev); else err += line + "\n";
    }
  });
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  return {
    child, events,
    async wait(pred, what) {
      for (let i = 0; i < 1200; i++) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${what}; events: ${JSON.stringify(events)}; stderr: ${err}`);
    },
    async stop() { if (child.exitCode === null) child.kill("SIGTERM"); await closed; },
  };
}

let seq = 0;
const socketName = () => `@sdf-cli-${process.pid}-${++seq}`;

test("sdkit run ignores READY=1/STATUS= from a process it did not start; the service's own READY=1 counts", async () => {
  const path = socketName();
  const run = sdkitRun(["--notify-socket", path, "--", "/bin/sleep", "600"]);
  try {
    const started = await run.wait((e) => e.event === "start", "start");
    const env = objectEnv({ NOTIFY_SOCKET: path });
    await sd.notify({ READY: 1, STATUS: "forged" }, { env });
    const ignored = await run.wait((e) => e.event === "ignored", "ignored");
    assert.equal(ignored.sender, process.pid);
    assert.equal(run.events.some((e) => e.event === "ready" || e.statusText === "forged"), false, "a foreign READY=1/STATUS= was accepted");
    // The same message with the service's credentials (root may send on behalf of a pid).
    await sd.notify({ READY: 1, STATUS: "up" }, { env, pid: started.pid! });
    const ready = await run.wait((e) => e.event === "ready", "ready");
    assert.equal(ready.state, "running");
    assert.equal(ready.statusText, "up");
  } finally { await run.stop(); }
});

test("sdkit run --notify-access all accepts another process's READY=1 (the documented opt-in)", async () => {
  const path = socketName();
  const run = sdkitRun(["--notify-socket", path, "--notify-access", "all", "--", "/bin/sleep", "600"]);
  try {
    await run.wait((e) => e.event === "start", "start");
    await sd.notify({ READY: 1 }, { env: objectEnv({ NOTIFY_SOCKET: path }) });
    assert.equal((await run.wait((e) => e.event === "ready", "ready")).state, "running");
  } finally { await run.stop(); }
});

test("sdkit run with a regular file at --notify-socket fails with a message and leaves the file alone", async () => {
  const t = tempDir("cli");
  try {
    const path = join(t.dir, "notify");
    writeFileSync(path, "keep me");
    const marker = join(t.dir, "started");
    const child = spawn(TSX_ABS[0]!, [...TSX_ABS.slice(1), MAIN, "run", "--notify-socket", path, "--", "/bin/sh", "-c", `touch ${marker}; sleep 600`], { stdio: ["ignore", "pipe", "pipe"] });
    const r = await collect(child, 60_000);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not a socket|refus/i);
    assert.equal(readFileSync(path, "utf8"), "keep me");
    assert.equal(existsSync(marker), false, "the service was started anyway");
  } finally { t.done(); }
});

test("sdkit activate on a listen address another process holds exits 1 naming it, without starting the program", async () => {
  const t = tempDir("cli");
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
  try {
    const port = (holder.address() as net.AddressInfo).port;
    const marker = join(t.dir, "started");
    const child = spawn(TSX_ABS[0]!, [...TSX_ABS.slice(1), MAIN, "activate", "-l", `127.0.0.1:${port}`, "/bin/sh", "-c", `touch ${marker}`], { stdio: ["ignore", "pipe", "pipe"] });
    const r = await collect(child, 60_000);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`127.0.0.1:${port}`), r.stderr);
    assert.equal(existsSync(marker), false, "the program ran without its socket");
  } finally { holder.close(); t.done(); }
});
