/**
 * What to do with a file already at a Unix socket's path before binding a new socket there.
 * The kernel never removes a socket file, so a crashed daemon leaves one behind and the next
 * bind fails with EADDRINUSE; but blindly unlinking steals the address from a live owner.
 *
 * | policy  | nothing there | stale socket | live socket   | file / symlink / directory |
 * |---------|---------------|--------------|---------------|----------------------------|
 * | none    | create        | ADDRESS_IN_USE | ADDRESS_IN_USE | ADDRESS_IN_USE          |
 * | always  | create        | replace      | replace (steals it) | UNLINK_REFUSED       |
 * | socket  | create        | replace      | ADDRESS_IN_USE | UNLINK_REFUSED            |
 * | flock   | create        | replace      | LOCKED (owner holds the lock), else ADDRESS_IN_USE | UNLINK_REFUSED |
 *
 * Whatever the policy, sdkit only ever unlinks a socket: `lstat` decides (a symlink is never
 * followed), so a regular file, a symlink or a directory is never removed. sdkit never unlinks
 * on close either: the file must stay for a successor process or for systemd.
 * @module
 */
import { lstatSync, openSync, realpathSync, unlinkSync, type Stats } from "node:fs";
import { constants as fsc } from "node:fs";
import { constants as osc } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { SdError, errnoError } from "../errors.js";
import { K, native } from "../native/binding.js";
import { encodeUnixPath } from "../util/unix-path.js";

/**
 * How sdkit treats an existing file at a Unix socket path before it binds a new socket:
 * - `"none"`: never unlink; an existing file makes the bind fail (ERR_SD_ADDRESS_IN_USE).
 * - `"always"`: unlink an existing socket file, even one a live process still listens on.
 * - `"socket"`: unlink a socket file only when nobody listens on it (a connect probe is
 *   refused); a live one is ERR_SD_ADDRESS_IN_USE. The default.
 * - `"flock"`: take `flock(LOCK_EX|LOCK_NB)` on `<path>.lock` first; a held lock means a live
 *   owner (ERR_SD_LOCKED). Holding it, replace a stale socket file; a socket that still answers
 *   (an owner whose lock file was deleted or replaced, or one that never locks) is
 *   ERR_SD_ADDRESS_IN_USE, never stolen. The lock fd stays open with the socket and travels with
 *   it to a successor process or the FD store.
 *
 * Anything that is not a socket (regular file, symlink, directory) is never removed:
 * ERR_SD_UNLINK_REFUSED (`"none"` reports ERR_SD_ADDRESS_IN_USE from bind instead).
 */
export type UnixSocketUnlinkPolicy = "none" | "always" | "socket" | "flock";

const POLICIES: readonly UnixSocketUnlinkPolicy[] = ["none", "always", "socket", "flock"];
const KEY = Symbol.for("sdkit.unlinkPolicy.v1");
const g = globalThis as unknown as Record<symbol, UnixSocketUnlinkPolicy | undefined>;

/** Throws ERR_SD_INVALID_ARG unless `p` is a policy name. */
export function assertPolicy(p: unknown): asserts p is UnixSocketUnlinkPolicy {
  if (!POLICIES.includes(p as UnixSocketUnlinkPolicy)) {
    throw new SdError("ERR_SD_INVALID_ARG", `Unknown Unix socket unlink policy ${JSON.stringify(p)}: use one of ${POLICIES.map((x) => `"${x}"`).join(", ")}.`);
  }
}

/** Sets the process-wide default policy (the seed's `SetUnixSocketUnlinkPolicy`). Default `"socket"`. */
export function setUnixSocketUnlinkPolicy(policy: UnixSocketUnlinkPolicy): void {
  assertPolicy(policy);
  g[KEY] = policy;
}

/** The process-wide default policy. */
export function getUnixSocketUnlinkPolicy(): UnixSocketUnlinkPolicy {
  return g[KEY] ?? "socket";
}

/**
 * The absolute lock-file path for a socket path: `<real dir>/<name>.lock`. The directory is
 * resolved like the kernel's /proc/self/fd links, so an inherited lock fd pairs with its socket.
 */
export function lockPathFor(path: string): string {
  const abs = resolve(path);
  let dir = dirname(abs);
  try { dir = realpathSync(dir); } catch { /* a missing directory fails later, at open/bind */ }
  return join(dir, basename(abs) + ".lock");
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw errnoError((e as NodeJS.ErrnoException).errno ?? -1, "lstat", path, "", { path, cause: e });
  }
}

