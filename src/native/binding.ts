/**
 * Loads the native addon (a prebuild when one matches, else the local build) and gives it
 * types. Every native function returns `>= 0` or `-errno`; {@link check} turns the latter into
 * an {@link SdError}. On Linux the addon loads with this module (see the end of the file); a
 * failure to load, like any use on another system, is reported by the first function that needs
 * it, with a clear message — importing sdkit itself never throws.
 * @module
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { SdError, errnoError, type SdErrorDetails } from "../errors.js";

/** A decoded socket address: inet (`address`, `port`) or unix (`path`: raw sun_path bytes). */
export interface RawAddr { family: number; address?: string; port?: number; path?: Buffer }

/** One received datagram. */
export interface RecvResult {
  data: Buffer; length: number; flags: number; fds: number[];
  pid: number; uid: number; gid: number; from: RawAddr;
}

/** The addon's exports, one per syscall. */
export interface Native {
  close(fd: number): number;
  dupCloexec(fd: number, minFd: number): number;
  setCloexec(fd: number, on: boolean): number;
  /** dup2: `newFd` becomes a copy of `fd`, without FD_CLOEXEC. Returns newFd or -errno. */
  dup2(fd: number, newFd: number): number;
  /** `status` 0: F_GETFD, 1: F_GETFL. */
  getFlags(fd: number, status: 0 | 1): number;
  setFl(fd: number, flags: number): number;
  /** `[mode, dev, ino]` or -errno. */
  fstat(fd: number): [number, number, number] | number;
  /** fstat into `out` (length ≥ 3): `[mode, dev, ino]`; returns 0 or -errno. */
  fstat(fd: number, out: Float64Array): number;
  flock(fd: number, op: number): number;
  pipe2(flags: number): [number, number] | number;
  mkfifo(path: string, mode: number): number;
  umask(mask: number): number;
  /** `[inode, statfs f_type]` of a pidfd for `pid`, or -errno. */
  pidfdInode(pid: number): [bigint, number] | number;
  socket(domain: number, type: number, proto: number): number;
  socketpair(domain: number, type: number): [number, number] | number;
  getsockopt(fd: number, level: number, opt: number): number;
  setsockopt(fd: number, level: number, opt: number, val: number): number;
  bind(fd: number, addr: RawAddr): number;
  connect(fd: number, addr: RawAddr): number;
  listen(fd: number, backlog: number): number;
  getsockname(fd: number): RawAddr | number;
  getpeername(fd: number): RawAddr | number;
  sendmsg(fd: number, data: Buffer, to: RawAddr | null, fds: readonly number[], cred: [number, number, number] | null): number;
  /**
   * fstat, and for sockets SO_TYPE, SO_ACCEPTCONN, SO_REUSEPORT (0 unless asked) and
   * getsockname, in one call. Numbers go into `out` (length ≥ 8): `[mode, dev, ino]`, and for a
   * socket `[…, type, acceptconn, reuseport, family | -errno, port]`. Returns -errno (fstat
   * failed), 0 (not a socket), the address text (inet), the path bytes (AF_UNIX) or 1 (neither).
   */
  fdInfo(fd: number, withReusePort: boolean, out: Float64Array): number | string | Buffer;
  /** socket + sendmsg(to) + close in one call; a string is sent as UTF-8 (at most 4096 bytes). */
  sendmsgOnce(to: RawAddr, data: string | Buffer, fds: readonly number[] | null): number;
  recvmsg(fd: number, cap: number): RecvResult | number;
  pollStart(fd: number, events: number, cb: (status: number, events: number) => void): object | number;
  pollUpdate(handle: object, events: number): number;
  pollStop(handle: object): number;
  pollRef(handle: object, on: boolean): number;
  execve(path: string, argv: string[], envp: string[]): number;
  constants: Record<string, number>;
}

let loaded: Native | undefined;

/**
 * The package root, where node-gyp-build finds `build/` and `prebuilds/`: the nearest directory
 * with a package.json above this file, which sits at `<root>/{src,dist}/native/` or, bundled, at
 * `<root>/dist/`.
 */
const packageRoot = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 4; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return join(here, "..", "..");
})();

/** Returns the addon, loading it on first use. */
export function native(): Native {
  if (loaded) return loaded;
  if (process.platform !== "linux") {
    throw new SdError("ERR_SD_UNSUPPORTED", `sdkit supports Linux only (this is ${process.platform}): systemd socket activation, sd_notify and fd passing are Linux protocols.`);
  }
  try {
    const require = createRequire(import.meta.url);
    const load = require("node-gyp-build") as (dir: string) => Native;
    loaded = load(packageRoot);
  } catch (cause) {
    throw new SdError("ERR_SD_NATIVE", `sdkit's native addon could not be loaded from ${packageRoot}: reinstall the package (a linux-x64 prebuild ships with it; elsewhere \`npm rebuild sdkit\` needs python3, make and a C compiler).`, { cause });
  }
  return loaded;
}

/** Shorthand for the addon's constants (AF_UNIX, SO_TYPE, ...). */
export function K(): Record<string, number> { return native().constants; }

/** Returns `ret` when it is `>= 0`, otherwise throws the matching {@link SdError}. */
export function check(ret: number, syscall: string, detail = "", hint = "", extra: SdErrorDetails = {}): number {
  if (ret >= 0) return ret;
  throw errnoError(ret, syscall, detail, hint, extra);
}

/** Unwraps a native result that is an object/array on success or -errno on failure. */
export function checkValue<T>(ret: T | number, syscall: string, detail = "", hint = "", extra: SdErrorDetails = {}): T {
  if (typeof ret === "number") throw errnoError(ret, syscall, detail, hint, extra);
  return ret;
}

// Load the addon with the module on Linux: every use of sdkit needs it, and its cost belongs to
// `import`, not to the first listener or notification. A failure is reported at first use.
if (process.platform === "linux") {
  try { native(); } catch { /* thrown again, with its explanation, by the first native() call */ }
}
