/**
 * File tests with libsystemd's truth table (`sd_is_fifo`, `sd_is_special`, `sd_is_socket`,
 * `sd_is_socket_inet`, `sd_is_socket_unix`). "Don't care" is an omitted field. Each returns a
 * {@link FileTest}: `(fd) => boolean`, with a `description` used in error messages.
 * @module
 */
import { fstatSync, statSync } from "node:fs";
import { K } from "../native/binding.js";
import type { FileTest } from "../registry/pool.js";
import { inspectFd } from "./inspect.js";

/** Names a test for error messages. */
export function named(description: string, fn: (fd: number) => boolean): FileTest {
  return Object.assign(fn, { description });
}

function sameFile(path: string, dev: number | undefined, ino: number | undefined): boolean {
  try {
    const st = statSync(path);
    return st.dev === dev && st.ino === ino;
  } catch {
    return false;
  }
}

/** A FIFO; with `path`, the FIFO at that path (same device and inode). `sd_is_fifo`. */
export function isFifo(path?: string): FileTest {
  return named(path ? `FIFO ${path}` : "FIFO", (fd) => {
    const i = inspectFd(fd);
    return i.kind === "fifo" && (path === undefined || sameFile(path, i.dev, i.ino));
  });
}

/**
 * A regular file or character device; with `path`, that file. `sd_is_special`: regular files
 * compare inodes, character devices compare `st_rdev` (any node of the same device matches).
 */
export function isSpecial(path?: string): FileTest {
  return named(path ? `special file ${path}` : "special file", (fd) => {
    const i = inspectFd(fd);
    if (i.kind !== "file" && i.kind !== "chardev") return false;
    if (path === undefined) return true;
    if (i.kind === "file") return sameFile(path, i.dev, i.ino);
    try {
      const st = statSync(path);
      return st.isCharacterDevice() && st.rdev === fstatSync(fd).rdev;
    } catch {
      return false;
    }
  });
}

/** Options of {@link isSocket}: omitted = don't care. `family`/`type` are AF_* / SOCK_* numbers. */
export interface SocketTestOptions { family?: number; type?: number; listening?: boolean }

/** A socket of this family, type and listening state. `sd_is_socket`. */
export function isSocket(opts: SocketTestOptions = {}): FileTest {
  return named(`socket ${JSON.stringify(opts)}`, (fd) => {
    const i = inspectFd(fd);
    return i.kind === "socket" && (opts.family === undefined || opts.family === 0 || i.family === opts.family) &&
      (opts.type === undefined || opts.type === 0 || i.type === opts.type) &&
      (opts.listening === undefined || i.listening === opts.listening);
  });
}

/** Options of {@link isSocketInet}; `port` 0 or omitted = any port. */
export interface InetTestOptions extends SocketTestOptions { port?: number }

/** An AF_INET/AF_INET6 socket (optionally of one family, type, state and port). `sd_is_socket_inet`. */
export function isSocketInet(opts: InetTestOptions = {}): FileTest {
  return named(`inet socket ${JSON.stringify(opts)}`, (fd) => {
    const c = K();
    if (opts.family !== undefined && opts.family !== 0 && opts.family !== c.AF_INET && opts.family !== c.AF_INET6) return false;
    const i = inspectFd(fd);
    return i.kind === "socket" && (i.family === c.AF_INET || i.family === c.AF_INET6) &&
      (opts.family === undefined || opts.family === 0 || i.family === opts.family) &&
      (opts.type === undefined || opts.type === 0 || i.type === opts.type) &&
      (opts.listening === undefined || i.listening === opts.listening) &&
      (!opts.port || i.port === opts.port);
  });
}

/** Options of {@link isSocketUnix}: `path` is a filesystem path or `@abstract`. */
export interface UnixTestOptions { type?: number; listening?: boolean; path?: string }

/** An AF_UNIX socket, optionally bound to `path` (exact match, abstract names exact-length). `sd_is_socket_unix`. */
export function isSocketUnix(opts: UnixTestOptions = {}): FileTest {
  return named(`unix socket ${JSON.stringify(opts)}`, (fd) => {
    const i = inspectFd(fd);
    return i.kind === "socket" && i.family === K().AF_UNIX &&
      (opts.type === undefined || opts.type === 0 || i.type === opts.type) &&
      (opts.listening === undefined || i.listening === opts.listening) &&
      (opts.path === undefined || i.path === opts.path);
  });
}

/** A socket whose SO_ACCEPTCONN equals `want` (non-sockets never match). */
export function isListening(want = true): FileTest {
  return named(want ? "listening socket" : "non-listening socket", (fd) => {
    const i = inspectFd(fd);
    return i.kind === "socket" && i.listening === want;
  });
}

/** A socket with SO_REUSEPORT set. */
export function isSoReusePort(): FileTest {
  return named("SO_REUSEPORT socket", (fd) => inspectFd(fd).reusePort === true);
}
