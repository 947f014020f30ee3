/**
 * Starting a copy of this program with the handover fds and a readiness pipe, and waiting for
 * it: the mechanism under `replaceProcess()` and `startWorkers()`. The policy (what to do once
 * it is ready) lives with the callers.
 *
 * Invariant: `ready` settles exactly once. It resolves when the child wrote the ready byte while
 * still alive. It rejects with a {@link ReplaceError} only after the child has exited (it is
 * sent SIGTERM, then SIGKILL, if it has to be stopped), so a failed attempt never leaves a second
 * server running next to this one.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Socket } from "node:net";
import { defaultPool } from "../registry/default.js";
import { K, check, native } from "../native/binding.js";
import { childSpawnSpec, type NamedFd } from "./child-env.js";
import { READY_BYTE } from "./child.js";
import { ORIGINAL_CWD, currentProgram } from "./program.js";
import { ReplaceError, type ReplaceFailure } from "./replace-error.js";

/** How long a successor may take to signal readiness. @default 60_000 (tableflip's default) */
export const DEFAULT_READY_TIMEOUT_MS = 60_000;
/** How long a failed successor gets between SIGTERM and SIGKILL. @default 5_000 */
export const DEFAULT_KILL_GRACE_MS = 5_000;
/** After EOF on the pipe, how long to wait for the exit status before calling it "closed". */
const EOF_EXIT_WAIT_MS = 500;

/** Options for starting a successor. */
export interface SuccessorOptions {
  /** Extra environment; `undefined` removes a variable. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Run this instead of the same program: `[file, ...args]`. @default currentProgram() */
  argv?: readonly string[] | undefined;
  /** Working directory. @default the directory sdkit was loaded in */
  cwd?: string | undefined;
  /** fds to hand over. @default defaultPool().handoverFds() */
  fds?: readonly NamedFd[] | undefined;
  /** Readiness timeout in ms. @default 60_000 */
  timeoutMs?: number | undefined;
  /** SIGTERM → SIGKILL grace for a failed successor, in ms. @default 5_000 */
  killGraceMs?: number | undefined;
  /** What to call it in messages. @default "the successor" */
  label?: string | undefined;
}

/** A started successor. */
export interface Successor {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles once: ready, or failed and gone. */
  readonly ready: Promise<void>;
  /** Gives up waiting: stops the child and rejects `ready` with `reason` (default "cancelled"). */
  cancel(reason?: ReplaceFailure, message?: string): void;
  /** Resolves once the child has exited (immediately if it has). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM), SIGKILL after `graceMs`; resolves when the child is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function describeExit(label: string, pid: number, code: number | null, signal: NodeJS.Signals | null): { reason: ReplaceFailure; text: string } {
  // 126/127 come from the sh shim when it cannot exec the program (POSIX: not executable / not found).
  if (code === 127) return { reason: "exec", text: `${label} (pid ${pid}) could not be started: the program was not found (exit status 127 from the exec shim); check argv[0] and PATH` };
  if (code === 126) return { reason: "exec", text: `${label} (pid ${pid}) could not be started: the program is not executable (exit status 126 from the exec shim)` };
  if (signal) return { reason: "exit", text: `${label} (pid ${pid}) was killed by ${signal} before it signaled readiness` };
  return { reason: "exit", text: `${label} (pid ${pid}) exited with status ${code} before it signaled readiness` };
}

const STDERR_HINT = "its stderr (shared with this process: the terminal or the journal) says why. This process keeps serving.";

/** Spawns the successor. Throws only for invalid options; every runtime failure rejects `ready`. */
export function startSuccessor(opts: SuccessorOptions = {}): Successor {
  const label = opts.label ?? "the successor";
  const timeoutMs = opts.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const fds = opts.fds ?? defaultPool().handoverFds();
  const program = opts.argv ?? currentProgram();

  const pipe = native().pipe2(K().O_CLOEXEC!);
  if (typeof pipe === "number") check(pipe, "pipe2", "", "the readiness pipe could not be created");
  const [readEnd, writeEnd] = pipe as [number, number];
  const spec = childSpawnSpec({ env: process.env, extraEnv: opts.env, fds, program, readyFd: writeEnd, parentPid: process.pid });

  let child: ChildProcess;
  try {
    child = spawn(spec.file, spec.args, { env: spec.env, stdio: spec.stdio, cwd: opts.cwd ?? ORIGINAL_CWD });
  } catch (e) {
    native().close(readEnd);
    throw e;
  } finally {
    // The child has its copy (or there is no child): ours would hide the child's EOF.
    native().close(writeEnd);
  }

  let settled = false, failing = false, exited = false;
  let resolveReady!: () => void, rejectReady!: (e: ReplaceError) => void;
  const ready = new Promise<void>((res, rej) => { resolveReady = res; rejectReady = rej; });
  let failure: ReplaceError | undefined;
  let resolveExited!: (r: { code: number | null; signal: NodeJS.Signals | null }) => void;
  const exitedP = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => { resolveExited = res; });
  const reader = new Socket({ fd: readEnd, readable: true, writable: false });
  const timers: NodeJS.Timeout[] = [];
  const clearTimers = () => { for (const t of timers.splice(0)) clearTimeout(t); };
  const later = (ms: number, fn: () => void) => { timers.push(setTimeout(fn, ms)); };
  const pid = () => child.pid ?? -1;