function kindOf(st: Stats): string {
  return st.isSymbolicLink() ? "a symbolic link" : st.isDirectory() ? "a directory" : st.isFile() ? "a regular file" : st.isFIFO() ? "a FIFO" : "not a socket";
}

/**
 * Whether something answers at a Unix socket path: a non-blocking connect of the same type.
 * ECONNREFUSED means no socket is bound there any more (stale file); ENOENT means it vanished.
 * Anything else (connected, backlog full, a socket of another type: EPROTOTYPE) counts as
 * live, so doubt never leads to an unlink.
 */
export function probeUnixPath(path: string, type: "stream" | "dgram"): { live: boolean; why: string } {
  const n = native();
  const c = K();
  const fd = n.socket(c.AF_UNIX!, (type === "stream" ? c.SOCK_STREAM! : c.SOCK_DGRAM!) | c.SOCK_NONBLOCK! | c.SOCK_CLOEXEC!, 0);
  if (fd < 0) throw errnoError(fd, "socket", path, "", { path });
  try {
    const r = n.connect(fd, { family: c.AF_UNIX!, path: encodeUnixPath(path) });
    if (r === -osc.errno.ECONNREFUSED || r === -osc.errno.ENOENT) return { live: false, why: r === -osc.errno.ENOENT ? "gone" : "connection refused" };
    return { live: true, why: r === 0 ? "a process accepted a connection" : `connect gave errno ${-r}` };
  } finally {
    n.close(fd);
  }
}

/** Opens and locks `<path>.lock` (O_NOFOLLOW, 0600). Returns the lock fd; ERR_SD_LOCKED if held. */
export function acquireLock(path: string): number {
  const lockPath = lockPathFor(path);
  let fd: number;
  try {
    fd = openSync(lockPath, fsc.O_RDWR | fsc.O_CREAT | fsc.O_NOFOLLOW | K().O_CLOEXEC!, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === "ELOOP" ? "the lock file is a symbolic link; sdkit never follows it: remove it" : "";
    throw errnoError(err.errno ?? -1, "open", lockPath, hint, { path: lockPath, cause: e });
  }
  const c = K();
  const r = native().flock(fd, c.LOCK_EX! | c.LOCK_NB!);
  if (r < 0) {
    native().close(fd);
    if (r === -osc.errno.EWOULDBLOCK) {
      throw new SdError("ERR_SD_LOCKED", `${path} is owned by another live process (it holds the lock ${lockPath}): stop that process, or inherit the socket from it instead of creating it.`, { path, syscall: "flock", errno: r, sysCode: "EWOULDBLOCK" });
    }
    throw errnoError(r, "flock", lockPath, "", { path: lockPath });
  }
  return fd;
}

/**
 * Applies `policy` to `path` before a bind. Returns the lock fd under `"flock"` (the caller
 * owns it), else undefined. Abstract names have no file and are left alone.
 */
export function prepareUnixPath(path: string, policy: UnixSocketUnlinkPolicy, type: "stream" | "dgram"): number | undefined {
  assertPolicy(policy);
  if (path.startsWith("@")) return undefined;
  const lockFd = policy === "flock" ? acquireLock(path) : undefined;
  try {
    const st = lstatOrUndefined(path);
    if (!st || policy === "none") return lockFd;
    if (!st.isSocket()) {
      throw new SdError("ERR_SD_UNLINK_REFUSED", `${path} exists and is ${kindOf(st)}, not a socket: sdkit only ever removes socket files. Remove it yourself or choose another path.`, { path });
    }
    // Under "flock" the lock serialises starters, and the probe still guards the owner whose
    // lock file someone deleted or replaced: doubt never leads to an unlink.
    if (policy === "socket" || policy === "flock") {
      const probe = probeUnixPath(path, type);
      if (probe.live) {
        throw new SdError("ERR_SD_ADDRESS_IN_USE", `${path} is in use by a live socket (${probe.why}): stop its owner, inherit the socket, or use unlinkPolicy "always" to take the path over.`, { path });
      }
    }
    try { unlinkSync(path); } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== "ENOENT") throw errnoError(err.errno ?? -1, "unlink", path, "could not remove the stale socket file", { path, cause: e });
    }
    return lockFd;
  } catch (e) {
    if (lockFd !== undefined) native().close(lockFd);
    throw e;
  }
}
