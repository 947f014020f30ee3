/**
 * Running the HTTP app fixture and the load generators from the driver.
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { exited, start, waitForLine } from "./proc.js";
import { spawnActivated } from "./sockets.js";

export interface LoadResult {
  startNs: string;
  durationMs: number;
  ok: number;
  failed: number;
  byType: Record<string, number>;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  pids: number;
  bucketMs: number;
  /** [requests, failed, p99 ms, max ms] per bucket. */
  buckets: [number, number, number | null, number | null][];
  tool: string;
}

/** Starts http-app.mjs in `mode`; with `fd`, socket-activated (fd 3, named "web"). Resolves when it serves. */
export async function startApp(benchDir: string, mode: string, port: number, fd?: number, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const argv = [process.execPath, join(benchDir, "fixtures", "http-app.mjs"), mode, String(port)];
  const child = fd === undefined ? start(argv[0]!, argv.slice(1), { env }) : spawnActivated(argv, [fd], ["web"], env);
  await waitForLine(child, /^ready pid=\d+/, 30_000, `http-app ${mode}`);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited(child);
  clearTimeout(t);
}

export type LoadKind = "own" | "keepalive";

/** A running load generator; `stop()` ends it and returns its summary. */
export interface Load { child: ChildProcess; stop(): Promise<LoadResult> }

export async function startLoad(benchDir: string, kind: LoadKind, port: number, maxS: number, conc = 8): Promise<Load> {
  const file = kind === "own" ? "load-client.mjs" : "load-autocannon.mjs";
  const child = start(process.execPath, [join(benchDir, "fixtures", file), String(port), String(maxS), String(conc)]);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await waitForLine(child, /^started$/, 30_000, `load generator ${kind}`);
  return {
    child,
    async stop() {
      child.kill("SIGINT");
      await exited(child);
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line) throw new Error(`load generator ${kind} printed no summary`);
      return JSON.parse(line) as LoadResult;
    },
  };
}

export const hasWrk = (): boolean => ["/usr/bin/wrk", "/usr/local/bin/wrk"].some((p) => existsSync(p));

const toMs = (v: string, unit: string): number => Number(v) * ({ us: 1e-3, ms: 1, s: 1000, m: 60_000 }[unit] ?? Number.NaN);

/** Runs wrk (1 thread, keep-alive) and returns requests/s and the p99 latency in ms. */
export async function runWrk(port: number, seconds: number, conns = 16): Promise<{ rps: number; p99Ms: number; errors: number }> {
  const child = start("wrk", ["-t1", `-c${conns}`, `-d${seconds}s`, "--latency", `http://127.0.0.1:${port}/`]);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const { code } = await exited(child);
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const errLine = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = (errLine ? errLine.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + non2xx;
  if (!Number.isFinite(rps) || !p) throw new Error(`cannot parse wrk output: ${out}`);
  return { rps, p99Ms: toMs(p[1]!, p[2]!), errors };
}

/** The same through autocannon when wrk is missing (one Node process, keep-alive). */
export async function runAutocannon(root: string, port: number, seconds: number, conns = 16): Promise<{ rps: number; p99Ms: number; errors: number }> {
  const child = start(join(root, "node_modules", ".bin", "autocannon"), ["-j", "-c", String(conns), "-d", String(seconds), `http://127.0.0.1:${port}/`]);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await exited(child);
  const r = JSON.parse(out) as { requests: { average: number }; latency: { p99: number }; errors: number; non2xx: number };
  return { rps: r.requests.average, p99Ms: r.latency.p99, errors: r.errors + r.non2xx };
}
