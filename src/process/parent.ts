/**
 * The old process's side of a replacement: start a successor with the active fds, wait for it
 * to be ready, hand the service over, then let this process's shutdown handler drain and exit.
 *
 * Invariant (tableflip's): at most two processes, and at most one of them not ready. One
 * replacement at a time; a failed one leaves this process serving, as if nothing happened.
 * @module
 */
import { spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import { SdError } from "../errors.js";
import { barrier, mainPid, ready as notifyReady, reloading } from "../notify.js";
import { defaultPool } from "../registry/default.js";
import { childSpawnSpec } from "./child-env.js";
import { isPendingSuccessor } from "./child.js";
import { ORIGINAL_CWD, currentProgram } from "./program.js";
import { ReplaceError } from "./replace-error.js";
import { startSuccessor, type Successor, type SuccessorOptions } from "./successor.js";

/** Options of {@link startProcess}. */
export interface StartProcessOptions {
  /** Run this instead of the same program: `[file, ...args]` (e.g. a new release's entry point). @default currentProgram() */
  argv?: readonly string[];
  /** Working directory of the new process. @default the directory sdkit was loaded in */
  cwd?: string;
}

/** Options of {@link replaceProcess}. */
export interface ReplaceOptions extends StartProcessOptions {
  /** How long the successor may take to call `signalParentTermination()`. @default 60_000 */
  timeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL when a failed successor is stopped. @default 5_000 */
  killGraceMs?: number;
  /**
   * Under systemd, report the replacement as a reload: `RELOADING=1` (with `MONOTONIC_USEC=`)
   * before starting the successor, `READY=1` when it took over or failed. Use it when the
   * replacement is triggered by `systemctl reload` (`ExecReload=kill -HUP $MAINPID`).
   * @default false
   */
  reload?: boolean;
  /** How long to wait for the manager to acknowledge `MAINPID=` (BARRIER=1). @default 5_000 */
  barrierTimeoutMs?: number;
}

/** Where this process stands in a replacement. */
export type ReplacePhase = "idle" | "replacing" | "replaced";

interface State {
  phase: ReplacePhase;
  successor?: Successor | undefined;
  done?: Promise<unknown> | undefined;
  replacedBy?: number | undefined;
}
const KEY = Symbol.for("sdkit.process.parent.v1");
const g = globalThis as unknown as Record<symbol, State | undefined>;
function state(): State {
  return (g[KEY] ??= { phase: "idle" });
}

/** The current phase and, once replaced, the successor's pid. */
export function replacementStatus(): { phase: ReplacePhase; pid?: number } {
  const s = state();
  const pid = s.phase === "replaced" ? s.replacedBy : s.successor?.pid;
  return pid === undefined ? { phase: s.phase } : { phase: s.phase, pid };
}

/**
 * For shutdown: a successor that is not ready yet is stopped (this process is going away, so it
 * must not be left to take over unasked); a handover already under way is let finish. Resolves
 * when the replacement has settled either way.
 */
export async function settleReplacement(): Promise<void> {
  const s = state();
  if (s.phase !== "replacing") return;
  s.successor?.cancel("cancelled", `the replacement (pid ${s.successor.pid}) was cancelled: this process began shutting down before the successor was ready; it was stopped.`);
  await s.done?.catch(() => undefined);
}

function checkArgv(argv: readonly string[] | undefined, fn: string): void {
  if (argv !== undefined && (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string") || argv[0] === "")) {
    throw new SdError("ERR_SD_INVALID_ARG", `${fn}(): argv must be a non-empty array of strings, [file, ...args], got ${JSON.stringify(argv)}.`);
  }
}

function supervised(): boolean {
  return Boolean(process.env.NOTIFY_SOCKET);
}

function checkSignal(signal: NodeJS.Signals | null): void {
  if (signal !== null && !(typeof signal === "string" && signal in osConstants.signals)) {
    throw new SdError("ERR_SD_INVALID_ARG", `replaceProcess(): ${JSON.stringify(signal)} is not a signal name; use e.g. "SIGTERM", or null to not be signaled.`);
  }
}

/**
 * Starts a fresh copy of this program (same `process.execPath`, `execArgv`, argv, the directory
 * sdkit was loaded in, and this environment plus `env`) with the active registry fds at 3, 4, …,
 * `LISTEN_FDS`, `LISTEN_FDNAMES` and `LISTEN_PID` = the child's own pid, so its
 * `listenFdsWithNames()` / `listen*()` inherit them. Lock files of flock-owned Unix sockets
 * travel as fds named `"sdkit-lock"`; the child's registry pairs each with its socket by path
 * (no extra variable). `LISTEN_PIDFDID` and `WATCHDOG_PID` are never passed on.
 *
 * No readiness handshake: this is the seed's fire-and-forget `StartProcess` (the child is not
 * waited for and does not keep this process alive). Use {@link replaceProcess} to hand over.
 * @param env extra variables for the child; `undefined` removes one.
 * @returns the child's pid, once it is running.
 * @throws SdError ERR_SD_INVALID_ARG for a bad `argv`; rejects with ERR_SD_EXEC when the child cannot be spawned.
 */
export function startProcess(env?: Readonly<Record<string, string | undefined>>, opts: StartProcessOptions = {}): Promise<number> {
  checkArgv(opts.argv, "startProcess");
  const spec = childSpawnSpec({ env: process.env, extraEnv: env, fds: defaultPool().handoverFds(), program: opts.argv ?? currentProgram() });
  return new Promise((resolve, reject) => {
    const child = spawn(spec.file, spec.args, { env: spec.env, stdio: spec.stdio, cwd: opts.cwd ?? ORIGINAL_CWD });
    child.once("spawn", () => { child.unref(); resolve(child.pid!); });
    child.once("error", (e: NodeJS.ErrnoException) => {
      reject(new SdError("ERR_SD_EXEC", `startProcess(): spawn ${spec.file} failed with ${e.code ?? e.message}.`, { cause: e }));
    });
  });
}

/**
 * Replaces this process with a fresh copy of the program, without dropping a connection: the
 * successor inherits the active fds (as in {@link startProcess}) and a readiness pipe, and calls
 * `signalParentTermination()` once its listeners are up. Then, in this order:
 *  1. under systemd (`NOTIFY_SOCKET` set): `READY=1` if `reload`, `MAINPID=<successor>`, and a
 *     barrier, so `Type=notify` services with `NotifyAccess=main` follow the new process;
 *  2. the promise resolves with the successor's pid;
 *  3. this process raises `signal` on itself, so its shutdown handler (see `onShutdown()`) stops
 *     accepting, drains and exits. Raising it here, not from the child, guarantees that the
 *     handler runs only after the handover. `null`: no signal, the caller drains by itself.
 *
 * If the successor exits, crashes, closes the pipe or is not ready within `timeoutMs`, it is
 * stopped and the promise rejects with a {@link ReplaceError} (`reason`, `exitCode`, `signal`);
 * this process keeps serving. Only one replacement runs at a time (`ERR_SD_REPLACE_IN_PROGRESS`).
 *
 * @param signal raised on this process after the handover. @default "SIGTERM"
 * @param env extra variables for the successor; `undefined` removes one.
 */
export async function replaceProcess(signal: NodeJS.Signals | null = "SIGTERM", env?: Readonly<Record<string, string | undefined>>, opts: ReplaceOptions = {}): Promise<number> {
  checkSignal(signal);
  checkArgv(opts.argv, "replaceProcess");
  const s = state();
  if (s.phase === "replacing") throw new ReplaceError("in-progress", `a replacement is already running (successor pid ${s.successor?.pid}): wait for it to finish.`, { pid: s.successor?.pid });
  if (s.phase === "replaced") throw new ReplaceError("in-progress", `this process was already replaced by pid ${s.replacedBy} and is shutting down: ask that process instead.`, { pid: s.replacedBy });
  if (isPendingSuccessor()) throw new ReplaceError("not-ready", "this process is a successor that has not signaled its parent yet: call signalParentTermination() before replacing it in turn.");
  s.phase = "replacing";
  const run = handOver(s, signal, env, opts);
  s.done = run;
  try {
    return await run;
  } finally {
    s.done = undefined;
  }
}

async function handOver(s: State, signal: NodeJS.Signals | null, env: Readonly<Record<string, string | undefined>> | undefined, opts: ReplaceOptions): Promise<number> {
  const reload = opts.reload === true && supervised();
  let successor: Successor | undefined;
  try {
    if (reload) await reloading("replacing the main process").catch(() => undefined);
    const so: SuccessorOptions = { env, argv: opts.argv, cwd: opts.cwd, timeoutMs: opts.timeoutMs, killGraceMs: opts.killGraceMs };
    successor = startSuccessor(so);
    s.successor = successor;
    await successor.ready;
    if (supervised()) await announce(successor, reload, opts.barrierTimeoutMs ?? 5_000);
  } catch (e) {
    s.phase = "idle";
    s.successor = undefined;
    if (reload) await notifyReady("replacement failed; the old process keeps serving").catch(() => undefined);
    throw e;
  }
  successor.child.unref(); // it outlives us: never keep this process alive for it
  s.phase = "replaced";
  s.replacedBy = successor.pid;
  s.successor = undefined;
  if (signal !== null) {
    if (process.listenerCount(signal) === 0) {
      process.emitWarning(`replaceProcess(): no ${signal} handler is installed, so this process stops at once and drops in-flight requests; install one with onShutdown({ servers }).`, { code: "SDKIT_NO_SHUTDOWN_HANDLER" });
    }
    setImmediate(() => process.kill(process.pid, signal));
  }
  return successor.pid;
}

/**
 * Tells systemd the successor is the main process now. `READY=1` first (it ends a reload and
 * must come from the current main pid), then `MAINPID=`, then a barrier: once it returns, the
 * manager has switched, and this process may exit without taking the service down. If the
 * message cannot be sent at all, the successor is stopped (a main process exiting before the
 * switch would stop the whole unit). A barrier timeout is only warned about: MAINPID= was sent.
 */
async function announce(successor: Successor, reload: boolean, barrierTimeoutMs: number): Promise<void> {
  try {
    if (reload) await notifyReady();
    await mainPid(successor.pid);
  } catch (e) {
    await successor.stop();
    throw new ReplaceError("handover", `the service manager could not be told MAINPID=${successor.pid} (${(e as Error).message}); the successor was stopped and this process keeps serving.`, { pid: successor.pid, cause: e });
  }
  try {
    await barrier(barrierTimeoutMs);
  } catch (e) {
    process.emitWarning(`replaceProcess(): MAINPID=${successor.pid} was sent but not acknowledged (${(e as Error).message}); handing over anyway.`, { code: "SDKIT_BARRIER" });
  }
}
