/**
 * The notify transport, as libsystemd does it: a fresh, unbound AF_UNIX datagram socket per
 * call (so concurrent calls never collide on a bound name), sending to the notify address,
 * with SCM_RIGHTS for fds and SCM_CREDENTIALS only when sending on behalf of another pid. The
 * socket is non-blocking: a receiver whose queue is full yields EAGAIN, which the async path
 * waits out (bounded, by polling for writability) and the sync path reports as
 * `ERR_SD_WOULD_BLOCK`. The socket is closed on every path.
 *
 * libsystemd also raises SO_SNDBUF to 8 MiB; that matters for its long-lived sockets only. A
 * fresh socket's default buffer (~200 KiB) holds a 4 KiB message many times over, so sdkit
 * saves the syscall.
 * @module
 */
import { constants as osConstants } from "node:os";
import { SdError, errnoError } from "../errors.js";
import { K, native } from "../native/binding.js";
import type { NotifyAddress } from "./address.js";

const { EAGAIN, EPERM, ESRCH, ENOENT, ECONNREFUSED, EACCES, EBADF } = osConstants.errno;

/** One datagram to send; a string goes out as its UTF-8 bytes. */
export interface OutMessage { data: Buffer | string; fds: readonly number[] }

/** Transport options. */
export interface TransportOptions {
  /**
   * Send on behalf of this pid (`sd_pid_notify`): attaches SCM_CREDENTIALS with it. Needs
   * privileges for another process's pid; when the kernel refuses, the message goes out with
   * the real credentials instead, as libsystemd does.
   * @default process.pid (no explicit credentials)
   */
  pid?: number;
}

function sendError(address: NotifyAddress, ret: number, syscall: string): SdError {
  const hint =
    ret === -ENOENT! ? "no socket exists there; the variable is stale (inherited from a manager that is gone?) or points into another mount namespace."
    : ret === -ECONNREFUSED! ? "nothing is receiving on it; the service manager (or the supervising process) has exited."
    : ret === -EACCES! || ret === -EPERM! ? "permission denied; the socket belongs to another user (check User= and the socket's mode)."
    : ret === -EBADF! ? "one of the fds to pass is not open."
    : "the notification was not delivered.";
  const e = errnoError(ret, syscall, `NOTIFY_SOCKET ${address.raw}`, hint, { path: address.raw });
  if (ret === -EBADF!) return e; // ERR_SD_BAD_FD: the caller's fd, not the transport
  return new SdError("ERR_SD_NOTIFY_SEND", e.message, { syscall, errno: ret, ...(e.sysCode ? { sysCode: e.sysCode } : {}), path: address.raw });
}

function wouldBlock(address: NotifyAddress): SdError {
  return new SdError("ERR_SD_WOULD_BLOCK", `sendmsg EAGAIN NOTIFY_SOCKET ${address.raw}: the receiver's queue is full (the manager is not reading); nothing was sent. Retry later.`, { syscall: "sendmsg", errno: -EAGAIN!, sysCode: "EAGAIN", path: address.raw });
}

/** A connected, non-blocking notify socket; always {@link close} it. */
class NotifyConnection {
  private readonly fd: number;
  private readonly cred: [number, number, number] | null;

  constructor(private readonly address: NotifyAddress, opts: TransportOptions) {
    const c = K();
    const n = native();
    const fd = n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC! | c.SOCK_NONBLOCK!, 0);
    if (fd < 0) throw sendError(address, fd, "socket");
    const r = n.connect(fd, address.addr);
    if (r < 0) {
      n.close(fd);
      throw sendError(address, r, "connect");
    }
    this.fd = fd;
    const pid = opts.pid;
    this.cred = pid !== undefined && pid !== process.pid ? [pid, process.getuid!(), process.getgid!()] : null;
  }

  /** Sends one datagram; false when the receiver's queue is full (EAGAIN). */
  trySend(msg: OutMessage): boolean {
    const n = native();
    const data = typeof msg.data === "string" ? Buffer.from(msg.data, "utf8") : msg.data;
    let ret = n.sendmsg(this.fd, data, null, msg.fds, this.cred);
    // libsystemd: if the kernel refuses the requested credentials, send with our own.
    if (this.cred && (ret === -EPERM! || ret === -ESRCH!)) ret = n.sendmsg(this.fd, data, null, msg.fds, null);
    if (ret === -EAGAIN!) return false;
    if (ret < 0) throw sendError(this.address, ret, "sendmsg");
    return true;
  }

  /** Resolves true once the receiver has room again, false at the deadline. */
  waitWritable(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const n = native();
      const done = (ok: boolean) => {
        clearTimeout(timer);
        if (typeof handle !== "number") n.pollStop(handle);
        resolve(ok);
      };
      const handle = n.pollStart(this.fd, 2, (status) => done(status >= 0));
      const timer = setTimeout(() => done(false), ms);
      if (typeof handle === "number") done(false);
    });
  }

  close(): void {
    native().close(this.fd);
  }
}

/**
 * The fast path: each message in one native call (socket, sendmsg to the address, close), the
 * way libsystemd sends. Returns how many went out before the first that did not. Whatever did
 * not go out takes the slow path, which repeats the failed send step by step: a datagram is
 * sent whole or not at all, so nothing is sent twice, and the slow path names the failing
 * syscall, waits out a full receiver and handles explicit credentials.
 */
function sendFast(address: NotifyAddress, messages: readonly OutMessage[], opts: TransportOptions): number {
  if (opts.pid !== undefined && opts.pid !== process.pid) return 0;
  const n = native();
  let sent = 0;
  for (const m of messages) {
    if (n.sendmsgOnce(address.addr, m.data, m.fds.length > 0 ? m.fds : null) < 0) break;
    sent++;
  }
  return sent;
}

/** Sends `messages` in order now, without waiting; throws `ERR_SD_WOULD_BLOCK` when the receiver is full. */
export function sendMessagesSync(address: NotifyAddress, messages: readonly OutMessage[], opts: TransportOptions = {}): void {
  const sent = sendFast(address, messages, opts);
  if (sent === messages.length) return;
  const conn = new NotifyConnection(address, opts);
  try {
    for (const m of messages.slice(sent)) if (!conn.trySend(m)) throw wouldBlock(address);
  } finally {
    conn.close();
  }
}

/**
 * Sends `messages` in order. When the receiver is full, waits for room (without blocking the
 * event loop) for at most `waitMs` in total, then rejects with `ERR_SD_WOULD_BLOCK`. Returns
 * nothing when everything went out at once (the usual case: no promise to settle), else the
 * promise of the rest.
 */
export function sendMessages(address: NotifyAddress, messages: readonly OutMessage[], waitMs: number, opts: TransportOptions = {}): Promise<void> | undefined {
  const sent = sendFast(address, messages, opts);
  return sent === messages.length ? undefined : sendSlowly(address, messages.slice(sent), waitMs, opts);
}

async function sendSlowly(address: NotifyAddress, messages: readonly OutMessage[], waitMs: number, opts: TransportOptions): Promise<void> {
  const conn = new NotifyConnection(address, opts);
  const deadline = Date.now() + waitMs;
  try {
    for (const m of messages) {
      while (!conn.trySend(m)) {
        const left = deadline - Date.now();
        if (left <= 0 || !(await conn.waitWritable(left))) throw wouldBlock(address);
      }
    }
  } finally {
    conn.close();
  }
}
