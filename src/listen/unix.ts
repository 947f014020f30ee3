/**
 * `listenUnix` and `listenUnixgram`: the Unix socket systemd (or a predecessor) passed, by name
 * and/or path, otherwise a new one created under the unlink policy. Filesystem paths and
 * exact-length abstract names (`@name`). The socket file is never unlinked on close. Under the
 * `"flock"` policy the lock fd is exported with the socket, and an inherited lock fd for the
 * same path is taken back, so the lock always travels with the socket it protects.
 * @module
 */
import net from "node:net";
import { SdError } from "../errors.js";
import { isUnixListener } from "../filetest/address.js";
import { isSocketUnix } from "../filetest/socket.js";
import { inspectFd } from "../filetest/inspect.js";
import { K, native } from "../native/binding.js";
import { defaultPool } from "../registry/default.js";
import type { FileTest } from "../registry/pool.js";
import { adoptServer, checkName, exportTracked, serverFrom, takeInherited, type CommonListenOptions, type ServerOrHandler } from "./adopt.js";
import { createUnixSocket } from "./create.js";
import { checkBacklog } from "./inet.js";
import { UnixDatagramSocket, type UnixDatagramSocketOptions } from "./unixgram.js";
import { assertPolicy, getUnixSocketUnlinkPolicy, lockPathFor, prepareUnixPath, type UnixSocketUnlinkPolicy } from "./unlink-policy.js";

/** Options shared by {@link listenUnix} and {@link listenUnixgram}. */
export interface UnixCommonOptions extends CommonListenOptions {
  /**
   * Filesystem path, or `@name` for an abstract socket (exact length, no padding, as systemd
   * and Go use). Needed unless an fd with `name` is inherited.
   * @default undefined
   */
  path?: string;
  /**
   * Exact permission bits of a new socket file (e.g. `0o660`), set before the socket is
   * reachable. Not allowed for abstract names.
   * @default the process umask applied to 0o777
   */
  mode?: number;
  /**
   * What to do with an existing file at `path`; see {@link UnixSocketUnlinkPolicy}.
   * @default the process default (`setUnixSocketUnlinkPolicy`), initially `"socket"`
   */
  unlinkPolicy?: UnixSocketUnlinkPolicy;
}

/** Options of {@link listenUnix}. */
export interface ListenUnixOptions extends UnixCommonOptions {
  /**
   * The server to start (`net.Server`, `http.Server`, ...) or a request handler (an Express app).
   * @default a new `net.Server`
   */
  server?: ServerOrHandler;
  /**
   * Listen backlog.
   * @default 511
   */
  backlog?: number;
}

/** Options of {@link listenUnixgram}: the socket options plus the common Unix options. */
export interface ListenUnixgramOptions extends UnixCommonOptions, Omit<UnixDatagramSocketOptions, "fd"> {}

/** What {@link inheritOrCreateUnix} found or made. */
interface UnixFd { fd: number; name: string; lockFd: number | undefined; path: string }

