/**
 * The notify test rig: one receiver process bound to a path NOTIFY_SOCKET (reporting each
 * datagram's arrival on CLOCK_MONOTONIC) and one sender process per competitor (reporting the
 * same clock right before its send call). A round trip is receiver-arrival − sender-start of
 * the same sequence number; nothing in between runs in the driver.
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { onLines, start, stderrTail, waitForLine } from "./proc.js";

export interface Arrival { nfds: number; t: bigint }

/** The receiver: arrivals by sequence number, with waiters. */
export class Receiver {
  private readonly got = new Map<number, Arrival>();
  private readonly waiters = new Map<number, { nfds: number; resolve: (a: Arrival) => void }>();
  truncated = 0;

  private constructor(readonly child: ChildProcess, readonly kind: string) {
    onLines(child, (line) => {
      const m = /^R (\d+|-) (\d+) (\d+)( TRUNC)?/.exec(line);
      if (!m || m[1] === "-") return;
      if (m[4]) this.truncated++;
      const seq = Number(m[1]);
      const prev = this.got.get(seq);
      // An fd push larger than one message arrives as several datagrams with the same name.
      const a = { nfds: (prev?.nfds ?? 0) + Number(m[2]), t: BigInt(m[3]!) };
      this.got.set(seq, a);
      const w = this.waiters.get(seq);
      if (w && a.nfds >= w.nfds) {
        this.waiters.delete(seq);
        this.got.delete(seq);
        w.resolve(a);
      }
    });
  }

  /** `python-spin` busy-polls; `python` and `sdkit` sleep in the kernel until a datagram comes. */
  static async start(kind: "python-spin" | "python" | "sdkit", socketPath: string, benchDir: string): Promise<Receiver> {
    const py = join(benchDir, "fixtures", "notify-receiver.py");
    const child = kind === "sdkit"
      ? start(process.execPath, [join(benchDir, "fixtures", "notify-receiver.mjs"), socketPath])
      : start("/usr/bin/python3", ["-u", py, socketPath, ...(kind === "python-spin" ? ["--spin"] : [])]);
    await waitForLine(child, /^ready$/, 15_000, `${kind} notify receiver`);
    return new Receiver(child, kind);
  }

  /** Resolves when `seq` has arrived with at least `nfds` fds in total. */
  wait(seq: number, nfds = 0, timeoutMs = 15_000): Promise<Arrival> {
    const a = this.got.get(seq);
    if (a && a.nfds >= nfds) {
      this.got.delete(seq);
      return Promise.resolve(a);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(seq);
        reject(new Error(`message ${seq} did not reach the receiver within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(seq, { nfds, resolve: (x) => { clearTimeout(t); resolve(x); } });
    });
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

/** A sender process for one competitor; one command in flight at a time. */
export class Sender {
  private pending: { resolve: (v: [bigint, bigint]) => void; reject: (e: Error) => void } | undefined;

  private constructor(readonly child: ChildProcess, readonly name: string) {
    const err = stderrTail(child);
    onLines(child, (line) => {
      const p = this.pending;
      if (!p || line === "ready") return;
      this.pending = undefined;
      const m = /^ok \d+ (\d+) (\d+)$/.exec(line);
      if (m) p.resolve([BigInt(m[1]!), BigInt(m[2]!)]);
      else p.reject(new Error(`${name}: ${line.replace(/^err /, "")} ${err()}`));
    });
    child.once("exit", (code) => this.pending?.reject(new Error(`${name} sender exited (${code}): ${err()}`)));
  }

  static async start(name: string, socketPath: string, benchDir: string): Promise<Sender> {
    const child = start(process.execPath, [join(benchDir, "fixtures", "notify-sender.mjs"), name], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, NOTIFY_SOCKET: socketPath },
    });
    await waitForLine(child, /^ready$/, 30_000, `${name} sender`);
    return new Sender(child, name);
  }

  /** Sends a command; resolves with the sender's [t0, t1]. */
  command(cmd: string, timeoutMs = 60_000): Promise<[bigint, bigint]> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: "${cmd}" got no answer in ${timeoutMs} ms`)), timeoutMs);
      this.pending = { resolve: (v) => { clearTimeout(t); resolve(v); }, reject: (e) => { clearTimeout(t); reject(e); } };
      this.child.stdin!.write(`${cmd}\n`);
    });
  }

  stop(): Promise<void> {
    this.child.stdin!.end();
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.child.kill("SIGKILL"); resolve(); }, 5000);
      this.child.once("exit", () => { clearTimeout(t); resolve(); });
      if (this.child.exitCode !== null) { clearTimeout(t); resolve(); }
    });
  }
}
