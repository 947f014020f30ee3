/**
 * What an fd is, read with fstat/getsockopt/getsockname. Shared by the file tests and by the
 * "wrong kind" error messages. Never throws: a closed fd is reported as `{ kind: "closed" }`.
 * @module
 */
import { native, K } from "../native/binding.js";
import { decodeUnixPath } from "../util/unix-path.js";

/** A description of an fd. */
export interface FdInfo {
  kind: "closed" | "socket" | "fifo" | "file" | "chardev" | "dir" | "other";
  dev?: number;
  ino?: number;
  /** Socket only: AF_* family, SOCK_* type, SO_ACCEPTCONN, SO_REUSEPORT. */
  family?: number;
  type?: number;
  listening?: boolean;
  reusePort?: boolean;
  /** Socket only: local address (inet) or path (`@name` abstract, `""` unnamed). */
  address?: string;
  port?: number;
  path?: string;
}

/** Reads what `fd` is. */
export function inspectFd(fd: number): FdInfo {
  return readFdInfo(fd, true);
}

/**
 * {@link inspectFd} without `reusePort`, for the file tests that do not ask about it: a daemon
 * adopting hundreds of sockets pays one syscall (~1.5 µs on a VM) per fd per question.
 */
export function inspectFdLean(fd: number): FdInfo {
  return readFdInfo(fd, false);
}

/**
 * The current {@link withInspectMemo} scope: active, and the last fd inspected in it (a step
 * asks about one fd at a time: the ownership check, then each file test).
 */
let memoActive = false;
let memoFd = -1;
let memoInfo: FdInfo | undefined;

/**
 * Runs `fn` with the fd under test inspected once: for a step that asks several questions about
 * the same fd synchronously (the registry's ownership check, then each file test), where nothing
 * can change the fd in between and each answer costs syscalls.
 */
export function withInspectMemo<T>(fn: () => T): T {
  if (memoActive) return fn();
  memoActive = true;
  try {
    return fn();
  } finally {
    memoActive = false;
    memoFd = -1;
    memoInfo = undefined;
  }
}

function readFdInfo(fd: number, withReusePort: boolean): FdInfo {
  const known = memoActive && memoFd === fd ? memoInfo : undefined;
  if (known && (!withReusePort || known.kind !== "socket" || known.reusePort !== undefined)) return known;
  const info = readFdInfoNow(fd, withReusePort);
  if (memoActive) { memoFd = fd; memoInfo = info; }
  return info;
}

/** fdInfo's numbers land here: one array for the process, not one per call. */
const facts = new Float64Array(8);

function readFdInfoNow(fd: number, withReusePort: boolean): FdInfo {
  // Not an fd number at all (NaN, 1.5, -1, 2**32): "not open", never a throw or a wrapped fd.
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) return { kind: "closed" };
  const c = K();
  // One native call for fstat, the socket options and the address (see native fdInfo).
  const r = native().fdInfo(fd, withReusePort, facts);
  if (typeof r === "number" && r < 0) return { kind: "closed" };
  const fmt = facts[0]! & c.S_IFMT!;
  const kind: FdInfo["kind"] =
    fmt === c.S_IFSOCK ? "socket" : fmt === c.S_IFIFO ? "fifo" : fmt === c.S_IFREG ? "file" : fmt === c.S_IFCHR ? "chardev" : fmt === c.S_IFDIR ? "dir" : "other";
  const info: FdInfo = { kind, dev: facts[1]!, ino: facts[2]! };
  if (kind !== "socket" || r === 0) return info;
  info.type = facts[3]!;
  info.listening = facts[4] === 1;
  if (withReusePort) info.reusePort = facts[5] === 1;
  if (facts[6]! < 0) return info; // getsockname failed: no address to report
  info.family = facts[6]!;
  if (typeof r === "string") {
    info.address = r;
    info.port = facts[7]!;
  } else if (typeof r !== "number") {
    info.path = decodeUnixPath(r);
  }
  return info;
}

/** A short human description: "TCP listener on 127.0.0.1:80", "UDP socket on [::]:53", "FIFO". */
export function describeFd(fd: number): string {
  const i = inspectFd(fd);
  const c = K();
  if (i.kind !== "socket") return i.kind === "closed" ? `fd ${fd} (not open)` : i.kind === "fifo" ? "a FIFO" : `a ${i.kind}`;
  const typeName = i.type === c.SOCK_STREAM ? "stream" : i.type === c.SOCK_DGRAM ? "datagram" : i.type === c.SOCK_SEQPACKET ? "seqpacket" : `type-${i.type}`;
  if (i.family === c.AF_INET || i.family === c.AF_INET6) {
    const proto = i.type === c.SOCK_STREAM ? "TCP" : i.type === c.SOCK_DGRAM ? "UDP" : `inet ${typeName}`;
    const host = i.family === c.AF_INET6 ? `[${i.address}]` : i.address;
    return `a ${proto} ${i.listening ? "listener" : "socket"} on ${host}:${i.port}`;
  }
  if (i.family === c.AF_UNIX) return `a Unix ${typeName} ${i.listening ? "listener" : "socket"} at ${i.path || "(unnamed)"}`;
  return `a socket of family ${i.family}`;
}
