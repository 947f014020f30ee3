/**
 * One function per notify state, each sending a single message (so, e.g., `RELOADING=1` and its
 * `MONOTONIC_USEC=` always arrive together, as `Type=notify-reload` requires). Each takes the
 * same options as {@link notify}.
 * @module
 */
import { SdError } from "../errors.js";
import { stopWatchdog } from "../watchdog/pinger.js";
import { notify, type NotifyOptions } from "./notify.js";
import { assertFdStoreName, type NotifyValue } from "./message.js";
import { signalParentTermination } from "../process/child.js";

type Pairs = [string, NotifyValue][];

/** CLOCK_MONOTONIC in microseconds, the clock the manager compares `MONOTONIC_USEC=` against. */
export function monotonicUsec(): bigint {
  // process.hrtime is libuv's uv_hrtime: clock_gettime(CLOCK_MONOTONIC) on Linux.
  return process.hrtime.bigint() / 1000n;
}

function withStatus(pairs: Pairs, text: string | undefined): Pairs {
  if (text !== undefined) pairs.push(["STATUS", text]);
  return pairs;
}

function nonNegativeInteger(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new SdError("ERR_SD_INVALID_ARG", `${what} must be a non-negative integer, got ${String(n)}.`);
  return n;
}

/** `READY=1` (with `STATUS=` when given): start-up finished, or a reload completed. */
export async function ready(statusText?: string, opts?: NotifyOptions): Promise<void> {
  // A successor started by replaceProcess/startProcess is not the service's main process yet,
  // so its READY=1 would be rejected (NotifyAccess=main). Its readiness goes to the parent
  // instead, which hands MAINPID= over; the status text is not sent in that case.
  if (signalParentTermination()) return;
  return notify(withStatus([["READY", "1"]], statusText), opts);
}

/**
 * `RELOADING=1` with `MONOTONIC_USEC=` in the same message (required by `Type=notify-reload`,
 * harmless before v253), plus `STATUS=` when given. Send {@link ready} when the reload is done.
 */
export async function reloading(statusText?: string, opts?: NotifyOptions): Promise<void> {
  return notify(withStatus([["RELOADING", "1"], ["MONOTONIC_USEC", monotonicUsec()]], statusText), opts);
}

/** `STOPPING=1` (with `STATUS=` when given): shutting down. Also stops the watchdog pinger. */
export async function stopping(statusText?: string, opts?: NotifyOptions): Promise<void> {
  try {
    await notify(withStatus([["STOPPING", "1"]], statusText), opts);
  } finally {
    stopWatchdog(); // also when the message could not be sent: the process is going away
  }
}

/** `STATUS=text`: a one-line status shown by `systemctl status`. */
export async function status(text: string, opts?: NotifyOptions): Promise<void> {
  return notify([["STATUS", text]], opts);
}

/**
 * `MAINPID=pid`: another process is now the service's main process (e.g. after a
 * self-replacement). With `NotifyAccess=main` only the current main process may send it;
 * follow it with `barrier()` before the old main process exits.
 */
export async function mainPid(pid: number, opts?: NotifyOptions): Promise<void> {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new SdError("ERR_SD_INVALID_ARG", `mainPid(): pid must be a positive integer, got ${String(pid)}.`);
  return notify([["MAINPID", pid]], opts);
}

/** `EXTEND_TIMEOUT_USEC=`: the current start/reload/stop timeout is extended to `ms` from now. Re-send before it elapses. */
export async function extendTimeout(ms: number, opts?: NotifyOptions): Promise<void> {
  if (!Number.isFinite(ms) || ms < 0) throw new SdError("ERR_SD_INVALID_ARG", `extendTimeout(): ms must be a finite number >= 0, got ${String(ms)}.`);
  return notify([["EXTEND_TIMEOUT_USEC", Math.round(ms * 1000)]], opts);
}

/** `ERRNO=n`: the errno-style reason the service failed. */
export async function errno(n: number, opts?: NotifyOptions): Promise<void> {
  return notify([["ERRNO", nonNegativeInteger("errno()", n)]], opts);
}

/** `WATCHDOG=trigger`: asks the manager to act as if the watchdog timed out (v243+). */
export async function watchdogTrigger(opts?: NotifyOptions): Promise<void> {
  return notify([["WATCHDOG", "trigger"]], opts);
}

/** `FDSTOREREMOVE=1` + `FDNAME=name`: drops every fd stored under `name` from the manager's FD store. */
export async function fdStoreRemove(name: string, opts?: NotifyOptions): Promise<void> {
  assertFdStoreName(name);
  return notify([["FDSTOREREMOVE", "1"], ["FDNAME", name]], opts);
}

/** The states of the seed's `NotifyStatus`. */
export type NotifyStatusKind = "ready" | "reloading" | "stopping" | "watchdog" | "none";

/**
 * The seed's `NotifyStatus(status, msg)`: one state assignment (`READY=1`, `RELOADING=1` with
 * `MONOTONIC_USEC=`, `STOPPING=1`, `WATCHDOG=1`, or none) plus `STATUS=message` when given.
 */
export async function notifyStatus(kind: NotifyStatusKind, message?: string, opts?: NotifyOptions): Promise<void> {
  switch (kind) {
    case "ready": return ready(message, opts);
    case "reloading": return reloading(message, opts);
    case "stopping": return stopping(message, opts);
    case "watchdog": return notify(withStatus([["WATCHDOG", "1"]], message), opts);
    case "none":
      if (message === undefined) throw new SdError("ERR_SD_INVALID_ARG", 'notifyStatus("none") needs a message: it only sends STATUS=.');
      return status(message, opts);
    default: throw new SdError("ERR_SD_INVALID_ARG", `notifyStatus(): unknown status ${JSON.stringify(kind)}; use "ready", "reloading", "stopping", "watchdog" or "none".`);
  }
}
