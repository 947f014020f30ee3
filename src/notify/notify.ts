/**
 * `notify()`: validate, build, send. The message is validated before anything else (so a bad
 * message fails the same way with or without a service manager), the environment is read at
 * call time, and the send itself is one non-blocking `sendmsg` unless the receiver is full.
 * @module
 */
import { processEnv, type Env } from "../env.js";
import { native } from "../native/binding.js";
import { SdError } from "../errors.js";
import { defaultPool } from "../registry/default.js";
import { retimeWatchdog, stopWatchdog } from "../watchdog/pinger.js";
import { notifyAddress, unsetNotifyEnv } from "./env.js";
import { fdStoreMessages, type FdStoreEntry } from "./fdstore.js";
import { encodeAssignments, plainMessage, toAssignments, type NotifyState } from "./message.js";
import { sendMessages, type OutMessage } from "./transport.js";

/** Options of {@link notify} and the helpers built on it. */
export interface NotifyOptions {
  /**
   * Remove `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the environment afterwards
   * (even when sending fails), so child processes do not notify in this service's name.
   * @default false
   */
  unsetEnv?: boolean;
  /**
   * Also push fds to the manager's FD store (`FDSTORE=1`, one message per name with `FDNAME=`,
   * `FDPOLL=0` for non-sockets, sent before the state): `true` for every active fd of the
   * registry (`exportFd`), lock files included under their reserved name; or an explicit list.
   * Needs `FileDescriptorStoreMax=` on the unit.
   * @default false
   */
  fds?: boolean | readonly FdStoreEntry[];
  /**
   * Send on behalf of this pid (`sd_pid_notify`), e.g. for a supervisor reporting for its
   * child. Falls back to the real credentials when the kernel refuses, like libsystemd.
   * @default process.pid
   */
  pid?: number;
  /**
   * How long to wait, in total, for room when the receiver's queue is full before rejecting
   * with `ERR_SD_WOULD_BLOCK`. 0 rejects at once. The event loop is never blocked.
   * @default 5000
   */
  waitMs?: number;
  /** The environment to read `NOTIFY_SOCKET` from. @default the process environment */
  env?: Env;
}

/** Default of {@link NotifyOptions.waitMs}: the time systemd-notify gives a barrier. */
export const DEFAULT_WAIT_MS = 5000;

function fdEntries(fds: NotifyOptions["fds"]): readonly FdStoreEntry[] {
  if (fds === undefined || fds === false) return [];
  if (fds === true) return defaultPool().handoverFds();
  if (!Array.isArray(fds)) throw new SdError("ERR_SD_INVALID_ARG", "notify(): `fds` is true, false or an array of { name, fd }.");
  return fds;
}

/** Side effects of what was sent: the pinger follows STOPPING=1 and runtime WATCHDOG_USEC=. */
function afterSend(assignments: readonly (readonly [string, string])[]): void {
  for (const [key, value] of assignments) {
    if (key === "STOPPING" && value === "1") stopWatchdog();
    else if (key === "WATCHDOG_USEC" && /^[0-9]+$/.test(value)) retimeWatchdog(BigInt(value));
  }
}

/**
 * Sends `state` to the service manager (`sd_notify`). `state` is a message
 * (`"READY=1\nSTATUS=up"`), an object of assignments (`{ READY: 1, STATUS: "up" }`) or
 * `[key, value]` pairs. Rejects with `ERR_SD_INVALID_MESSAGE` for a message the manager would
 * misread, {@link NoNotifySocketError} when `NOTIFY_SOCKET` is unset, `ERR_SD_NOTIFY_SOCKET` for
 * an unusable address, `ERR_SD_NOTIFY_SEND` when delivery fails and `ERR_SD_WOULD_BLOCK` when
 * the receiver stays full for `waitMs`.
 */
export async function notify(state: NotifyState, opts: NotifyOptions = {}): Promise<void> {
  const env = opts.env ?? processEnv;
  try {
    if (!sentPlain(state, opts, env)) await sendGeneral(state, opts, env);
  } finally {
    if (opts.unsetEnv) unsetNotifyEnv(env);
  }
}

/**
 * The common case in as few steps as possible: a plain string message (see `plainMessage`)
 * without fds or pid, sent in one native call. A notification usually follows a quiet spell,
 * when every extra step runs with cold caches; this path is what makes sdkit as quick as
 * libsystemd there. Returns false whenever anything is not simple or the send did not go
 * through: the general path then does it all again and explains any failure (a datagram goes
 * out whole or not at all, so nothing is sent twice).
 */
function sentPlain(state: NotifyState, opts: NotifyOptions, env: Env): boolean {
  if (typeof state !== "string" || (opts.fds !== undefined && opts.fds !== false) || opts.pid !== undefined) return false;
  if (opts.waitMs !== undefined && !(opts.waitMs >= 0)) return false;
  const text = plainMessage(state);
  return text !== null && native().sendmsgOnce(notifyAddress(env).addr, text, null) >= 0;
}

async function sendGeneral(state: NotifyState, opts: NotifyOptions, env: Env): Promise<void> {
  const assignments = toAssignments(state);
  if (assignments.some(([k]) => k === "BARRIER")) {
    throw new SdError("ERR_SD_INVALID_MESSAGE", "BARRIER=1 must travel alone with a pipe fd: use barrier() instead of notify().");
  }
  const messages: OutMessage[] = fdStoreMessages(fdEntries(opts.fds));
  if (assignments.length > 0) messages.push({ data: encodeAssignments(assignments), fds: [] });
  else if (opts.fds === undefined || opts.fds === false) throw new SdError("ERR_SD_INVALID_MESSAGE", "notify message is empty: give at least one KEY=VALUE assignment.");
  if (opts.pid !== undefined && !(Number.isSafeInteger(opts.pid) && opts.pid > 0)) throw new SdError("ERR_SD_INVALID_ARG", `notify(): pid must be a positive integer, got ${String(opts.pid)}.`);
  const address = notifyAddress(env);
  const waitMs = opts.waitMs ?? DEFAULT_WAIT_MS;
  if (!(waitMs >= 0)) throw new SdError("ERR_SD_INVALID_ARG", `notify(): waitMs must be a number >= 0, got ${String(waitMs)}.`);
  await sendMessages(address, messages, waitMs, opts.pid === undefined ? {} : { pid: opts.pid });
  afterSend(assignments);
}
