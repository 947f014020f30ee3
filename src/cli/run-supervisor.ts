/**
 * The brain of `sdkit run`: owns the notify socket, the listeners and the FD store; starts
 * instances, applies their notifications (with NotifyAccess-like sender checks), restarts them
 * with back-off, and replaces them without downtime (start the new one, wait for READY=1, then
 * stop the old one — both share the listening sockets meanwhile, so no connection is refused).
 * @module
 */
import { constants as osConstants } from "node:os";
import { NotifyReceiver, type ReceivedNotifyMessage } from "../notify/receiver.js";
import { FdStore } from "./run-fdstore.js";
import { Instance, type ExitInfo } from "./run-instance.js";
import type { EventFields, EventLog, RunState, Snapshot } from "./run-log.js";

/** Settings of a supervisor (what `sdkit run`'s flags produce). */
export interface SupervisorOptions {
  command: string[];
  /** Environment for every instance, without LISTEN_FDS/NOTIFY_SOCKET/WATCHDOG_* (added here). */
  env: Map<string, string>;
  /** Our listening sockets with their names; passed first, before stored fds. */
  listeners: { fd: number; name: string }[];
  type: "notify" | "simple";
  notifyAccess: "none" | "main" | "all";
  watchdogUsec: number;
  fdstoreMax: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  restart: "no" | "on-failure" | "always";
  restartDelayMs: number;
  restartMaxDelayMs: number;
  /** Where NOTIFY_SOCKET lives (default: a unique abstract name). */
  notifyPath?: string;
  log: EventLog;
}

/** An instance that has been ready this long resets the back-off. */
export const STABLE_MS = 10_000;

