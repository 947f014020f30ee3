/**
 * Every error sdkit throws is an {@link SdError} with a stable `code`. The code statically and
 * permanently identifies the failure; the message may change and always says how to fix it.
 * One alphabetised table lists every code (docs/troubleshooting.md mirrors it).
 * @module
 */
import { constants as osConstants } from "node:os";
import { getSystemErrorName } from "node:util";

/** Every `ERR_SD_*` code with a one-line meaning. Codes never change once published. */
export const ERROR_CODES = {
  ERR_SD_ACTIVATION: "The socket-activation environment could not be applied (an inherited fd is not open).",
  ERR_SD_ADDRESS_IN_USE: "Another socket already owns the address.",
  ERR_SD_BAD_FD: "The file descriptor is not open.",
  ERR_SD_BARRIER_TIMEOUT: "The service manager did not acknowledge BARRIER=1 in time.",
  ERR_SD_CLI_USAGE: "The sdkit command line was used incorrectly.",
  ERR_SD_EXEC: "The program could not be executed (re-exec or successor start).",
  ERR_SD_INVALID_ARG: "An argument has the wrong type or value.",
  ERR_SD_INVALID_MESSAGE: "A notify message would be malformed (bad key, newline or NUL in a value, too large).",
  ERR_SD_LISTEN_FDNAMES: "LISTEN_FDNAMES does not have one name per passed fd.",
  ERR_SD_LISTEN_FDS: "LISTEN_FDS is not a positive decimal number.",
  ERR_SD_LISTEN_PID: "LISTEN_PID is not a decimal process id.",
  ERR_SD_LISTEN_PIDFDID: "LISTEN_PIDFDID is not a decimal pidfd inode id.",
  ERR_SD_LOCKED: "Another live process holds the lock of this Unix socket path.",
  ERR_SD_NATIVE: "The native addon could not be loaded.",
  ERR_SD_NOTIFY_SEND: "The notify datagram could not be delivered.",
  ERR_SD_NOTIFY_SOCKET: "NOTIFY_SOCKET holds an address sdkit cannot use.",
  ERR_SD_NOT_READY: "The operation needs the process to be ready (or a parent to signal) first.",
  ERR_SD_NOT_SOCKET: "The file descriptor or path is not a socket.",
  ERR_SD_NO_NOTIFY_SOCKET: "NOTIFY_SOCKET is not set: not running under a service manager.",
  ERR_SD_NO_SUCH_FD_NAME: "No inherited fd has that name and no address was given to create one.",
  ERR_SD_PERMISSION: "The operation was denied by file or socket permissions.",
  ERR_SD_REPLACE_FAILED: "The replacement process failed before it became ready.",
  ERR_SD_REPLACE_IN_PROGRESS: "A replacement is already running.",
  ERR_SD_REPLACE_TIMEOUT: "The replacement process did not become ready in time.",
  ERR_SD_SOCKET_CLOSED: "The socket was already closed.",
  ERR_SD_SYSCALL: "A system call failed.",
  ERR_SD_TIMEOUT: "A wait for another process (readiness, a message) timed out.",
  ERR_SD_TOO_MANY_FDS: "More file descriptors than one message can carry.",
  ERR_SD_UNLINK_REFUSED: "The path exists and is not a socket sdkit may remove.",
  ERR_SD_UNSUPPORTED: "The feature is not supported on this platform or Node.js version.",
  ERR_SD_WATCHDOG: "The watchdog settings in the environment are malformed.",
  ERR_SD_WOULD_BLOCK: "The peer is not reading fast enough (EAGAIN): back-pressure, nothing was sent.",
  ERR_SD_WRONG_KIND: "An inherited fd or an existing path is a different kind of file or socket than requested.",
} as const;

/** A stable sdkit error code. */
export type SdErrorCode = keyof typeof ERROR_CODES;

/** Extra, machine-readable context attached to an {@link SdError}. */
export interface SdErrorDetails {
  /** The failing system call, when one failed. */
  syscall?: string;
  /** Negative errno, as Node reports it in `err.errno`. */
  errno?: number;
  /** The errno's symbolic name (`"EADDRINUSE"`), when a system call failed. */
  sysCode?: string;
  /** The filesystem path or socket address involved. */
  path?: string;
  /** The fd involved. */
  fd?: number;
  /** The underlying error. */
  cause?: unknown;
}

/** Base class of every error sdkit throws. Check `err.code`, never the message. */
export class SdError extends Error {
  /** Stable code from {@link ERROR_CODES}. */
  readonly code: SdErrorCode;
  /** The failing system call, if any. */
  readonly syscall?: string;
  /** Negative errno of the failing system call, if any. */
  readonly errno?: number;
  /** Symbolic errno name (`"EBADF"`), if a system call failed. */
  readonly sysCode?: string;
  /** The path or address involved, if any. */
  readonly path?: string;
  /** The fd involved, if any. */
  readonly fd?: number;

  constructor(code: SdErrorCode, message: string, details: SdErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    if (details.syscall !== undefined) this.syscall = details.syscall;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.sysCode !== undefined) this.sysCode = details.sysCode;
    if (details.path !== undefined) this.path = details.path;
    if (details.fd !== undefined) this.fd = details.fd;
  }
}

/** Malformed `LISTEN_*` environment (the `sd_listen_fds` -EINVAL cases). */
export class ActivationError extends SdError {}

/** `NOTIFY_SOCKET` is unset: the process is not supervised (the seed's `ErrSdNotifyNoSocket`). */
export class NoNotifySocketError extends SdError {
  constructor(message = "NOTIFY_SOCKET is not set: this process was not started by a service manager that accepts notifications (use Type=notify, or run it under `sdkit run`).") {
    super("ERR_SD_NO_NOTIFY_SOCKET", message);
  }
}

/** Maps an errno to the most specific sdkit code. */
function codeForErrno(name: string): SdErrorCode {
  switch (name) {
    case "EADDRINUSE": return "ERR_SD_ADDRESS_IN_USE";
    case "EACCES": case "EPERM": return "ERR_SD_PERMISSION";
    case "EBADF": return "ERR_SD_BAD_FD";
    case "ENOTSOCK": return "ERR_SD_NOT_SOCKET";
    default: return "ERR_SD_SYSCALL";
  }
}

/** Builds an {@link SdError} from a native `-errno` result, in Node's "<syscall> <CODE> <detail>" style plus a hint. */
export function errnoError(ret: number, syscall: string, detail = "", hint = "", extra: SdErrorDetails = {}): SdError {
  let sysCode: string;
  try { sysCode = getSystemErrorName(ret); } catch { sysCode = `errno ${-ret}`; }
  // libuv has no name for some errnos (ENOEXEC: "Unknown system error -8"); the OS table has.
  if (sysCode.startsWith("Unknown")) {
    sysCode = Object.entries(osConstants.errno).find(([, v]) => v === -ret)?.[0] ?? `errno ${-ret}`;
  }
  const code = codeForErrno(sysCode);
  const msg = `${syscall} ${sysCode}${detail ? ` ${detail}` : ""}${hint ? `: ${hint}` : ""}`;
  return new SdError(code, msg, { ...extra, syscall, errno: ret, sysCode });
}
