/**
 * One replacement session: start the competitor's server, put load on it from a separate
 * process, trigger `cycles` replacements (each waited for, then a pause), stop the load and
 * tear everything down. The same load, cycle count and pauses for every competitor.
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, startLoad, stopChild, type LoadKind, type LoadResult } from "./http-load.js";
import { alive, onLines, run, sleep, track } from "./proc.js";

export type Mechanism = "replace" | "reexec" | "pm2" | "naive";

export interface Session {
  load: LoadResult;
  /** Seconds since load start at which each cycle was triggered. */
  events: number[];
  /** How long each cycle took to complete (trigger → new server ready / CLI returned), ms. */
  cycleMs: number[];
}

/** Lines "ready pid=N" from the app and every successor sharing its stdout. */
class Readiness {
  private waiters: ((pid: number) => void)[] = [];
  constructor(child: ChildProcess) {
    onLines(child, (l) => {
      const m = /^ready pid=(\d+)/.exec(l);
      if (!m) return;
      const pid = Number(m[1]);
      track(pid);
      for (const w of this.waiters.splice(0)) w(pid);
    });
  }
  next(timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no new "ready" line within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((pid) => { clearTimeout(t); resolve(pid); });
    });
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < end) await sleep(20);
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

/** Driver for one mechanism: start, replace once, stop. */
interface Target { start(): Promise<void>; cycle(): Promise<void>; stop(): Promise<void> }

function sdkitTarget(benchDir: string, mode: "replace" | "reexec", port: number): Target {
  let first: ChildProcess | undefined;
  let ready: Readiness | undefined;
  let pid = 0;
  return {
    async start() {
      first = await startApp(benchDir, mode, port);
      pid = first.pid!;
      ready = new Readiness(first);
    },
    async cycle() {
      const next = ready!.next();
      process.kill(pid, "SIGHUP");
      pid = await next; // replace: the successor's pid; reexec: the same pid, new image
    },
    async stop() {
      try { process.kill(pid, "SIGTERM"); } catch { /* gone */ }
      await waitGone(pid, 15_000);
      if (first) await stopChild(first, 1000);
    },
  };
}

function naiveTarget(benchDir: string, port: number): Target {
  let app: ChildProcess | undefined;
  return {
    async start() { app = await startApp(benchDir, "naive", port); },
    async cycle() {
      await stopChild(app!, 10_000); // SIGTERM → server.close() → exit, awaited
      app = await startApp(benchDir, "naive", port);
    },
    async stop() { if (app) await stopChild(app); },
  };
}

function pm2Target(benchDir: string, port: number): Target {
  const home = mkdtempSync(join(tmpdir(), "sdkit-bench-pm2-"));
  const env = { ...process.env, PM2_HOME: home };
  const pm2 = (...args: string[]) => run(join(benchDir, "node_modules", ".bin", "pm2"), args, { env, timeoutMs: 60_000 });
  return {
    async start() {
      await pm2("start", join(benchDir, "fixtures", "http-app.mjs"), "-i", "2", "--name", "bench-app", "--", "pm2", String(port));
      try { track(Number(readFileSync(join(home, "pm2.pid"), "utf8"))); } catch { /* killed by pm2 kill below anyway */ }
      const list = JSON.parse((await pm2("jlist")).stdout) as { pid: number }[];
      for (const p of list) track(p.pid);
    },
    async cycle() { await pm2("reload", "bench-app"); },
    async stop() {
      try {
        for (const p of JSON.parse((await pm2("jlist")).stdout) as { pid: number }[]) track(p.pid);
        await pm2("kill");
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

export async function session(benchDir: string, mech: Mechanism, loadKind: LoadKind, port: number, cycles: number, gapMs: number): Promise<Session> {
  const target = mech === "pm2" ? pm2Target(benchDir, port) : mech === "naive" ? naiveTarget(benchDir, port) : sdkitTarget(benchDir, mech, port);
  await target.start();
  try {
    // The load runs until stopped; the bound is a safety net only.
    const load = await startLoad(benchDir, loadKind, port, 600);
    const at: bigint[] = [];
    const cycleMs: number[] = [];
    let result: LoadResult | undefined;
    try {
      await sleep(1000);
      for (let i = 0; i < cycles; i++) {
        const t = process.hrtime.bigint();
        at.push(t);
        await target.cycle();
        cycleMs.push(Number(process.hrtime.bigint() - t) / 1e6);
        await sleep(gapMs);
      }
      await sleep(1000);
    } finally {
      result = await load.stop();
    }
    // Seconds since the load generator started (both clocks are CLOCK_MONOTONIC).
    const start = BigInt(result.startNs);
    return { load: result, events: at.map((t) => Number(t - start) / 1e9), cycleMs };
  } finally {
    await target.stop();
  }
}
