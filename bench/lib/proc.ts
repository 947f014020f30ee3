/**
 * Child processes for the bench: every pid we start (or learn about, e.g. a successor that a
 * replaceProcess fixture spawned) is tracked, and {@link killAll} SIGKILLs the survivors —
 * called in every scenario's `finally` and once more on exit and on SIGINT/SIGTERM, so an
 * aborted run leaves no servers, load generators or daemons behind. Only tracked pids are
 * signalled, never processes found by name.
 * @module
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";

const tracked = new Set<number>();

/** Remembers `pid` for {@link killAll}. */
export function track(pid: number | undefined): void {
  if (pid !== undefined && pid > 0) tracked.add(pid);
}

/** Forgets `pid` (it exited and was reaped by us). */
export function untrack(pid: number | undefined): void {
  if (pid !== undefined) tracked.delete(pid);
}

/** True while `pid` exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs every tracked pid that is still alive. */
export function killAll(): void {
  for (const pid of tracked) {
    try {
      process.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  }
  tracked.clear();
}

let installed = false;
/** Installs the exit / signal safety net once. */
export function installSafetyNet(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

/** Spawns and tracks a child; its exit untracks it. */
export function start(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  track(child.pid);
  child.once("exit", () => untrack(child.pid));
  child.once("error", () => untrack(child.pid));
  return child;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const readers = new WeakMap<ChildProcess, EventEmitter>();
/** One line reader per child (several readline interfaces on one stream would each buffer). */
function lineEvents(child: ChildProcess): EventEmitter {
  let ee = readers.get(child);
  if (!ee) {
    if (!child.stdout) throw new Error("child has no stdout pipe");
    const e = new EventEmitter();
    createInterface({ input: child.stdout }).on("line", (l) => e.emit("line", l));
    readers.set(child, (ee = e));
  }
  return ee;
}

/** Calls `onLine` for every stdout line of `child`. */
export function onLines(child: ChildProcess, onLine: (line: string) => void): () => void {
  const ee = lineEvents(child);
  ee.on("line", onLine);
  return () => ee.removeListener("line", onLine);
}

/** Collects stderr (last 8 KiB) for error messages. */
const tails = new WeakMap<ChildProcess, () => string>();
export function stderrTail(child: ChildProcess): () => string {
  let get = tails.get(child);
  if (!get) {
    let buf = "";
    child.stderr?.on("data", (d: Buffer) => {
      buf = (buf + d.toString()).slice(-8192);
    });
    tails.set(child, (get = () => buf.trim()));
  }
  return get;
}

/** Resolves when `child` exits (immediately if it already has). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Runs a command to completion and returns its output; rejects on a non-zero exit. */
export async function run(cmd: string, args: readonly string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  const child = start(cmd, args, opts);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
  try {
    const { code, signal } = await exited(child);
    if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${code ?? signal}: ${stderr.trim() || stdout.trim()}`);
    return { stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the first stdout line matching `re`; rejects on timeout or early exit. */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs = 30_000, what = "child"): Promise<string> {
  return new Promise((resolve, reject) => {
    const err = stderrTail(child);
    const done = (f: () => void) => {
      clearTimeout(t);
      off();
      child.removeListener("exit", exit);
      f();
    };
    const line = (l: string) => {
      if (re.test(l)) done(() => resolve(l));
    };
    const exit = (code: number | null) => done(() => reject(new Error(`${what} exited (${code}) before printing ${re}: ${err()}`)));
    const t = setTimeout(() => done(() => reject(new Error(`${what}: no line matching ${re} within ${timeoutMs} ms: ${err()}`))), timeoutMs);
    const off = onLines(child, line);
    child.once("exit", exit);
  });
}
