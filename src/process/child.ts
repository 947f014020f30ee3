/**
 * The successor's side of the handover: tell the process that started us that we are ready.
 *
 * The parent passes the write end of a pipe (`SDKIT_READY_FD`) and its pid (`SDKIT_PARENT_PID`).
 * Writing one byte means "ready"; closing the pipe without it, or dying, means "failed" and the
 * parent rolls back. A byte on a pipe (tableflip's design) cannot be lost or misdirected the way
 * a bare signal can, and EOF tells the parent about a crash without polling.
 *
 * The variables are read once, when sdkit is loaded: the fd is marked close-on-exec and the
 * variables leave `process.env` at once, so helpers the successor spawns while starting up
 * neither keep the pipe open (hiding a crash) nor mistake it for their own.
 * @module
 */
import { writeSync } from "node:fs";
import { native } from "../native/binding.js";
import { PARENT_PID_VAR, READY_FD_VAR } from "./child-env.js";

/** The byte that means "ready" (tableflip's 42). */
export const READY_BYTE = 0x2a;

interface Handshake { fd: number; parentPid: number }
interface State { handshake?: Handshake | undefined; signaled: boolean }

const KEY = Symbol.for("sdkit.process.child.v1");
const g = globalThis as unknown as Record<symbol, State | undefined>;

/** Reads and removes the handshake variables once per process; validates the fd. */
function state(): State {
  let s = g[KEY];
  if (s) return s;
  s = { signaled: false };
  g[KEY] = s;
  const fdText = process.env[READY_FD_VAR];
  const pidText = process.env[PARENT_PID_VAR];
  if (fdText === undefined && pidText === undefined) return s;
  delete process.env[READY_FD_VAR];
  delete process.env[PARENT_PID_VAR];
  if (!/^[0-9]+$/.test(fdText ?? "") || !/^[0-9]+$/.test(pidText ?? "")) return s;
  const fd = Number(fdText), parentPid = Number(pidText);
  // Variables leaked to a grandchild (through a program that does not strip them) name a
  // process that is not our parent, and an fd that is not the pipe: leave both alone.
  if (parentPid !== process.ppid || fd < 3) return s;
  const st = native().fstat(fd);
  const S_IFIFO = 0o010000, S_IFMT = 0o170000;
  if (typeof st === "number" || (st[0] & S_IFMT) !== S_IFIFO) return s;
  native().setCloexec(fd, true);
  s.handshake = { fd, parentPid };
  return s;
}

// Claim the pipe as soon as sdkit is loaded (see the module comment). Cheap and inert in every
// process that was not started by sdkit: it only reads two variables.
if (process.env[READY_FD_VAR] !== undefined || process.env[PARENT_PID_VAR] !== undefined) {
  try { state(); } catch { /* no addon on this platform: signalParentTermination() reports false */ }
}

/**
 * True while this process was started by {@link replaceProcess} or `startWorkers()` and has
 * not yet called {@link signalParentTermination}: it is a successor that is not ready, so it
 * must not act as the service's main process (no `STOPPING=1`, no replacement of its own).
 */
export function isPendingSuccessor(): boolean {
  const s = state();
  return s.handshake !== undefined && !s.signaled;
}

/**
 * Tells the process that started this one (`replaceProcess()` or `startWorkers()`) that this
 * process is ready: call it once every listener is up. The seed's `SignalParentTermination`.
 *
 * For `replaceProcess(signal)`, the old process then hands the service over (under systemd:
 * `MAINPID=` this pid, then a barrier), stops accepting, drains and exits: it raises `signal`
 * on itself, only after the handover, so its shutdown handler never runs before systemd knows
 * the new main pid. For a worker, the primary marks it ready and goes on with a rolling restart.
 *
 * Idempotent. Returns true when a waiting parent was told (the first call), false when this
 * process has no such parent (started by hand or by systemd, already signaled, or the parent
 * is gone: then this process simply carries on alone).
 */
export function signalParentTermination(): boolean {
  const s = state();
  const h = s.handshake;
  if (!h || s.signaled) return false;
  s.signaled = true;
  let ok = true;
  try {
    writeSync(h.fd, Buffer.from([READY_BYTE]));
  } catch {
    ok = false; // EPIPE: the parent closed its end (it gave up on us, or died)
  }
  native().close(h.fd);
  return ok;
}
