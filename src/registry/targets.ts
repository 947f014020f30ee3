/**
 * Finds the fd behind the objects users export: fd numbers, `net.Server`, `net.Socket`,
 * `dgram.Socket`, `fs.FileHandle`/streams and sdkit's own sockets. Node has no public accessor
 * for a server's fd, so this reads the handle Node keeps (stable since Node 0.x); it is the
 * only place sdkit looks inside Node objects.
 * @module
 */
import dgram from "node:dgram";
import { SdError } from "../errors.js";

/** Anything {@link exportFd} accepts. */
export type FdTarget = number | { fd: number } | object;

function dgramStateFd(obj: object): number | undefined {
  // dgram.Socket keeps its handle under an internal symbol ("state symbol" in lib/dgram.js).
  for (const sym of Object.getOwnPropertySymbols(obj)) {
    const st = (obj as Record<symbol, unknown>)[sym] as { handle?: { fd?: unknown } } | undefined;
    if (sym.description === "state symbol" && typeof st?.handle?.fd === "number") return st.handle.fd;
  }
  return undefined;
}

/** Returns the fd of `target`, or throws `ERR_SD_INVALID_ARG` when it has none (yet). */
export function fdOf(target: FdTarget): number {
  let fd: unknown;
  if (typeof target === "number") fd = target;
  else if (target && typeof target === "object") {
    const t = target as { fd?: unknown; _handle?: { fd?: unknown } | null };
    // A dgram.Socket through its state: reading its `_handle` emits DEP0112 at the user. Anything
    // else (servers: the common case, hundreds of times at start-up) without listing symbols.
    fd = typeof t.fd === "number" ? t.fd : target instanceof dgram.Socket ? dgramStateFd(target) : t._handle?.fd;
  }
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new SdError("ERR_SD_INVALID_ARG", "exportFd() needs an fd number or a listening net.Server, dgram.Socket, net.Socket, FileHandle or sdkit socket: call it after the object is listening/bound.");
  }
  return fd;
}
