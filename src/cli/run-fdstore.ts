/**
 * The FD store of `sdkit run`, kept across restarts and replacements like systemd's
 * (`FileDescriptorStoreMax=`): `FDSTORE=1` adds fds under `FDNAME=` (default "stored"), the same
 * open file is stored once, `FDSTOREREMOVE=1` closes every fd of a name, and a pollable fd is
 * dropped when it hangs up (a pipe whose writer closed, a disconnected peer) unless it was
 * stored with `FDPOLL=0`.
 * @module
 */
import { native } from "../native/binding.js";

/** One stored fd. */
export interface StoredFd { name: string; fd: number; dev: number; ino: number; watch?: object }

/** libuv's UV_DISCONNECT: hang-up and error conditions. */
const DISCONNECT = 4;

/** The store. `onHangup` reports fds dropped because they hung up. */
export class FdStore {
  private readonly items: StoredFd[] = [];

  constructor(readonly max: number, private readonly onHangup: (name: string, fd: number) => void) {}

  /** Number of stored fds. */
  get size(): number {
    return this.items.length;
  }

  /** `[name, fd]` in the order stored; these go to the next instance after the listeners. */
  entries(): { name: string; fd: number }[] {
    return this.items.map(({ name, fd }) => ({ name, fd }));
  }

  /**
   * Takes ownership of `fds`. Returns how many were stored; the others (duplicates, or beyond
   * `max`) are closed, as the manager does.
   */
  add(fds: readonly number[], name: string, poll: boolean): { stored: number; rejected: number } {
    let stored = 0;
    for (const fd of fds) {
      const st = native().fstat(fd);
      const dup = typeof st !== "number" && this.items.some((i) => i.dev === st[1] && i.ino === st[2]);
      if (typeof st === "number" || dup || this.items.length >= this.max) {
        native().close(fd);
        continue;
      }
      const item: StoredFd = { name, fd, dev: st[1], ino: st[2] };
      if (poll) this.watch(item);
      this.items.push(item);
      stored++;
    }
    return { stored, rejected: fds.length - stored };
  }

  private watch(item: StoredFd): void {
    const n = native();
    // uv_poll_init makes the fd non-blocking; the service must get it back as it sent it.
    const flags = n.getFlags(item.fd, 1);
    const h = n.pollStart(item.fd, DISCONNECT, () => {
      if (!this.items.includes(item)) return;
      this.drop(item);
      this.onHangup(item.name, item.fd);
    });
    if (flags >= 0) n.setFl(item.fd, flags);
    if (typeof h !== "number") item.watch = h;
  }

  private drop(item: StoredFd): void {
    const i = this.items.indexOf(item);
    if (i >= 0) this.items.splice(i, 1);
    if (item.watch) native().pollStop(item.watch);
    native().close(item.fd);
  }

  /** `FDSTOREREMOVE=1`: closes every fd stored under `name`; returns how many. */
  remove(name: string): number {
    const gone = this.items.filter((i) => i.name === name);
    for (const i of gone) this.drop(i);
    return gone.length;
  }

  /** Closes everything (the supervisor is exiting). */
  closeAll(): void {
    for (const i of [...this.items]) this.drop(i);
  }
}