  const finish = () => {
    clearTimers();
    reader.destroy();
    if (settled) return;
    settled = true;
    if (failure) rejectReady(failure);
    else resolveReady();
  };

  /** Stops the child (if alive) and rejects once it has exited. */
  const fail = (err: ReplaceError) => {
    if (settled || failing) return;
    failing = true;
    failure = err;
    clearTimers();
    reader.destroy();
    if (exited || child.pid === undefined) { finish(); return; }
    child.kill("SIGTERM");
    later(killGraceMs, () => child.kill("SIGKILL"));
  };

  reader.on("data", (chunk: Buffer) => {
    if (settled || failing || !chunk.includes(READY_BYTE)) return;
    if (child.exitCode !== null || child.signalCode !== null) return; // dead already: 'exit' decides
    finish();
  });
  reader.on("end", () => {
    if (settled || failing) return;
    // EOF without the byte: the child closed the pipe or died. Give its exit status a moment
    // to arrive, so the message can say which.
    later(EOF_EXIT_WAIT_MS, () => fail(new ReplaceError("closed", `${label} (pid ${pid()}) closed the readiness pipe without signaling: call signalParentTermination() once listening, and do not close fds you did not open; it was stopped. ${STDERR_HINT}`, { pid: pid() })));
  });
  reader.on("error", () => { /* EOF/EPIPE variants: 'end'/'exit' decide */ });

  child.on("error", (e: NodeJS.ErrnoException) => {
    if (child.pid === undefined) {
      resolveExited({ code: null, signal: null });
      fail(new ReplaceError("spawn", `${label} could not be started: spawn ${spec.file} failed with ${e.code ?? e.message}. This process keeps serving.`, { cause: e }));
    }
  });
  child.on("exit", (code, signal) => {
    exited = true;
    resolveExited({ code, signal });
    if (settled) return;
    if (failing) {
      // Our own SIGTERM/SIGKILL after a timeout or cancel: keep that reason, add the status.
      const f = failure!;
      failure = new ReplaceError(f.reason, f.message, { pid: pid(), exitCode: code, signal, cause: f.cause });
      finish();
      return;
    }
    const d = describeExit(label, pid(), code, signal);
    fail(new ReplaceError(d.reason, `${d.text}; ${STDERR_HINT}`, { pid: pid(), exitCode: code, signal }));
  });

  if (child.pid !== undefined) {
    later(timeoutMs, () => fail(new ReplaceError("timeout", `${label} (pid ${pid()}) did not signal readiness within ${timeoutMs} ms (signalParentTermination() never called, or it hangs); it was stopped with SIGTERM (SIGKILL after ${killGraceMs} ms). This process keeps serving.`, { pid: pid() })));
  }

  return {
    pid: child.pid ?? -1,
    child,
    ready,
    cancel(reason = "cancelled", message) {
      fail(new ReplaceError(reason, message ?? `${label} (pid ${pid()}) was cancelled: this process is shutting down; it was stopped.`, { pid: pid() }));
    },
    exited: exitedP,
    stop(signal = "SIGTERM", graceMs = killGraceMs) {
      if (!exited && child.pid !== undefined) {
        child.kill(signal);
        const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
        void exitedP.then(() => clearTimeout(t));
      }
      return exitedP;
    },
  };
}
