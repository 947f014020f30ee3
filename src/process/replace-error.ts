/**
 * The typed failure of a replacement. Booleans-and-fields classification in execa's style: check
 * `reason` (and `code`), read `exitCode`/`signal` for the details; the message says what happened
 * and what to do.
 * @module
 */
import { SdError, type SdErrorCode } from "../errors.js";

/**
 * Why a successor did not take over:
 * - `"spawn"`: it could not be started at all (fork failed, no `/bin/sh`);
 * - `"exec"`: the shim could not execute the program (exit status 126/127: bad path or permissions);
 * - `"exit"`: it exited or was killed before signaling readiness;
 * - `"closed"`: it closed the readiness pipe without signaling;
 * - `"timeout"`: it did not signal within the timeout and was stopped;
 * - `"cancelled"`: this process began shutting down (or `stop()` was called) meanwhile;
 * - `"in-progress"`: another replacement was already running, or this process was already replaced;
 * - `"not-ready"`: this process is itself a successor that has not signaled its parent yet;
 * - `"handover"`: the service manager could not be told about the new main pid.
 */
export type ReplaceFailure = "spawn" | "exec" | "exit" | "closed" | "timeout" | "cancelled" | "in-progress" | "not-ready" | "handover";

/** Details attached to a {@link ReplaceError}. */
export interface ReplaceErrorDetails {
  pid?: number | undefined;
  exitCode?: number | null | undefined;
  signal?: NodeJS.Signals | null | undefined;
  cause?: unknown;
}

const CODES: Record<ReplaceFailure, SdErrorCode> = {
  spawn: "ERR_SD_REPLACE_FAILED",
  exec: "ERR_SD_REPLACE_FAILED",
  exit: "ERR_SD_REPLACE_FAILED",
  closed: "ERR_SD_REPLACE_FAILED",
  timeout: "ERR_SD_REPLACE_TIMEOUT",
  cancelled: "ERR_SD_REPLACE_FAILED",
  "in-progress": "ERR_SD_REPLACE_IN_PROGRESS",
  "not-ready": "ERR_SD_NOT_READY",
  handover: "ERR_SD_REPLACE_FAILED",
};

/**
 * A replacement (or worker start) failed. The old process is untouched and keeps serving; by
 * the time this error is delivered the failed successor has exited (it was stopped if needed).
 */
export class ReplaceError extends SdError {
  /** Which stage failed. */
  readonly reason: ReplaceFailure;
  /** The successor's pid, when it was started. */
  readonly pid: number | undefined;
  /** Its exit status, when it exited on its own. */
  readonly exitCode: number | null;
  /** The signal that ended it, if any (ours after a timeout, or a crash). */
  readonly signal: NodeJS.Signals | null;

  constructor(reason: ReplaceFailure, message: string, details: ReplaceErrorDetails = {}) {
    super(CODES[reason], message, details.cause === undefined ? {} : { cause: details.cause });
    this.reason = reason;
    this.pid = details.pid;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
  }
}
