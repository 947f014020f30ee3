/**
 * The supervisor side of sd_notify: a bound AF_UNIX datagram socket with SO_PASSCRED (so the
 * kernel attaches every sender's pid/uid/gid), read with recvmsg whenever libuv reports it
 * readable, each datagram parsed and emitted as a `message` event. Received fds are closed after
 * the listeners ran unless one of them took them — closing is what answers a `BARRIER=1`, and
 * what keeps a receiver from leaking fds.
 * @module
 */
import { EventEmitter } from "node:events";
import { lstatSync, unlinkSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { SdError, errnoError } from "../errors.js";
import { K, check, native } from "../native/binding.js";
import { encodeUnixPath } from "../util/unix-path.js";
import { NOTIFY_BUFFER_MAX, parseNotifyMessage, type ParsedNotifyMessage } from "./message.js";

const { EAGAIN } = osConstants.errno;

/** One received notification. */
export interface ReceivedNotifyMessage extends ParsedNotifyMessage {
  /** Sender's pid, uid and gid from SCM_CREDENTIALS (-1 when absent). */
  pid: number;
  uid: number;
  gid: number;
  /** The datagram as received (at most `maxSize` bytes). */
  raw: Buffer;
  /** fds passed with SCM_RIGHTS (CLOEXEC). Closed after the `message` listeners return unless taken. */
  fds: readonly number[];
  /** The datagram or its control data was cut (longer than `maxSize`, or too many fds). The manager ignores such messages. */
  truncated: boolean;
  /** Takes ownership of {@link fds}: they are no longer closed automatically. */
  takeFds(): number[];
}

/** Options of {@link NotifyReceiver}. */
export interface NotifyReceiverOptions {
  /**
   * Where to bind: an absolute path or an `@abstract` name (exact length, as systemd uses). A
   * stale socket file at the path is replaced.
   * @default a unique abstract name, `@sdkit-notify-<pid>-<n>`
   */
  path?: string;
  /** Largest datagram accepted whole; longer ones are emitted with `truncated: true`. @default 4096 (the manager's limit) */
  maxSize?: number;
}

let counter = 0;

/**
 * A notify socket to receive sd_notify messages on (what a service manager does). Events:
 * `message` (a {@link ReceivedNotifyMessage}), `error`, `close`. Pass {@link env} to the child.
 *
 * ```ts
 * const rx = new NotifyReceiver().listen();
 * rx.on("message", (m) => console.log(m.pid, m.fields));
 * spawn(cmd, { env: { ...process.env, ...rx.env } });
 * ```
 */
export class NotifyReceiver extends EventEmitter {
  /** The address bound (`/path` or `@name`); the value for `NOTIFY_SOCKET`. */
  readonly path: string;
  private readonly maxSize: number;
  private fd = -1;
  private handle: object | undefined;
  private closed = false;
  /** Inode of the socket file we bound, so close() never removes a successor's file. */
  private fileIno: number | undefined;

  constructor(opts: NotifyReceiverOptions = {}) {
    super();
    this.path = opts.path ?? `@sdkit-notify-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
    this.maxSize = opts.maxSize ?? NOTIFY_BUFFER_MAX;
    if (!Number.isSafeInteger(this.maxSize) || this.maxSize < 1) throw new SdError("ERR_SD_INVALID_ARG", `NotifyReceiver: maxSize must be a positive integer, got ${String(opts.maxSize)}.`);
    if (this.path[0] !== "/" && this.path[0] !== "@") throw new SdError("ERR_SD_INVALID_ARG", `NotifyReceiver: path ${JSON.stringify(this.path)} must be absolute or @abstract.`);
  }

  /** `{ NOTIFY_SOCKET: path }`, to merge into a child's environment. */
  get env(): { NOTIFY_SOCKET: string } {
    return { NOTIFY_SOCKET: this.path };
  }

  /** Binds and starts receiving. Throws an {@link SdError} when the address cannot be bound. */
  listen(): this {
    if (this.fd >= 0 || this.closed) throw new SdError("ERR_SD_INVALID_ARG", "NotifyReceiver.listen() can be called once, before close().");
    const n = native(), c = K();
    const addr = { family: c.AF_UNIX!, path: encodeUnixPath(this.path) };
    if (this.path[0] === "/") this.removeStaleSocket();
    const fd = check(n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC! | c.SOCK_NONBLOCK!, 0), "socket");
    try {
      // SO_PASSCRED before bind: no datagram can arrive without credentials.
      check(n.setsockopt(fd, c.SOL_SOCKET!, c.SO_PASSCRED!, 1), "setsockopt", "SO_PASSCRED");
      check(n.bind(fd, addr), "bind", this.path, "choose another path or stop the process that owns it", { path: this.path });
      if (this.path[0] === "/") this.fileIno = lstatSync(this.path).ino;
      const h = n.pollStart(fd, 1, (status) => this.onReadable(status));
      if (typeof h === "number") check(h, "uv_poll_start", this.path);
      this.handle = h as object;
    } catch (e) {
      n.close(fd);
      this.unlinkOwned();
      throw e;
    }
    this.fd = fd;
    return this;
  }

  private removeStaleSocket(): void {
    try {
      if (!lstatSync(this.path).isSocket()) {
        throw new SdError("ERR_SD_UNLINK_REFUSED", `NotifyReceiver: ${this.path} exists and is not a socket; refusing to replace it.`, { path: this.path });
      }
      unlinkSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  private unlinkOwned(): void {
    if (this.fileIno === undefined) return;
    const ino = this.fileIno;
    this.fileIno = undefined;
    try {
      if (lstatSync(this.path).ino === ino) unlinkSync(this.path);
    } catch { /* already gone */ }
  }

  private onReadable(status: number): void {
    if (status < 0) {
      this.emit("error", new SdError("ERR_SD_SYSCALL", `NotifyReceiver: polling ${this.path} failed (uv status ${status}).`));
      return;
    }
    // Bounded batch per wake-up: a flood of senders must not starve the event loop.
    for (let i = 0; i < 64 && !this.closed; i++) {
      const r = native().recvmsg(this.fd, this.maxSize);
      if (typeof r === "number") {
        if (r !== -EAGAIN!) this.emit("error", errnoError(r, "recvmsg", this.path));
        return;
      }
      this.dispatch(r.data, r.length, r.flags, r.fds, r.pid, r.uid, r.gid);
    }
  }

  private dispatch(data: Buffer, length: number, flags: number, fds: number[], pid: number, uid: number, gid: number): void {
    let owned = true;
    const c = K();
    const msg: ReceivedNotifyMessage = {
      ...parseNotifyMessage(data),
      pid, uid, gid, raw: data, fds,
      truncated: (flags & (c.MSG_TRUNC! | c.MSG_CTRUNC!)) !== 0 || length > this.maxSize,
      takeFds: () => { owned = false; return [...fds]; },
    };
    try {
      this.emit("message", msg);
    } finally {
      if (owned) for (const fd of fds) native().close(fd);
    }
  }

  /**
   * Resolves with the next message (received after this call) for which `predicate` is true.
   * Rejects with `ERR_SD_NOT_READY` after `timeoutMs`, and with `ERR_SD_SOCKET_CLOSED` when the
   * receiver closes first. To keep the message's fds, call `takeFds()` in the predicate.
   * @param timeoutMs @default 10000
   */
  next(predicate: (m: ReceivedNotifyMessage) => boolean = () => true, timeoutMs = 10_000): Promise<ReceivedNotifyMessage> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: ReceivedNotifyMessage) => {
        if (!predicate(m)) return;
        cleanup();
        resolve(m);
      };
      const onClose = () => { cleanup(); reject(new SdError("ERR_SD_SOCKET_CLOSED", `NotifyReceiver ${this.path} closed while waiting for a message.`)); };
      const timer = setTimeout(() => { cleanup(); reject(new SdError("ERR_SD_NOT_READY", `NotifyReceiver ${this.path}: no matching message within ${timeoutMs} ms.`)); }, timeoutMs);
      const cleanup = () => { clearTimeout(timer); this.off("message", onMessage); this.off("close", onClose); };
      this.on("message", onMessage);
      this.once("close", onClose);
    });
  }

  /** Lets the process exit while the receiver is open (like `socket.unref()`). */
  unref(): this {
    if (this.handle) native().pollRef(this.handle, false);
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    if (this.handle) native().pollRef(this.handle, true);
    return this;
  }

  /** Stops receiving, closes the socket and removes its file. Idempotent; emits `close`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.handle) native().pollStop(this.handle);
    this.handle = undefined;
    if (this.fd >= 0) native().close(this.fd);
    this.fd = -1;
    this.unlinkOwned();
    process.nextTick(() => this.emit("close"));
  }
}
