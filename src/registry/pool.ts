/**
 * The fd pool, the seed's model of a daemon's file descriptors:
 *  - available: inherited fds (or, after reset(), formerly active ones) not yet taken;
 *  - active: CLOEXEC dups of what the program uses now, under a name, ready to hand to a
 *    successor process or to the service manager's FD store;
 *  - locks: flock-ed lock files of Unix sockets, paired with their socket by path.
 * The pool owns every fd it lists and closes each exactly once.
 * @module
 */
import { readlinkSync } from "node:fs";
import { SdError } from "../errors.js";
import { check, native } from "../native/binding.js";
import { fdOf, type FdTarget } from "./targets.js";
import { fdIdentity, identityOf } from "../util/fd-identity.js";
import { inspectFdLean, withInspectMemo } from "../filetest/inspect.js";

/** A file-descriptor test (see the `is*` functions); true when the fd qualifies. */
export type FileTest = ((fd: number) => boolean) & { description?: string };

/** The reserved fd name under which lock files of flock-owned Unix sockets travel. */
export const LOCK_FD_NAME = "sdkit-lock";

/**
 * An fd in the pool. `lockFd` is the lock file travelling with a Unix socket, if any; `id` is
 * the fd's "dev:ino" when it was inherited (omitted: taken when the pool is seeded).
 */
export interface PoolEntry { fd: number; name: string; lockFd?: number; id?: string | undefined }
interface ActiveEntry extends PoolEntry { target?: unknown }

/** Lowest fd for dups: keeps 0-2 free for stdio. */
const MIN_DUP_FD = 3;

/**
 * A daemon's file descriptors in the seed's model: inherited fds wait in the available set
 * until {@link FdPool.fileWith} takes one; {@link FdPool.exportFd} tracks a CLOEXEC dup as
 * active; {@link FdPool.reset} turns the active set into the available one (for a successor
 * or after re-exec). The process-wide instance is `defaultPool()`; tests build their own with
 * `new FdPool(() => entries)`.
 */
export class FdPool {
  private available: PoolEntry[] = [];
  private active: ActiveEntry[] = [];
  private locks: number[] = [];
  private seeded = false;
  /**
   * fd -> "dev:ino" of every fd the pool owns. fd numbers are reused as soon as someone closes
   * one, so before adopting, handing on or closing an fd the pool checks it is still the same
   * file: a number the app reused for its own file is dropped from the pool, never closed.
   */
  private ids = new Map<number, string>();

  /** `seed` supplies the inherited fds on first use (activation, or nothing in tests). */
  constructor(private readonly seed: () => PoolEntry[]) {}

  private ensure(): void {
    if (this.seeded) return;
    const entries = this.seed();
    this.seeded = true; // only after a successful seed: an activation error repeats until fixed
    for (const e of entries) {
      // An fd closed (or reused) since it was inherited stays listed, for peek()'s diagnostics,
      // but is never adopted or closed by the pool.
      const id = "id" in e ? e.id : fdIdentity(e.fd);
      if (id !== undefined) this.ids.set(e.fd, id);
      if (e.lockFd !== undefined) this.own(e.lockFd);
      if (e.name === LOCK_FD_NAME) this.locks.push(e.fd);
      else this.available.push(e);
    }
  }

  /** Records the identity of an fd the pool now owns; false if it is not open. */
  private own(fd: number): boolean {
    const id = fdIdentity(fd);
    if (id === undefined) return false;
    this.ids.set(fd, id);
    return true;
  }

  /** True while `fd` is still the file the pool took ownership of. */
  private mine(fd: number): boolean {
    const id = this.ids.get(fd);
    if (id === undefined) return false;
    // Through inspectFd, so that within fileWith's memo the file tests reuse the same fstat.
    const i = inspectFdLean(fd);
    return i.kind !== "closed" && identityOf(i.dev, i.ino) === id;
  }

  /** Gives up ownership: closes the fd only if it is still ours. */
  private release(fd: number | undefined, close: boolean): void {
    if (fd === undefined) return;
    if (close && this.mine(fd)) native().close(fd);
    this.ids.delete(fd);
  }

  /** Drops (without closing) active entries whose fd number now belongs to someone else. */
  private prune<T extends PoolEntry>(list: T[]): T[] {
    return list.filter((e) => {
      if (this.mine(e.fd)) return true;
      this.release(e.fd, false);
      this.release(e.lockFd, true);
      return false;
    });
  }

  /** Takes the first available fd with this name (`""` = any) passing every test. The caller owns it. */
  fileWith(name: string, ...tests: FileTest[]): PoolEntry | undefined {
    const e = this.take(name, tests);
    if (!e) return undefined;
    const { id: _id, ...rest } = e;
    return rest;
  }

