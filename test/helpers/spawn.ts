/**
 * Starts real child processes for tests: a TypeScript fixture run with tsx, optionally with
 * fds placed at 3, 4, … and the activation variables set, LISTEN_PID being the child's own pid
 * (via the `sh -c 'LISTEN_PID=$$ exec …'` shim, since spawn fixes env before fork).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Absolute path of a fixture under test/fixtures. */
export const fixture = (name: string) => join(ROOT, "test", "fixtures", name);
/** node + tsx loader argv prefix for running a .ts file. */
export const TSX = [process.execPath, "--import", "tsx"];

export interface SpawnOptions {
  /** fds to place at 3, 4, … in the child. */
  fds?: number[];
  /** LISTEN_FDNAMES (joined with ':'); omitted → not set. */
  names?: string[];
  /** Set LISTEN_FDS/LISTEN_PID (default true when fds are given). */
  activation?: boolean;
  /** Extra environment (merged over process.env; undefined values delete). */
  env?: Record<string, string | undefined>;
  /** Override LISTEN_PID (e.g. "garbage"); default: the child's pid via the shim. */
  listenPid?: string;
}

/** Spawns `argv` (argv[0] = program) with the options; stdout/stderr piped. */
export function spawnWithFds(argv: string[], opts: SpawnOptions = {}): ChildProcess {
  const fds = opts.fds ?? [];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v;
  for (const k of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PIDFDID"]) if (!(opts.env && k in opts.env)) delete env[k];
  const activation = opts.activation ?? fds.length > 0;
  if (activation) {
    env.LISTEN_FDS = String(fds.length);
    if (opts.names) env.LISTEN_FDNAMES = opts.names.join(":");
  }
  const script = activation && opts.listenPid === undefined ? 'LISTEN_PID=$$ exec "$0" "$@"' : 'exec "$0" "$@"';
  if (activation && opts.listenPid !== undefined) env.LISTEN_PID = opts.listenPid;
  return spawn("/bin/sh", ["-c", script, ...argv], { env, stdio: ["ignore", "pipe", "pipe", ...fds] });
}

/** Runs to completion; resolves with exit code, stdout and stderr. */
export function run(child: ChildProcess, timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = "", stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    const t = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`child timed out after ${timeoutMs} ms; stderr: ${stderr}`)); }, timeoutMs);
    child.on("error", (e) => { clearTimeout(t); reject(e); });
    child.on("close", (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

/** Resolves with the first stdout line matching `re` (the child keeps running). */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "", err = "";
    const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stdout: ${buf} stderr: ${err}`)), timeoutMs);
    child.stderr?.on("data", (d) => (err += d));
    child.stdout?.on("data", (d) => {
      buf += d;
      for (const line of buf.split("\n")) if (re.test(line)) { clearTimeout(t); resolve(line); return; }
    });
    child.on("exit", (code) => { clearTimeout(t); reject(new Error(`child exited (${code}) before printing ${re}; stdout: ${buf} stderr: ${err}`)); });
  });
}
