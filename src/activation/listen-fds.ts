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
/**
 * libsystemd accepts up to INT_MAX - 3 and then fails on the first fd that is not open. sdkit
 * stops at the kernel's default fs.nr_open (2^20) instead: no process can have more fds open
 * at 3.. than that, and building a names array for 2^31 fds would abort the process (OOM)
 * rather than throw. The outcome is the same (an error); only the code differs.
 */
const MAX_FDS = 1 << 20;

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
/**
 * Canonical decimal only. libsystemd's safe_atoi/parse_pid use strtol base 0, which reads
 * "010" as octal 8; rejecting leading zeros means sdkit never silently counts differently.
 */
const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** pid_t is a 32-bit int and pids start at 1 (libsystemd's parse_pid returns -ERANGE otherwise). */
const PID_MAX = 2 ** 31 - 1;

/**
 * Parses the activation variables. "Not for us" (no `LISTEN_PID`, another pid, another pidfd)
 * is an empty result; malformed values throw {@link ActivationError}.
 */
export function parseListenFds(env: Env, opts: ParseOptions = {}): ListenFds {
  const count = parseListenCount(env, opts);
  return count === 0 ? NONE : { count, names: parseListenNames(env, count) };
}

/**
 * `sd_listen_fds`: the count alone (0 = not for us). Split from the names so the caller can
 * set FD_CLOEXEC on the fds before a names mismatch is reported, in libsystemd's order.
 */
export function parseListenCount(env: Env, opts: ParseOptions = {}): number {
  const pidText = env.get("LISTEN_PID");
  if (pidText === undefined || (pidText === "" && opts.relaxed)) {
    if (!opts.relaxed) return 0;
  } else {
    // An empty LISTEN_PID is malformed in strict mode: libsystemd's parse_pid("") fails.
    if (!DECIMAL.test(pidText) || Number(pidText) < 1 || Number(pidText) > PID_MAX) {
      throw new ActivationError("ERR_SD_LISTEN_PID", `LISTEN_PID=${JSON.stringify(pidText)} is not a process id: the supervisor must set it to the pid of the process it passes fds to.`);
    }
    if (Number(pidText) !== env.pid()) return 0; // the fds were meant for another process (e.g. our parent)
  }

  const pidfdText = env.get("LISTEN_PIDFDID");
  if (pidfdText !== undefined) {
    if (!DECIMAL.test(pidfdText) || BigInt(pidfdText) >= 2n ** 64n) {
      throw new ActivationError("ERR_SD_LISTEN_PIDFDID", `LISTEN_PIDFDID=${JSON.stringify(pidfdText)} is not a 64-bit decimal inode id.`);
    }
    if (opts.pidfdInode !== undefined && BigInt(pidfdText) !== opts.pidfdInode) return 0; // pid reused
  }

  const fdsText = env.get("LISTEN_FDS");
  if (fdsText === undefined) return 0;
  if (!DECIMAL.test(fdsText) || Number(fdsText) <= 0 || Number(fdsText) > MAX_FDS) {
    throw new ActivationError("ERR_SD_LISTEN_FDS", `LISTEN_FDS=${JSON.stringify(fdsText)} must be a positive decimal count (at most ${MAX_FDS}) of fds passed from fd 3 on.`);
  }
  return Number(fdsText);
}

/** The names of `count` (> 0) passed fds: `LISTEN_FDNAMES` split on ':', or `"unknown"` each. */
export function parseListenNames(env: Env, count: number): string[] {
  const namesText = env.get("LISTEN_FDNAMES");
  if (namesText === undefined) return new Array<string>(count).fill("unknown");
  const names = namesText.split(":"); // empty entries are kept, as libsystemd does
  if (names.length !== count) {
    throw new ActivationError("ERR_SD_LISTEN_FDNAMES", `LISTEN_FDNAMES has ${names.length} name(s) for LISTEN_FDS=${count} fd(s): give exactly one name per fd, separated by ':' (FileDescriptorName= in the socket unit, --fdname for systemd-socket-activate).`);
  }
  return names;
}
