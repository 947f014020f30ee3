/**
 * One running copy of the supervised program under `sdkit run`: the process, its timers (start
 * timeout, watchdog, stop timeout) and its notify-visible state. Decisions (restart, replace)
 * belong to the supervisor; an instance only reports what happened through events:
 * `ready`, `exit` ({@link ExitInfo}), `start-timeout`, `watchdog` (reason).
 * @module
 */
import { EventEmitter } from "node:events";
import { spawn, type ChildProcess } from "node:child_process";
import { envObject } from "./child-env.js";

/** How an instance ended. `code`/`signal` are null when the main pid was not our child. */
export interface ExitInfo { pid: number; code: number | null; signal: NodeJS.Signals | null; reason?: string }

/** What an instance is started with. */
export interface InstanceSpec {
  command: string[];
  /** Environment without the per-process variables (LISTEN_PID, WATCHDOG_PID), which the shim adds. */
  env: Map<string, string>;
  /** fds for 3, 4, … */
  fds: number[];
  /** WatchdogSec in µs (0 = off): WATCHDOG_USEC/WATCHDOG_PID are set and the watchdog enforced. */
  watchdogUsec: number;
  /** Type=notify waits for READY=1; simple is ready at once. */
  type: "notify" | "simple";
  startTimeoutMs: number;
}

/** How often a main pid that is not our child is checked for liveness. */
const FOREIGN_POLL_MS = 200;

let nextId = 0;

/** A started program. */
export class Instance extends EventEmitter {
  readonly id = ++nextId;
  readonly child: ChildProcess;
  /** The process we spawned (the program: the shim execs it, keeping the pid). */
  readonly pid: number;
  /** The main pid: `pid` until the program sends MAINPID=. */
  mainPid: number;
  ready = false;
  status: string | null = null;
  errno: number | null = null;
  exited: ExitInfo | null = null;
  /** Set when the supervisor stops it on purpose (replacement, shutdown, timeouts). */
  stopReason: string | null = null;
  private watchdogUsec: number;
  private startTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private foreignTimer: NodeJS.Timeout | undefined;

  constructor(spec: InstanceSpec) {
    super();
    this.watchdogUsec = spec.watchdogUsec;
    const env = new Map(spec.env);
    if (spec.fds.length) env.set("LISTEN_FDS", String(spec.fds.length));
    if (spec.watchdogUsec > 0) env.set("WATCHDOG_USEC", String(spec.watchdogUsec));
    // spawn fixes the environment before fork; the shell learns its pid ($$) and execs the
    // program, which keeps that pid, so LISTEN_PID and WATCHDOG_PID name the program itself.
    const shim = `${spec.fds.length ? "LISTEN_PID=$$ " : ""}${spec.watchdogUsec > 0 ? "WATCHDOG_PID=$$ " : ""}exec "$0" "$@"`;
    this.child = spawn("/bin/sh", ["-c", shim, ...spec.command], { env: envObject(env), stdio: ["inherit", "inherit", "inherit", ...spec.fds] });
    this.pid = this.child.pid ?? -1;
    this.mainPid = this.pid;
    this.child.on("error", () => { /* spawn failure: reported through exit below */ });
    this.child.on("exit", (code, signal) => this.onChildExit(code, signal));
    if (this.pid < 0) {
      queueMicrotask(() => this.finish({ pid: -1, code: 127, signal: null, reason: "spawn failed" }));
      return;
    }
    if (spec.type === "simple") queueMicrotask(() => this.markReady());
    else this.startTimer = setTimeout(() => this.emit("start-timeout"), spec.startTimeoutMs);
  }

  /** READY=1: arms the watchdog (systemd starts it once start-up is complete). */
  markReady(): void {
    if (this.exited) return;
    clearTimeout(this.startTimer);
    this.startTimer = undefined;
    const first = !this.ready;
    this.ready = true;
    if (first) this.armWatchdog();
    this.emit("ready", first);
  }

  /** WATCHDOG=1. */
  pet(): void {
    if (this.ready) this.armWatchdog();
  }

  /** WATCHDOG_USEC=: a new interval, effective at once. */
  setWatchdogUsec(usec: number): void {
    this.watchdogUsec = usec;
    if (this.ready) this.armWatchdog();
  }

  /** WATCHDOG=trigger, or the timer ran out. */
  watchdogExpired(reason: string): void {
    if (this.exited || this.stopReason) return;
    clearTimeout(this.watchdogTimer);
    this.emit("watchdog", reason);
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdogTimer);
    if (this.watchdogUsec > 0 && !this.exited) {
      this.watchdogTimer = setTimeout(() => this.watchdogExpired("timeout"), Math.max(1, Math.round(this.watchdogUsec / 1000)));
    }
  }

  /** EXTEND_TIMEOUT_USEC=: the running start or stop timeout ends no earlier than now + usec. */
  extendTimeout(usec: number): void {
    const ms = Math.max(1, Math.round(usec / 1000));
    if (this.startTimer) {
      clearTimeout(this.startTimer);
      this.startTimer = setTimeout(() => this.emit("start-timeout"), ms);
    }
    if (this.killTimer) {
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => this.signal("SIGKILL"), ms);
    }
  }

  /** Sends `sig` to the main pid (ESRCH is fine: it is exiting anyway). */
  signal(sig: NodeJS.Signals): void {
    if (this.exited) return;
    try {
      process.kill(this.mainPid, sig);
    } catch { /* already gone */ }
  }

  /** Stops it: `sig` now, SIGKILL after `timeoutMs`. Resolves once it has exited. */
  stop(reason: string, timeoutMs: number, sig: NodeJS.Signals = "SIGTERM"): Promise<ExitInfo> {
    if (this.exited) return Promise.resolve(this.exited);
    this.stopReason ??= reason;
    clearTimeout(this.startTimer);
    clearTimeout(this.watchdogTimer);
    this.startTimer = this.watchdogTimer = undefined;
    const done = new Promise<ExitInfo>((resolve) => this.once("exit", resolve));
    this.signal(sig);
    if (!this.killTimer) this.killTimer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    return done;
  }

  private onChildExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.mainPid !== this.pid && alive(this.mainPid)) {
      // MAINPID= handed the service to another process, which is not our child: watch it.
      this.foreignTimer = setInterval(() => {
        if (!alive(this.mainPid)) this.finish({ pid: this.mainPid, code: null, signal: null });
      }, FOREIGN_POLL_MS);
      return;
    }
    this.finish({ pid: this.mainPid, code, signal });
  }

  private finish(info: ExitInfo): void {
    if (this.exited) return;
    for (const t of [this.startTimer, this.watchdogTimer, this.killTimer]) clearTimeout(t);
    clearInterval(this.foreignTimer);
    this.exited = { ...info, ...(this.stopReason ? { reason: this.stopReason } : {}) };
    this.emit("exit", this.exited);
  }
}

/** Whether `pid` exists (signal 0). EPERM means it exists but is not ours. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