/** Restart delay after `failures` consecutive failures: doubling from `base`, capped at `max`. */
export function restartDelay(base: number, max: number, failures: number): number {
  return Math.min(max, base * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}

/** Runs one service. `done` resolves with sdkit run's exit code. */
export class Supervisor {
  readonly receiver: NotifyReceiver;
  readonly store: FdStore;
  readonly done: Promise<number>;
  private current: Instance | undefined;
  private next: Instance | undefined;
  private state: RunState = "starting";
  private restarts = 0;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private replaceAgain = false;
  /** Replaced instances that are still finishing their work; their notifications are logged only. */
  private readonly draining = new Set<Instance>();
  private finish!: (code: number) => void;
  private stopping: Promise<number> | undefined;

  constructor(private readonly o: SupervisorOptions) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.store = new FdStore(o.fdstoreMax, (name, fd) => this.event("fdstore-hangup", { name, fd, total: this.store.size }));
    this.receiver = new NotifyReceiver(o.notifyPath ? { path: o.notifyPath } : {}).listen();
    this.receiver.on("message", (m: ReceivedNotifyMessage) => this.onMessage(m));
  }

  private snapshot(): Snapshot {
    const i = this.current;
    return { state: this.state, pid: i && !i.exited ? i.mainPid : null, restarts: this.restarts, status: i?.status ?? null };
  }

  private event(name: string, fields: EventFields = {}): void {
    this.o.log.event(name, fields, this.snapshot());
  }

  private setState(s: RunState): void {
    if (this.state === s) return;
    this.state = s;
    this.o.log.status(this.snapshot());
  }

  /** Starts the first instance. */
  start(): void {
    this.current = this.spawn("start");
  }

  private spawn(why: string): Instance {
    const fds = [...this.o.listeners.map((l) => l.fd), ...this.store.entries().map((e) => e.fd)];
    const names = [...this.o.listeners.map((l) => l.name), ...this.store.entries().map((e) => e.name)];
    const env = new Map(this.o.env);
    env.set("NOTIFY_SOCKET", this.receiver.path);
    if (fds.length) env.set("LISTEN_FDNAMES", names.join(":"));
    if (this.o.fdstoreMax > 0) env.set("FDSTORE", String(this.o.fdstoreMax));
    const inst = new Instance({ command: this.o.command, env, fds, watchdogUsec: this.o.watchdogUsec, type: this.o.type, startTimeoutMs: this.o.startTimeoutMs });
    this.event(why, { instance: inst.id, pid: inst.pid, fds: names });
    inst.on("ready", (first: boolean) => this.onReady(inst, first));
    inst.on("exit", (info: ExitInfo) => this.onExit(inst, info));
    inst.on("start-timeout", () => {
      this.event("start-timeout", { pid: inst.pid });
      void inst.stop("start-timeout", this.o.stopTimeoutMs);
    });
    inst.on("watchdog", (reason: string) => {
      this.event("watchdog-timeout", { pid: inst.mainPid, reason });
      void inst.stop("watchdog", this.o.stopTimeoutMs, "SIGABRT"); // systemd's WatchdogSignal= default
    });
    return inst;
  }

  private onReady(inst: Instance, first: boolean): void {
    if (inst === this.next) {
      const old = this.current;
      this.current = inst;
      this.next = undefined;
      this.setState("running");
      this.event("replaced", { oldPid: old?.exited ? null : old?.mainPid ?? null, newPid: inst.mainPid });
      if (old && !old.exited) {
        this.draining.add(old);
        void old.stop("replaced", this.o.stopTimeoutMs);
      }
      if (this.replaceAgain) { this.replaceAgain = false; this.replace("queued"); }
      return;
    }
    if (inst !== this.current) return;
    if (this.state !== "replacing") this.setState("running");
    this.event(first ? "ready" : "reloaded");
    setTimeout(() => { if (this.current === inst && !inst.exited) this.failures = 0; }, STABLE_MS).unref();
  }

  private onExit(inst: Instance, info: ExitInfo): void {
    const failed = info.reason === "watchdog" || info.reason === "start-timeout" || info.code !== 0 || info.signal !== null;
    this.draining.delete(inst);
    this.event("exit", { pid: info.pid, code: info.code, signal: info.signal, result: info.reason ?? (failed ? "failure" : "success") });
    if (this.stopping) return;
    if (inst === this.next) {
      this.next = undefined;
      this.event("replace-failed", { pid: inst.pid });
      if (this.current && !this.current.exited) { this.setState("running"); return; }
    } else if (inst !== this.current) {
      return; // an old instance after a replacement
    }
    if (this.next) { this.current = undefined; return; } // the replacement takes over when ready
    this.current = undefined;
    const restart = this.o.restart === "always" || (this.o.restart === "on-failure" && failed);
    if (!restart) {
      this.setState("exited");
      void this.shutdown(info.code ?? (info.signal ? 128 + signalNumber(info.signal) : 1));
      return;
    }
    this.failures++;
    this.restarts++;
    const delay = restartDelay(this.o.restartDelayMs, this.o.restartMaxDelayMs, this.failures);
    this.setState("auto-restart");
    this.event("restart-scheduled", { delay });
    this.restartTimer = setTimeout(() => { this.restartTimer = undefined; this.setState("starting"); this.current = this.spawn("restart"); }, delay);
  }

  /** Zero-downtime replacement (SIGHUP, --watch): start a new instance, switch on its READY=1. */
  replace(reason: string): void {
    if (this.stopping) return;
    if (this.next) { this.replaceAgain = true; return; }
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      this.setState("starting");
      this.current = this.spawn("restart");
      return;
    }
    this.event("replace", { reason });
    this.setState("replacing");
    this.next = this.spawn("start-replacement");
  }

  /** Which instance a sender speaks for, honouring NotifyAccess. */
  private senderInstance(pid: number): Instance | undefined {
    const mine = [this.next, this.current, ...this.draining].find((i) => i && !i.exited && i.mainPid === pid);
    if (this.o.notifyAccess === "main") return mine;
    if (this.o.notifyAccess === "all") return mine ?? this.next ?? this.current;
    return undefined;
  }

  private onMessage(m: ReceivedNotifyMessage): void {
    // BARRIER=1 travels alone; the receiver closes its fd after this returns, which is the whole
    // answer. Like the manager, do not attribute it (systemd-notify sends it with its own pid).
    if (m.fields.BARRIER === "1") return;
    const inst = this.senderInstance(m.pid);
    if (!inst || m.truncated || m.malformed) {
      const main = this.current?.mainPid;
      this.event("ignored", { sender: m.pid, reason: m.truncated ? "truncated" : m.malformed ? "malformed" : this.o.notifyAccess === "none" ? "notify-access none" : `only the main pid (${main ?? "none"}) may notify` });
      return;
    }
    const f = m.fields;
    const pid = inst.mainPid;
    if (f.MAINPID !== undefined && /^[1-9]\d*$/.test(f.MAINPID)) {
      inst.mainPid = Number(f.MAINPID);
      this.event("mainpid", { oldPid: pid, newPid: inst.mainPid });
    }
    if (f.STATUS !== undefined && f.STATUS !== inst.status) {
      inst.status = f.STATUS;
      this.event("status", { pid, text: f.STATUS });
      if (inst === this.current) this.o.log.status(this.snapshot());
    }
    if (f.ERRNO !== undefined && /^\d+$/.test(f.ERRNO)) { inst.errno = Number(f.ERRNO); this.event("errno", { pid, errno: inst.errno }); }
    if (f.EXTEND_TIMEOUT_USEC !== undefined && /^\d+$/.test(f.EXTEND_TIMEOUT_USEC)) {
      inst.extendTimeout(Number(f.EXTEND_TIMEOUT_USEC));
      this.event("extend-timeout", { pid, usec: Number(f.EXTEND_TIMEOUT_USEC) });
    }
    if (f.WATCHDOG_USEC !== undefined && /^[1-9]\d*$/.test(f.WATCHDOG_USEC)) {
      inst.setWatchdogUsec(Number(f.WATCHDOG_USEC));
      this.event("watchdog-usec", { pid, usec: Number(f.WATCHDOG_USEC) });
    }
    if (f.FDSTOREREMOVE === "1" && f.FDNAME !== undefined) this.event("fdstore-remove", { name: f.FDNAME, removed: this.store.remove(f.FDNAME), total: this.store.size });
    if (f.FDSTORE === "1" && m.fds.length > 0) {
      if (this.store.max === 0) this.event("fdstore-ignored", { reason: "--fdstore-max is 0", count: m.fds.length });
      else {
        const r = this.store.add(m.takeFds(), f.FDNAME ?? "stored", f.FDPOLL !== "0");
        this.event("fdstore", { name: f.FDNAME ?? "stored", stored: r.stored, rejected: r.rejected, total: this.store.size });
      }
    }
    if (f.RELOADING === "1" && inst === this.current) { this.setState("reloading"); this.event("reloading", { pid }); }
    if (f.STOPPING === "1") { if (inst === this.current) this.setState("stopping"); this.event("stopping", { pid }); }
    if (f.READY === "1") inst.markReady();
    if (f.WATCHDOG === "1") inst.pet();
    if (f.WATCHDOG === "trigger") inst.watchdogExpired("trigger");
  }

  /** Stops everything (SIGTERM to the service, SIGKILL after the stop timeout) and resolves `done` with `code`. */
  shutdown(code = 0): Promise<number> {
    if (this.stopping) return this.stopping;
    clearTimeout(this.restartTimer);
    if (this.state !== "exited") this.setState("stopping");
    this.stopping = (async () => {
      const all = [this.next, this.current, ...this.draining].filter((i): i is Instance => !!i && !i.exited);
      await Promise.all(all.map((i) => i.stop("shutdown", this.o.stopTimeoutMs)));
      this.receiver.close();
      this.store.closeAll();
      this.finish(code);
      return code;
    })();
    return this.stopping;
  }

  /** Kills every instance at once (a second Ctrl-C). */
  killAll(): void {
    for (const i of [this.next, this.current, ...this.draining]) i?.signal("SIGKILL");
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[sig] ?? 0;
}
