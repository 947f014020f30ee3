/**
 * Waiting until a Unix datagram destination can take a datagram again. Linux reports a full
 * receiver queue through poll() only to a socket *connected* to that receiver
 * (`unix_dgram_poll`), so for an unconnected sender sdkit connects a temporary probe socket to
 * the destination and waits for it to become writable — a kernel wake-up, not a timer.
 * @module
 */
import { constants as osc } from "node:os";
import { K, native } from "../native/binding.js";
import { encodeUnixPath } from "../util/unix-path.js";

/** A pending wait; `done` runs at most once, never synchronously. */
export interface DrainWaiter {
  cancel(): void;
  ref(): void;
  unref(): void;
}

/**
 * When the receiver is connected to some other socket the kernel refuses our probe (EPERM);
 * then sdkit falls back to retrying after this delay.
 */
const FALLBACK_MS = 10;
const EV_WRITE = 2;

/** Calls `done` once `path`'s receive queue has room (or the probe cannot tell: then at once). */
export function drainWaiter(path: string, done: () => void): DrainWaiter {
  const n = native();
  const c = K();
  let finished = false;
  let poll: object | undefined;
  let timer: NodeJS.Timeout | undefined;
  let probe = -1;
  const release = () => {
    if (poll) n.pollStop(poll);
    poll = undefined;
    if (probe >= 0) n.close(probe);
    probe = -1;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    release();
    done();
  };
  probe = n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_NONBLOCK! | c.SOCK_CLOEXEC!, 0);
  const r = probe < 0 ? probe : n.connect(probe, { family: c.AF_UNIX!, path: encodeUnixPath(path) });
  if (r === -osc.errno.EPERM) {
    release();
    timer = setTimeout(finish, FALLBACK_MS);
  } else if (r < 0) {
    // Gone or unreachable: the next send reports the real error.
    release();
    process.nextTick(finish);
  } else {
    const h = n.pollStart(probe, EV_WRITE, () => finish());
    if (typeof h === "number") { release(); process.nextTick(finish); } else poll = h;
  }
  return {
    cancel: () => { finished = true; release(); },
    ref: () => { if (poll) n.pollRef(poll, true); timer?.ref(); },
    unref: () => { if (poll) n.pollRef(poll, false); timer?.unref(); },
  };
}