  /**
   * {@link fileWith}, keeping the fd's identity (`id`, as checked just now) for the caller's own
   * ownership checks: listeners pass it on instead of asking the kernel again.
   */
  take(name: string, tests: readonly FileTest[]): PoolEntry | undefined {
    this.ensure();
    // A stale entry (closed, or its number reused) stays listed for peek()'s diagnostics but is never adopted.
    const i = withInspectMemo(() => this.indexOf(name, tests));
    if (i < 0) return undefined;
    const taken = this.available.splice(i, 1)[0]!;
    const e: PoolEntry = { fd: taken.fd, name: taken.name, id: this.ids.get(taken.fd) };
    if (taken.lockFd !== undefined) e.lockFd = taken.lockFd;
    this.ids.delete(e.fd); // the caller owns it now
    if (e.lockFd !== undefined) this.ids.delete(e.lockFd);
    return e;
  }

  /**
   * Index of the first available entry with this name passing every test, or -1. A plain loop
   * that skips other names before any call: with hundreds of inherited fds, each taken by
   * name, this scan runs hundreds of times.
   */
  private indexOf(name: string, tests: readonly FileTest[]): number {
    const list = this.available;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (name !== "" && e.name !== name) continue;
      if (this.mine(e.fd) && tests.every((t) => safeTest(t, e.fd))) return i;
    }
    return -1;
  }

  /** Available fds with this name (for "exists but wrong kind" diagnostics); not taken. */
  peek(name: string): readonly PoolEntry[] {
    this.ensure();
    return this.available.filter((e) => name === "" || e.name === name);
  }

  /** Removes and returns an inherited lock fd whose file is `lockPath`. */
  takeLock(lockPath: string): number | undefined {
    this.ensure();
    const i = this.locks.findIndex((fd) => this.mine(fd) && fdPath(fd) === lockPath);
    if (i < 0) return undefined;
    const fd = this.locks.splice(i, 1)[0]!;
    this.ids.delete(fd);
    return fd;
  }

  /**
   * Tracks a CLOEXEC dup of `target`'s fd as active under `name`; returns the dup. Closing
   * `target` later does not close the dup. `lockFd` (ownership passes to the pool) travels with it.
   * `id`, when the caller knows the fd's identity (from {@link fileWith}), spares an fstat: a
   * dup is the same file.
   */
  exportFd(name: string, target: FdTarget, lockFd?: number, id?: string): number {
    this.ensure();
    const src = fdOf(target);
    const dup = check(native().dupCloexec(src, MIN_DUP_FD), "dup", `fd ${src}`, "export an open fd", { fd: src });
    if (id !== undefined) this.ids.set(dup, id);
    else this.own(dup);
    if (lockFd !== undefined) this.own(lockFd);
    const entry: ActiveEntry = { fd: dup, name, target };
    if (lockFd !== undefined) entry.lockFd = lockFd;
    this.active.push(entry);
    return dup;
  }

  /** Closes the tracked dup(s) for a name (all of them) or for the exact exported object. Returns how many. */
  forget(nameOrTarget: string | FdTarget): number {
    const hit = (e: ActiveEntry) => (typeof nameOrTarget === "string" ? e.name === nameOrTarget : e.target === nameOrTarget);
    const gone = this.active.filter(hit);
    this.active = this.active.filter((e) => !hit(e));
    for (const e of gone) this.closeEntry(e);
    return gone.length;
  }

  /** Closes every available fd and unclaimed lock (inherited but never taken). */
  cleanup(): void {
    this.ensure();
    for (const e of this.available) this.closeEntry(e);
    for (const fd of this.locks) this.release(fd, true);
    this.available = [];
    this.locks = [];
  }

  /** cleanup(), then the active set becomes the available pool, names and locks kept. */
  reset(): void {
    this.cleanup();
    this.available = this.active.map(({ fd, name, lockFd }) => ({ fd, name, ...(lockFd !== undefined ? { lockFd } : {}) }));
    this.active = [];
  }

  private closeEntry(e: PoolEntry): void {
    this.release(e.fd, true);
    this.release(e.lockFd, true);
  }

  /** The active fds, in export order. */
  activeFds(): { name: string; fd: number }[] {
    this.active = this.prune(this.active);
    return this.active.map(({ name, fd }) => ({ name, fd }));
  }

  /** Active fds including lock fds (under {@link LOCK_FD_NAME}), as handed to successors and the FD store. */
  handoverFds(): { name: string; fd: number }[] {
    const out: { name: string; fd: number }[] = [];
    this.active = this.prune(this.active);
    for (const e of this.active) {
      out.push({ name: e.name, fd: e.fd });
      if (e.lockFd !== undefined) out.push({ name: LOCK_FD_NAME, fd: e.lockFd });
    }
    return out;
  }
}

function safeTest(t: FileTest, fd: number): boolean {
  try { return t(fd) === true; } catch { return false; }
}


function fdPath(fd: number): string | undefined {
  try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return undefined; }
}

/**
 * Throws unless `name` can travel in LISTEN_FDNAMES / FDNAME: systemd's `fdname_is_valid`,
 * i.e. 1-255 printable ASCII characters (0x20-0x7e) without ':'.
 */
export function assertFdName(name: string): void {
  if (name.length === 0 || name.length > 255 || /[^\x20-\x7e]|:/.test(name)) {
    throw new SdError("ERR_SD_INVALID_ARG", `fd name ${JSON.stringify(name)} cannot be passed on: names must be 1-255 printable ASCII characters without ':' (systemd's FileDescriptorName= rules).`);
  }
}
