// Shared helpers of the fault scenarios (not a test file): run test/fixtures/fault-probe.ts with
// fds at 3.. and an environment, temp dirs with short paths, sockets from other processes.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after } from "node:test";
import { K, native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { fixture } from "../helpers/spawn.js";

/** node + the tsx loader by absolute URL, so a child started in another cwd still finds it. */
export const TSX_ABS = [process.execPath, "--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href];

// A failed assertion can leave a socket or server open, which would keep the test process alive
// until the runner's timeout; once every test of the file has finished, exit shortly after.
after(() => { setTimeout(() => process.exit(), 3000).unref(); });

export type Step = [string, ...unknown[]];
export interface StepResult { ok?: unknown; error?: { name: string; code: string | null; sysCode: string | null; message: string } }
export interface ProbeOut { pid: number; results: StepResult[] }

export interface ProbeOptions {
  /** fds placed at 3, 4, … */
  fds?: number[];
  /** LISTEN_FDNAMES (joined with ':'); undefined: not set. */
  names?: string[];
  /** LISTEN_FDS text; default: the number of fds (when fds are given). */
  listenFds?: string;
  /** LISTEN_PID text; default: the child's own pid (shim) when fds are given. */
  listenPid?: string;
  /** Extra environment (undefined deletes). */
  env?: Record<string, string | undefined>;
  /** `ulimit -n` for the child. */
  nofile?: number;
  /** `umask` for the child (octal text, e.g. "000"). */
  umask?: string;
  cwd?: string;
}

const SCRUB = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PIDFDID", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "SDKIT_READY_FD", "SDKIT_PARENT_PID"];

/** Starts fault-probe.ts with `steps`; stdin is a pipe (for "wait" steps). */
export function startProbe(steps: Step[], opts: ProbeOptions = {}): ChildProcess {
  const fds = opts.fds ?? [];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUB.includes(k)) env[k] = v;
  for (const [k, v] of Object.entries(opts.env ?? {})) { if (v === undefined) delete env[k]; else env[k] = v; }
  const activation = fds.length > 0 || opts.listenFds !== undefined;
  if (activation) env.LISTEN_FDS = opts.listenFds ?? String(fds.length);
  if (opts.names) env.LISTEN_FDNAMES = opts.names.join(":");
  if (opts.listenPid !== undefined) env.LISTEN_PID = opts.listenPid;
  const pidPart = activation && opts.listenPid === undefined ? "LISTEN_PID=$$ " : "";
  const ulimit = (opts.nofile !== undefined ? `ulimit -n ${opts.nofile} && ` : "") + (opts.umask !== undefined ? `umask ${opts.umask} && ` : "");
  const argv = [...TSX_ABS, fixture("fault-probe.ts"), JSON.stringify(steps)];
  return spawn("/bin/sh", ["-c", `${ulimit}${pidPart}exec "$0" "$@"`, ...argv], {
    env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe", ...fds],
  });
}

/** Runs the probe to the end; asserts a clean exit and returns its result line. */
export async function probe(steps: Step[], opts: ProbeOptions = {}): Promise<ProbeOut> {
  const child = startProbe(steps, opts);
  child.stdin!.end();
  const { code, stdout, stderr } = await collect(child);
  assert.equal(code, 0, `fault-probe exited with ${code}: ${stderr}`);
  const line = stdout.trim().split("\n").find((l) => l.startsWith('{"pid"'));
  assert.ok(line, `no result line; stdout: ${stdout} stderr: ${stderr}`);
  return JSON.parse(line) as ProbeOut;
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = "", stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    const t = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`child timed out; stderr: ${stderr}`)); }, timeoutMs);
    child.on("close", (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

/** The error of a step result, asserting there is one. */
export function errorOf(r: StepResult | undefined): NonNullable<StepResult["error"]> {
  assert.ok(r?.error, `expected an error, got ${JSON.stringify(r)}`);
  return r.error;
}

/** The value of a step result, asserting there was no error. */
export function okOf<T = unknown>(r: StepResult | undefined): T {
  assert.ok(r && !r.error, `expected success, got ${JSON.stringify(r)}`);
  return r.ok as T;
}

/** A fresh short temp dir (Unix socket paths must stay under 108 bytes). */
export function tempDir(tag: string): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sdf-${tag}-`));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A native socket (CLOEXEC) of `type`, optionally bound to a Unix path and listening. */
export function unixSocket(type: "stream" | "dgram", path?: string, listen = type === "stream"): number {
  const n = native(), c = K();
  const fd = n.socket(c.AF_UNIX!, (type === "stream" ? c.SOCK_STREAM! : c.SOCK_DGRAM!) | c.SOCK_CLOEXEC!, 0);
  assert.ok(fd >= 0, `socket: ${fd}`);
  if (path !== undefined) assert.equal(n.bind(fd, { family: c.AF_UNIX!, path: encodeUnixPath(path) }), 0, `bind ${path}`);
  if (listen) assert.equal(n.listen(fd, 16), 0);
  return fd;
}

/** A bound (not listening) UDP socket on 127.0.0.1, or a listening TCP one. */
export function inetSocket(type: "tcp" | "udp"): number {
  const n = native(), c = K();
  const fd = n.socket(c.AF_INET!, (type === "tcp" ? c.SOCK_STREAM! : c.SOCK_DGRAM!) | c.SOCK_CLOEXEC!, 0);
  assert.equal(n.bind(fd, { family: c.AF_INET!, address: "127.0.0.1", port: 0 }), 0);
  if (type === "tcp") assert.equal(n.listen(fd, 16), 0);
  return fd;
}

export function closeAll(...fds: number[]): void {
  for (const fd of fds) native().close(fd);
}

/** Inode of a socket fd, as /proc/<pid>/fd shows it (`socket:[ino]`). */
export function socketInode(fd: number): string {
  const st = native().fstat(fd);
  assert.ok(Array.isArray(st));
  return `socket:[${st[2]}]`;
}
