/**
 * The process-wide pool and the seed's free functions over it. Seeded lazily from socket
 * activation (`listenFdsWithNames`). Kept on a global symbol so every copy of sdkit loaded in
 * the process shares one pool.
 * @module
 */
import { clearActivationError, inheritedFdIds, listenFdsWithNames } from "../activation/inherit.js";
import { LISTEN_FDS_START } from "../activation/listen-fds.js";
import { FdPool, assertFdName, type FileTest, type PoolEntry } from "./pool.js";
import type { FdTarget } from "./targets.js";

const KEY = Symbol.for("sdkit.pool.v1");
const g = globalThis as unknown as Record<symbol, FdPool | undefined>;

function seedFromActivation(): PoolEntry[] {
  const { count, names } = listenFdsWithNames();
  const ids = inheritedFdIds();
  return names.slice(0, count).map((name, i) => ({ fd: LISTEN_FDS_START + i, name, id: ids[i] }));
}

/** The process-wide pool (advanced use; the free functions below cover the seed's API). */
export function defaultPool(): FdPool {
  return (g[KEY] ??= new FdPool(seedFromActivation));
}

/**
 * Takes an inherited fd named `name` (`""` = any name) that passes every test. The fd leaves
 * the pool and the caller owns it; call {@link exportFd} to have it tracked as active.
 */
export function fileWith(name: string, ...tests: FileTest[]): { fd: number; name: string } | undefined {
  const e = defaultPool().fileWith(name, ...tests);
  return e && { fd: e.fd, name: e.name };
}

/**
 * Tracks a CLOEXEC dup of `target`'s fd as active under `name` and returns the dup's number.
 * Closing `target` does not close the dup; {@link forget} does.
 */
export function exportFd(name: string, target: FdTarget): number {
  assertFdName(name);
  return defaultPool().exportFd(name, target);
}

/** Closes the tracked dup(s): every one with this name, or the one exported for this object. */
export function forget(nameOrTarget: string | FdTarget): number {
  return defaultPool().forget(nameOrTarget);
}

/** Closes every inherited fd that was not taken. */
export function cleanup(): void {
  defaultPool().cleanup();
}

/** {@link cleanup}, then the active fds become available again, as if inherited. */
export function reset(): void {
  clearActivationError();
  defaultPool().reset();
}

/** The fds currently tracked as active, with their names. */
export function activeFds(): { name: string; fd: number }[] {
  return defaultPool().activeFds();
}