function checkMode(mode: unknown): void {
  if (mode !== undefined && (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
    throw new SdError("ERR_SD_INVALID_ARG", `mode must be a permission number such as 0o660, got ${JSON.stringify(mode)}.`);
  }
}

/** The lock fd a predecessor passed for the socket at `path` (filesystem paths only). */
export function inheritedLockFor(path: string | undefined): number | undefined {
  if (!path || path.startsWith("@")) return undefined;
  return defaultPool().takeLock(lockPathFor(path));
}

/** Inherit (by name/path/kind) or create a Unix socket of `type`. Exported by the caller. */
function inheritOrCreateUnix(type: "stream" | "dgram", opts: UnixCommonOptions, fn: string, backlog?: number): UnixFd {
  const name = checkName(opts.name);
  checkMode(opts.mode);
  const policy = opts.unlinkPolicy ?? getUnixSocketUnlinkPolicy();
  assertPolicy(policy);
  const path = opts.path === "" ? undefined : opts.path;
  const c = K();
  const tests: FileTest[] = type === "stream" ? [isUnixListener(path)] : [isSocketUnix({ type: c.SOCK_DGRAM!, ...(path !== undefined ? { path } : {}) })];
  const want = `a Unix ${type === "stream" ? "stream listener" : "datagram socket"}${path ? ` at ${path}` : ""}`;
  const inherited = takeInherited(name, tests, want);
  if (inherited) {
    const realPath = inspectFd(inherited.fd).path ?? "";
    return { fd: inherited.fd, name: name ?? inherited.name, lockFd: inherited.lockFd ?? inheritedLockFor(realPath), path: realPath };
  }
  if (path === undefined) {
    throw new SdError("ERR_SD_NO_SUCH_FD_NAME", name
      ? `${fn}: no inherited fd is named "${name}" and no path was given to create the socket: check FileDescriptorName= in the socket unit, or pass a path as a fallback.`
      : `${fn}: give a name (an inherited fd) or a path: a Unix socket cannot listen on "all addresses".`);
  }
  const lockFd = prepareUnixPath(path, policy, type);
  try {
    const fd = createUnixSocket({ path, type, ...(opts.mode !== undefined ? { mode: opts.mode } : {}), ...(backlog !== undefined ? { backlog } : {}) });
    return { fd, name: name ?? (type === "stream" ? "unix" : "unixgram"), lockFd, path };
  } catch (e) {
    if (lockFd !== undefined) native().close(lockFd);
    throw e;
  }
}

/**
 * Returns a listening Unix stream server: the inherited socket with `name` and/or at `path`, else
 * a new one at `path` (the unlink policy decides about an existing file). Exported under `name`,
 * the inherited name, or `"unix"`. Closing it never removes the socket file. Note that Node's
 * `server.address()` is `null` for a server adopted from an fd; the path is the one you gave.
 * @throws SdError ERR_SD_NO_SUCH_FD_NAME (neither an inherited name nor a path), ERR_SD_WRONG_KIND,
 * ERR_SD_ADDRESS_IN_USE, ERR_SD_LOCKED, ERR_SD_UNLINK_REFUSED, ERR_SD_PERMISSION
 */
export async function listenUnix<S extends net.Server = net.Server>(opts: ListenUnixOptions & { server?: S | ServerOrHandler }): Promise<S> {
  const backlog = checkBacklog(opts.backlog);
  const server = serverFrom(opts.server, () => net.createServer()) as S;
  const u = inheritOrCreateUnix("stream", opts, "listenUnix", backlog);
  let s: S;
  try {
    s = await adoptServer(u.fd, server, backlog, u.path || "Unix socket");
  } catch (e) {
    if (u.lockFd !== undefined) native().close(u.lockFd);
    throw e;
  }
  return exportTracked(u.name, s, u.lockFd, opts.forgetOnClose);
}

/**
 * Returns a bound Unix datagram socket ({@link UnixDatagramSocket}): inherited by `name` and/or
 * `path` (e.g. `ListenDatagram=/run/app.sock`), else created at `path`. Exported under `name`,
 * the inherited name, or `"unixgram"`. The seed's `ListenUnixgram`/`NamedListenUnixgram`.
 */
export async function listenUnixgram(opts: ListenUnixgramOptions): Promise<UnixDatagramSocket> {
  const u = inheritOrCreateUnix("dgram", opts, "listenUnixgram");
  let sock: UnixDatagramSocket;
  try {
    sock = new UnixDatagramSocket({ ...socketOptions(opts), fd: u.fd });
  } catch (e) {
    native().close(u.fd);
    if (u.lockFd !== undefined) native().close(u.lockFd);
    throw e;
  }
  return exportTracked(u.name, sock, u.lockFd, opts.forgetOnClose);
}

function socketOptions(opts: ListenUnixgramOptions): Omit<UnixDatagramSocketOptions, "fd"> {
  const { receiveFds, credentials, maxMessageSize } = opts;
  return {
    ...(receiveFds !== undefined ? { receiveFds } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    ...(maxMessageSize !== undefined ? { maxMessageSize } : {}),
  };
}
