/**
 * The pure half of `sd_listen_fds_with_names`: reads `LISTEN_PID`, `LISTEN_PIDFDID`,
 * `LISTEN_FDS` and `LISTEN_FDNAMES` from an {@link Env} and decides, in libsystemd's order,
 * whether fds were passed to this process and under which names. No side effects.
 * @module
 */
import { ActivationError } from "../errors.js";
import type { Env } from "../env.js";

/** First inherited fd (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;
/** The variables of the activation protocol; all are removed after parsing. */
export const LISTEN_VARS = ["LISTEN_PID", "LISTEN_PIDFDID", "LISTEN_FDS", "LISTEN_FDNAMES"] as const;
/** libsystemd rejects counts that would overflow an int past fd 3. */
const MAX_FDS = 2147483647 - LISTEN_FDS_START;

/** How strictly to read the environment. */
export interface ParseOptions {
  /**
   * Accept fds when `LISTEN_PID` is missing (dev tools like systemfd's `--no-pid`).
   * Off by default: without `LISTEN_PID` the fds may belong to another process.
   */
  relaxed?: boolean;
  /** The inode id of this process's pidfd, when the kernel has pidfs; undefined skips the check. */
  pidfdInode?: bigint;
}

/** The result: how many fds start at 3, and their names (`"unknown"` when none were given). */
export interface ListenFds { count: number; names: string[] }

const NONE: ListenFds = Object.freeze({ count: 0, names: Object.freeze([]) as unknown as string[] });
const DECIMAL = /^[0-9]+$/;

/**
 * Parses the activation variables. "Not for us" (no `LISTEN_PID`, another pid, another pidfd)
 * is an empty result; malformed values throw {@link ActivationError}.
 */
export function parseListenFds(env: Env, opts: ParseOptions = {}): ListenFds {
  const pidText = env.get("LISTEN_PID");
  if (pidText === undefined || pidText === "") {
    if (!opts.relaxed) return NONE;
  } else {
    if (!DECIMAL.test(pidText) || Number(pidText) > 2 ** 31) {
      throw new ActivationError("ERR_SD_LISTEN_PID", `LISTEN_PID=${JSON.stringify(pidText)} is not a process id: the supervisor must set it to the pid of the process it passes fds to.`);
    }
    if (Number(pidText) !== env.pid()) return NONE; // the fds were meant for another process (e.g. our parent)
  }

  const pidfdText = env.get("LISTEN_PIDFDID");
  if (pidfdText !== undefined) {
    if (!DECIMAL.test(pidfdText) || BigInt(pidfdText) >= 2n ** 64n) {
      throw new ActivationError("ERR_SD_LISTEN_PIDFDID", `LISTEN_PIDFDID=${JSON.stringify(pidfdText)} is not a 64-bit decimal inode id.`);
    }
    if (opts.pidfdInode !== undefined && BigInt(pidfdText) !== opts.pidfdInode) return NONE; // pid reused
  }

  const fdsText = env.get("LISTEN_FDS");
  if (fdsText === undefined) return NONE;
  if (!DECIMAL.test(fdsText) || Number(fdsText) <= 0 || Number(fdsText) > MAX_FDS) {
    throw new ActivationError("ERR_SD_LISTEN_FDS", `LISTEN_FDS=${JSON.stringify(fdsText)} must be a positive decimal count of fds passed from fd 3 on.`);
  }
  const count = Number(fdsText);

  const namesText = env.get("LISTEN_FDNAMES");
  let names: string[];
  if (namesText === undefined) {
    names = new Array<string>(count).fill("unknown");
  } else {
    names = namesText.split(":"); // empty entries are kept, as libsystemd does
    if (names.length !== count) {
      throw new ActivationError("ERR_SD_LISTEN_FDNAMES", `LISTEN_FDNAMES has ${names.length} name(s) for LISTEN_FDS=${count} fd(s): give exactly one name per fd, separated by ':' (FileDescriptorName= in the socket unit, --fdname for systemd-socket-activate).`);
    }
  }
  return { count, names };
}
