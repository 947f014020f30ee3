/**
 * The three steps every listener shares: take a matching inherited fd from the pool (or say
 * precisely why the named one does not fit), hand an fd to a Node object, and export the
 * result so a successor process or the FD store gets it.
 * @module
 */
import dgram from "node:dgram";
import http from "node:http";
import type net from "node:net";
import { SdError, errnoError } from "../errors.js";
import { describeFd } from "../filetest/inspect.js";
import { native } from "../native/binding.js";
import { defaultPool, forget } from "../registry/default.js";
import { assertFdName, type FileTest, type PoolEntry } from "../registry/pool.js";
import { fdIdentity } from "../util/fd-identity.js";

/** Options every listener accepts. */
export interface CommonListenOptions {
  /**
   * The systemd fd name (`FileDescriptorName=`) to inherit, and the name the result is exported
   * under. Without it, any inherited fd with the right kind and address is used, and the result
   * is exported under the inherited fd's name, or, when sdkit creates the socket, under the
   * kind: `"tcp"`, `"udp"`, `"unix"`, `"unixgram"` or `"fifo"`.
   * @default undefined
   */
  name?: string;
  /**
   * Forget the exported dup (see `forget`) when the returned object emits `'close'`. By default
   * the dup stays tracked after `close()`, so a successor or the FD store still gets the socket
   * (the seed's Export semantics); call `forget(obj)` yourself when done with it for good.
   * @default false
   */
  forgetOnClose?: boolean;
}

/** A `net.Server` (also `http`, `https`, `http2` servers) or a request handler such as an Express app. */
export type ServerOrHandler = net.Server | http.RequestListener;

/**
 * Validates a name up front, so nothing is created under a name that cannot be exported.
 * Returns it, with `""` (the registry's "any name") turned into undefined.
 */
export function checkName(name: string | undefined): string | undefined {
  if (name === undefined || name === "") return undefined;
  assertFdName(name);
  return name;
}

/**
 * Takes the inherited fd named `name` (any name when undefined) that passes `tests`. When the
 * name exists but none of its fds pass, throws ERR_SD_WRONG_KIND saying what the fd is.
 */
export function takeInherited(name: string | undefined, tests: FileTest[], want: string): PoolEntry | undefined {
  const pool = defaultPool();
  const hit = pool.take(name ?? "", tests);
  if (hit || name === undefined || name === "") return hit;
  const same = pool.peek(name);
  if (same.length === 0) return undefined;
  const is = same.map((e) => describeFd(e.fd)).join(", ");
  throw new SdError("ERR_SD_WRONG_KIND", `The inherited fd named "${name}" is ${is}, not ${want}: fix FileDescriptorName=/Listen*= in the socket unit, or ask for the kind it is.`, { fd: same[0]!.fd });
}

/** Returns the caller's server, wraps a request handler in `http.createServer`, or makes a `net.Server`. */
export function serverFrom(server: ServerOrHandler | undefined, create: () => net.Server): net.Server {
  if (server === undefined) return create();
  if (typeof server === "function") return http.createServer(server);
  if (server.listening) {
    throw new SdError("ERR_SD_INVALID_ARG", "The server passed as `server` is already listening: pass a fresh server (e.g. http.createServer(app)) and let sdkit start it.");
  }
  return server;
}

/** Identity of an fd (device and inode), `""` when closed: tells later whether the number still refers to it. */
const identity = (fd: number): string => fdIdentity(fd) ?? "";

/** Closes `fd` only if it is still the socket it was (Node may have closed it already). */
function closeIfSame(fd: number, id: string): void {
  if (id !== "" && identity(fd) === id) native().close(fd);
}

function wrapNodeError(e: unknown, what: string): SdError {
  if (e instanceof SdError) return e;
  const err = e as NodeJS.ErrnoException;
  if (typeof err.errno === "number") return errnoError(err.errno, err.syscall ?? "listen", what, "", { path: what, cause: e });
  return new SdError("ERR_SD_SYSCALL", `Node could not adopt ${what}: ${err.message}`, { cause: e });
}

/**
 * Starts `server` on `fd` synchronously (Node opens the handle at once; 'listening' follows).
 * Node owns `fd` from here on. On a synchronous failure the fd is closed and the error thrown.
 * `id` is the fd's identity when the caller already has it (from the pool).
 */
export function adoptServerSync<S extends net.Server>(fd: number, server: S, backlog: number | undefined, what: string, id: string = identity(fd)): S {
  try {
    // exclusive: adopt here even in a cluster worker (the primary cannot see this process's fds).
    server.listen(backlog === undefined ? { fd, exclusive: true } : { fd, backlog, exclusive: true });
  } catch (e) {
    closeIfSame(fd, id);
    throw wrapNodeError(e, what);
  }
  return server;
}

/**
 * {@link adoptServerSync}, then the outcome. Node opens the handle and calls listen() inside
 * `server.listen({ fd })`: when that worked, `server.listening` is already true and the server
 * is returned as is (its 'listening' event follows on the next tick) — no promise, listener or
 * closure per server, which adds up for a daemon adopting hundreds of fds. When it failed,
 * Node reports the error on the next tick: the promise rejects with it (fd closed).
 */
export function adoptServer<S extends net.Server>(fd: number, server: S, backlog: number | undefined, what: string, id: string = identity(fd)): S | Promise<S> {
  adoptServerSync(fd, server, backlog, what, id);
  if (server.listening) return server;
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => {
      server.off("listening", onListening);
      closeIfSame(fd, id);
      reject(wrapNodeError(e, what));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve(server);
    };
    server.once("error", onError);
    server.once("listening", onListening);
  });
}

/** Wraps a bound UDP fd in a `dgram.Socket` (synchronous in Node: 'listening' is emitted at once). */
export function adoptDgram(fd: number, type: "udp4" | "udp6", what: string): dgram.Socket {
  const sock = dgram.createSocket({ type });
  const id = identity(fd);
  try {
    sock.bind({ fd });
  } catch (e) {
    closeIfSame(fd, id);
    try { sock.close(); } catch { /* never bound */ }
    throw wrapNodeError(e, what);
  }
  return sock;
}

/** What {@link exportTracked} accepts: a Node object with a `'close'` event and close() or destroy(). */
type Closable = { once(ev: "close", fn: () => void): unknown } & ({ close(): unknown } | { destroy(): unknown });

/**
 * Exports `target` (its fd must be open) under `name` with its lock fd, so it is handed on.
 * On failure (e.g. EMFILE on dup) closes `target` and the lock and rethrows. `id`: the fd's
 * identity when known (from the pool).
 */
export function exportTracked<T extends Closable>(name: string, target: T, lockFd: number | undefined, forgetOnClose: boolean | undefined, id?: string): T {
  try {
    defaultPool().exportFd(name, target, lockFd, id);
  } catch (e) {
    if (lockFd !== undefined) native().close(lockFd);
    try {
      if ("close" in target) target.close();
      else target.destroy();
    } catch { /* already closing */ }
    throw e;
  }
  if (forgetOnClose) target.once("close", () => { forget(target); });
  return target;
}
