/**
 * Runs test/helpers/notify_receiver.py (an sd_notify receiver written without sdkit) and
 * collects its JSON lines, so tests can check what sdkit sends against an independent parser.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "notify_receiver.py");

/** An fd as the python receiver saw it. */
export interface PyFd {
  fd: number; kind: string; ino: number; dev: number; cloexec: boolean;
  family?: string; type?: string; sockname?: string | [string, number]; listening?: boolean;
  data?: string; writable?: boolean; error?: string;
}

/** One datagram as the python receiver parsed it. */
export interface PyMessage {
  n: number; raw: string; text: string; assignments: [string, string | null][]; flags: number; truncated: boolean;
  pid: number | null; uid: number | null; gid: number | null; fds: PyFd[];
}

export interface PythonReceiver {
  /** The address it listens on (the NOTIFY_SOCKET value). */
  address: string;
  /** Every message so far. */
  messages: PyMessage[];
  /** Resolves once `n` messages in total have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<PyMessage[]>;
  /** Kills it and waits for the exit. */
  stop(): Promise<void>;
  child: ChildProcess;
}

let seq = 0;

/** Starts the receiver on `address` (default: a fresh abstract name); resolves once it listens. */
export async function startPythonReceiver(opts: { address?: string; keepFds?: boolean } = {}): Promise<PythonReceiver> {
  const address = opts.address ?? `@sdkit-pyrx-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
  const args = [SCRIPT, address, ...(opts.keepFds ? ["--keep-fds"] : [])];
  const child = spawn("/usr/bin/python3", args, { stdio: ["ignore", "pipe", "pipe"] });
  const messages: PyMessage[] = [];
  const waiters: (() => void)[] = [];
  let buf = "", err = "";
  let exited = false, closed = false;
  child.on("close", () => (closed = true));
  child.stderr!.on("data", (d) => (err += d));
  const listening = new Promise<void>((resolve, reject) => {
    child.on("exit", (code) => { exited = true; reject(new Error(`notify_receiver.py exited (${code}): ${err}`)); for (const w of waiters) w(); });
    child.stdout!.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const ev = JSON.parse(line) as { event: string } & PyMessage;
        if (ev.event === "listening") resolve();
        else { messages.push(ev); for (const w of waiters) w(); }
      }
    });
  });
  await listening;
  return {
    address, messages, child,
    waitFor(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= n) { done(); resolve(messages.slice()); }
          else if (exited) { done(); reject(new Error(`receiver exited with ${messages.length}/${n} messages: ${err}`)); }
        };
        const t = setTimeout(() => { done(); reject(new Error(`only ${messages.length}/${n} messages within ${timeoutMs} ms`)); }, timeoutMs);
        const done = () => { clearTimeout(t); const k = waiters.indexOf(check); if (k >= 0) waiters.splice(k, 1); };
        waiters.push(check);
        check();
      });
    },
    stop() {
      // 'close' (not 'exit'): only then are the stdio pipes closed, which fd-leak checks see.
      if (closed) return Promise.resolve();
      return new Promise((resolve) => { child.once("close", () => resolve()); if (!exited) child.kill("SIGKILL"); });
    },
  };
}
