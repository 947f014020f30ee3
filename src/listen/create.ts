/**
 * Native socket creation: socket → setsockopt → bind → [mode] → listen, each step through the
 * addon, so that sdkit (not libuv) decides every option. Node then adopts the finished fd
 * (`server.listen({fd})`, `dgram.bind({fd})`). Two reasons to not let Node create sockets:
 * Node 20 ignores `reusePort`, and libuv unlinks the path of a Unix socket it bound itself when
 * the server closes, which breaks handing the socket to a successor. Every function here
 * closes its fd on failure: an error never leaks a descriptor.
 * @module
 */
import { chmodSync } from "node:fs";
import { constants as os } from "node:os";
import { SdError, errnoError } from "../errors.js";
import { K, native } from "../native/binding.js";
import { encodeUnixPath } from "../util/unix-path.js";

/** Node's default listen backlog (`net.Server.listen`), used when none is given. */
export const DEFAULT_BACKLOG = 511;

/** What to create for an IP socket. */
export interface InetSpec {
  /** AF_INET or AF_INET6 (numeric, from the addon's constants). */
  family: number;
  /** "stream" = TCP listener, "dgram" = bound UDP socket. */
  type: "stream" | "dgram";
  /** A numeric IP address (already resolved). */
  host: string;
  port: number;
  /** IPv6 only: set IPV6_V6ONLY (false = dual-stack, explicitly, whatever the sysctl default). */
  ipv6Only?: boolean;
  /** Set SO_REUSEPORT before bind. */
  reusePort?: boolean;
  /** Stream only: the listen backlog. */
  backlog?: number;
}

/** What to create for a Unix socket. */
export interface UnixSpec {
  /** Filesystem path or `@abstract` name. */
  path: string;
  type: "stream" | "dgram";
  /** Exact permission bits of the socket file (filesystem paths only). */
  mode?: number;
  /** Stream only: the listen backlog. */
  backlog?: number;
}

/** `127.0.0.1:80` / `[::1]:80`, for messages. */
export function formatInet(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Runs `fn(fd)`; on any throw closes `fd` and rethrows. */
function owning<T>(fd: number, fn: (fd: number) => T): T {
  try {
    return fn(fd);
  } catch (e) {
    native().close(fd);
    throw e;
  }
}

function hintFor(errno: number, what: string): string {
  const e = -errno;
  if (e === os.errno.EADDRINUSE) return `another socket already uses ${what}: stop it, pick another address, or inherit the socket from systemd`;
  if (e === os.errno.EACCES || e === os.errno.EPERM) return `not permitted to bind ${what} (ports below 1024 need CAP_NET_BIND_SERVICE; Unix paths need write access to the directory)`;
  if (e === os.errno.EADDRNOTAVAIL) return `${what} is not an address of this host`;
  return "";
}

/** Creates a bound (dgram) or listening (stream) IP socket; returns the fd (CLOEXEC, blocking). */
export function createInetSocket(spec: InetSpec): number {
  const n = native();
  const c = K();
  const what = formatInet(spec.host, spec.port);
  const sockType = (spec.type === "stream" ? c.SOCK_STREAM! : c.SOCK_DGRAM!) | c.SOCK_CLOEXEC!;
  const fd = n.socket(spec.family, sockType, 0);
  if (fd < 0) throw errnoError(fd, "socket", what, spec.family === c.AF_INET6 ? "IPv6 may be disabled on this host" : "", { path: what });
  return owning(fd, () => {
    const opt = (level: number, name: number, val: number, label: string) => {
      const r = n.setsockopt(fd, level, name, val);
      if (r < 0) throw errnoError(r, "setsockopt", `${label} on ${what}`, "", { path: what });
    };
    // Like libuv: lets a restarted daemon rebind while old connections sit in TIME_WAIT.
    if (spec.type === "stream") opt(c.SOL_SOCKET!, c.SO_REUSEADDR!, 1, "SO_REUSEADDR");
    // Always explicit: the distro's net.ipv6.bindv6only default must not decide dual-stack.
    if (spec.family === c.AF_INET6) opt(c.IPPROTO_IPV6!, c.IPV6_V6ONLY!, spec.ipv6Only ? 1 : 0, "IPV6_V6ONLY");
    if (spec.reusePort) opt(c.SOL_SOCKET!, c.SO_REUSEPORT!, 1, "SO_REUSEPORT");
    const b = n.bind(fd, { family: spec.family, address: spec.host, port: spec.port });
    if (b < 0) throw errnoError(b, "bind", what, hintFor(b, what), { path: what });
    if (spec.type === "stream") {
      const l = n.listen(fd, spec.backlog ?? DEFAULT_BACKLOG);
      if (l < 0) throw errnoError(l, "listen", what, hintFor(l, what), { path: what });
    }
    return fd;
  });
}

/**
 * Creates a bound (dgram, non-blocking) or listening (stream) Unix socket; returns the fd.
 * `mode` is applied before the socket is reachable: for a stream socket with chmod between
 * bind and listen (connects fail until listen), for a datagram socket with a umask around bind
 * (it can receive as soon as it is bound). Abstract names are exact-length, never padded.
 * Existing files are not touched here: the unlink policy runs before this.
 */
export function createUnixSocket(spec: UnixSpec): number {
  const n = native();
  const c = K();
  const abstract = spec.path.startsWith("@");
  if (abstract && spec.mode !== undefined) {
    throw new SdError("ERR_SD_INVALID_ARG", `mode has no meaning for the abstract socket ${spec.path}: abstract names have no file; drop the mode option or use a filesystem path.`, { path: spec.path });
  }
  const addr = { family: c.AF_UNIX!, path: encodeUnixPath(spec.path) };
  const dgram = spec.type === "dgram";
  const fd = n.socket(c.AF_UNIX!, (dgram ? c.SOCK_DGRAM! | c.SOCK_NONBLOCK! : c.SOCK_STREAM!) | c.SOCK_CLOEXEC!, 0);
  if (fd < 0) throw errnoError(fd, "socket", spec.path, "", { path: spec.path });
  return owning(fd, () => {
    let b: number;
    if (dgram && spec.mode !== undefined) {
      // umask is process-wide; it is restored before any other JS runs (this is synchronous).
      const old = n.umask(~spec.mode & 0o777);
      try { b = n.bind(fd, addr); } finally { n.umask(old); }
    } else {
      b = n.bind(fd, addr);
    }
    if (b < 0) throw errnoError(b, "bind", spec.path, hintFor(b, spec.path), { path: spec.path });
    if (!dgram) {
      if (spec.mode !== undefined && !abstract) {
        try { chmodSync(spec.path, spec.mode); } catch (e) {
          throw errnoError((e as NodeJS.ErrnoException).errno ?? -1, "chmod", spec.path, "", { path: spec.path, cause: e });
        }
      }
      const l = n.listen(fd, spec.backlog ?? DEFAULT_BACKLOG);
      if (l < 0) throw errnoError(l, "listen", spec.path, "", { path: spec.path });
    }
    return fd;
  });
}
