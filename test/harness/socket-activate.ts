/**
 * Runs a program under the real `systemd-socket-activate`, triggers it, and collects its output.
 * Quirks that shape this (shared/notes/real-systemd-harness.md §1):
 * - the activator binds, then execs the program in place on the *first* activity, so we connect
 *   (or send one datagram) once it has printed "Listening on …" for every address, and its pid
 *   is the program's pid (= LISTEN_PID);
 * - `--datagram`/`--seqpacket` are global: every `-l` gets that socket type;
 * - the program sees only PATH, HOME, TERM, LISTEN_* and `-E` variables, so give an absolute
 *   program path and pass e.g. NOTIFY_SOCKET with `env`.
 */
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { createSocket } from "node:dgram";
import { createServer, connect } from "node:net";
import { ROOT } from "../helpers/spawn.js";

export interface ActivateOptions {
  /** `-l` addresses: "127.0.0.1:PORT", "[::1]:PORT", "PORT" (dual-stack), "/path", "@abstract". */
  listen: string[];
  /** `--fdname=` (names joined with ':'); the count need not match `listen` (mismatch tests). */
  fdnames?: string[];
  /** `-E` variables; `undefined` value = `-E NAME` (copy from the activator's environment). */
  env?: Record<string, string | undefined>;
  /** Extra environment of the activator itself (what `-E NAME` copies). */
  activatorEnv?: Record<string, string>;
  /** Socket type of every listener (global in the activator). */
  type?: "stream" | "datagram" | "seqpacket";
  /** Program and arguments; argv[0] should be absolute. */
  argv: string[];
  /** Working directory of activator and program (default: the repo root, for `--import tsx`). */
  cwd?: string;
  /** Kill everything and fail after this long (default 60 s; the machine may be busy). */
  timeoutMs?: number;
}

export interface ActivateResult {
  /** Pid of the activator, which the program replaced by exec (its LISTEN_PID). */
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The program's stdout. */
  stdout: string;
  /** The activator's log lines ("Listening on …", "Execing …") and the program's stderr. */
  stderr: string;
}

/** A TCP/UDP port that was free a moment ago (bound to port 0, then released). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A UDP port that was free a moment ago (bound to port 0, then released). */
export async function freeUdpPort(host = "127.0.0.1"): Promise<number> {
  const s = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Splits "host:port" / "[v6]:port" / "port"; undefined for Unix paths. */
function inetAddress(a: string): { host: string; port: number } | undefined {
  if (/^\d+$/.test(a)) return { host: "::1", port: Number(a) };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(a) ?? /^([^/@:][^:]*):(\d+)$/.exec(a);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/** Makes the activator exec the program: one connection or one datagram to `address`. */
async function trigger(address: string, type: ActivateOptions["type"]): Promise<void> {
  const inet = inetAddress(address);
  if (type === "stream" || type === undefined) {
    const path = address.startsWith("@") ? "\0" + address.slice(1) : address;
    const sock = inet ? connect(inet.port, inet.host) : connect({ path });
    await new Promise<void>((resolve, reject) => { sock.once("connect", resolve); sock.once("error", reject); });
    sock.destroy(); // the connection stays in the backlog; the program need not accept it
    return;
  }
  if (type === "datagram" && inet) {
    const s = createSocket(inet.host.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => s.send("x", inet.port, inet.host, (e) => (e ? reject(e) : resolve())));
    s.close();
    return;
  }
  // Unix datagram / seqpacket: Node has no client for these, python3 does.
  const kind = type === "datagram" ? "SOCK_DGRAM" : "SOCK_SEQPACKET";
  const code = `import socket,sys\na=sys.argv[1]\na="\\0"+a[1:] if a.startswith("@") else a\ns=socket.socket(socket.AF_UNIX,socket.${kind})\ns.connect(a)\ns.send(b"x")`;
  const py = spawn("/usr/bin/python3", ["-c", code, address], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  py.stderr.on("data", (d) => (err += d));
  const rc = await new Promise<number | null>((r) => py.on("close", r));
  if (rc !== 0) throw new Error(`could not trigger ${address}: ${err}`);
}

/** Runs `opts.argv` under systemd-socket-activate, triggers it once, resolves when it exits. */
export function socketActivate(opts: ActivateOptions): Promise<ActivateResult> {
  const args: string[] = [];
  if (opts.type === "datagram") args.push("--datagram");
  if (opts.type === "seqpacket") args.push("--seqpacket");
  for (const l of opts.listen) args.push("-l", l);
  if (opts.fdnames) args.push(`--fdname=${opts.fdnames.join(":")}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push("-E", v === undefined ? k : `${k}=${v}`);
  const child = spawn("systemd-socket-activate", [...args, ...opts.argv], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...opts.activatorEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    let stdout = "", stderr = "", triggered = false, failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`systemd-socket-activate did not finish within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`)), timeoutMs);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      // One "Listening on ADDR as FD." line per -l, printed after all are bound.
      if (!triggered && (stderr.match(/^Listening on .* as \d+\.$/gm) ?? []).length >= opts.listen.length) {
        triggered = true;
        trigger(opts.listen[0]!, opts.type).catch((e: Error) => fail(new Error(`trigger failed: ${e.message}; stderr: ${stderr}`)));
      }
    });
    child.on("error", (e) => fail(e));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (failed) return;
      if (!triggered) return fail(new Error(`systemd-socket-activate exited (${code}) before listening: ${stderr}`));
      resolve({ pid: child.pid!, code, signal, stdout, stderr });
    });
  });
}
