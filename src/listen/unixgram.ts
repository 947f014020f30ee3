/**
 * `UnixDatagramSocket`: AF_UNIX SOCK_DGRAM for Node, which cannot wrap such sockets itself
 * (`dgram` is UDP only; `net.Socket({fd})` rejects them). Shaped like `dgram.Socket`.
 *
 * Receiving: the fd is non-blocking and watched by libuv (`uv_poll` in the addon). Each wake-up
 * drains the queue with recvmsg until EAGAIN (at most 512 datagrams, then yields to the event
 * loop), emitting `'message'`. Nothing blocks and nothing polls on a timer.
 *
 * Back-pressure: `send()` is synchronous and never queues. A Unix datagram lands directly in the
 * receiver's queue; when that queue (net.unix.max_dgram_qlen) or this socket's send buffer is
 * full, the kernel says EAGAIN and `send()` throws `SdError` `ERR_SD_WOULD_BLOCK`: nothing was
 * sent, nothing is dropped silently. The socket then emits `'drain'` (with the destination path)
 * once that destination can take a datagram again: sdkit waits for its own socket to be
 * writable and, for an unconnected send, for a temporary socket connected to the destination to
 * become writable (the kernel reports a full receiver queue only to connected senders).
 * @module
 */
import { EventEmitter } from "node:events";
import { constants as osc } from "node:os";
import { SdError, errnoError } from "../errors.js";
import { K, native } from "../native/binding.js";
import { decodeUnixPath, encodeUnixPath } from "../util/unix-path.js";
import { drainWaiter, type DrainWaiter } from "./unixgram-drain.js";
import type { UnixDatagramSocketOptions, UnixRemoteInfo, UnixSendOptions } from "./unixgram-options.js";

export type { UnixDatagramSocketOptions, UnixRemoteInfo, UnixSendOptions } from "./unixgram-options.js";

const READS_PER_WAKEUP = 512;
const EV_READ = 1;
const EV_WRITE = 2;

/**
 * A Unix datagram socket. Events: `'listening'` (after bind or adoption of a bound fd),
 * `'message'` `(msg: Buffer, rinfo: UnixRemoteInfo)`, `'drain'` `(path: string | undefined)`
 * after an ERR_SD_WOULD_BLOCK, `'connect'`, `'error'`, `'close'`. Closing never removes the
 * socket file.
 */
export class UnixDatagramSocket extends EventEmitter {
  #fd = -1;
  #poll: object | undefined;
  #pollEvents = 0;
  #closed = false;
  #ref = true;
  #connected: string | undefined;
  #lastPath = "";
  #lastAddr: { family: number; path: Buffer } | undefined;
  readonly #receiveFds: boolean;
  readonly #credentials: boolean;
  readonly #max: number;
  readonly #waiters = new Map<string, DrainWaiter>();
  #wantWritable = new Set<string>();

  constructor(opts: UnixDatagramSocketOptions = {}) {
    super();
    this.#receiveFds = opts.receiveFds ?? false;
    this.#credentials = opts.credentials ?? false;
    const max = opts.maxMessageSize ?? 65536;
    if (!Number.isInteger(max) || max < 1 || max > 1 << 20) {
      throw new SdError("ERR_SD_INVALID_ARG", `maxMessageSize must be an integer from 1 to ${1 << 20}, got ${JSON.stringify(max)}.`);
    }
    this.#max = max;
    if (opts.fd !== undefined) this.#adopt(opts.fd);
  }

  /** The socket's fd (-1 before it exists or after close). The socket owns it. */
  get fd(): number {
    return this.#fd;
  }

  #adopt(fd: number): void {
    const n = native();
    const c = K();
    const st = n.fstat(fd);
    if (typeof st === "number" || (st[0] & c.S_IFMT!) !== c.S_IFSOCK || n.getsockopt(fd, c.SOL_SOCKET!, c.SO_DOMAIN!) !== c.AF_UNIX || n.getsockopt(fd, c.SOL_SOCKET!, c.SO_TYPE!) !== c.SOCK_DGRAM) {
      throw new SdError("ERR_SD_WRONG_KIND", `fd ${fd} is not a Unix datagram socket: UnixDatagramSocket adopts only AF_UNIX SOCK_DGRAM fds.`, { fd });
    }
    const fl = n.getFlags(fd, 1);
    if (fl >= 0 && (fl & c.O_NONBLOCK!) === 0) check(n.setFl(fd, fl | c.O_NONBLOCK!), "fcntl", `O_NONBLOCK on fd ${fd}`);
    this.#fd = fd;
    this.#setup();
    if (this.#boundPath() !== "") process.nextTick(() => { if (!this.#closed) this.emit("listening"); });
  }

  /** Creates the fd on first need (bind, connect or send on a fresh socket). */
  #ensure(): number {
    if (this.#closed) throw closedError();
    if (this.#fd >= 0) return this.#fd;
    const c = K();
    const fd = native().socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_NONBLOCK! | c.SOCK_CLOEXEC!, 0);
    if (fd < 0) throw errnoError(fd, "socket", "AF_UNIX SOCK_DGRAM");
    this.#fd = fd;
    this.#setup();
    return fd;
  }

  #setup(): void {
    const c = K();
    if (this.#credentials) check(native().setsockopt(this.#fd, c.SOL_SOCKET!, c.SO_PASSCRED!, 1), "setsockopt", "SO_PASSCRED");
    const h = native().pollStart(this.#fd, EV_READ, (status, events) => this.#onPoll(status, events));
    if (typeof h === "number") throw errnoError(h, "uv_poll_start", `fd ${this.#fd}`);
    this.#poll = h;
    this.#pollEvents = EV_READ;
    if (!this.#ref) native().pollRef(h, false);
  }

  #boundPath(): string {
    const a = native().getsockname(this.#fd);
    return typeof a === "number" || !a.path ? "" : decodeUnixPath(a.path);
  }

  /**
   * Binds to a filesystem path or `@abstract` name (plain bind: an existing file is an error;
   * `listenUnixgram` applies the unlink policy). Errors are emitted as `'error'`; `cb` is a
   * `'listening'` listener. `mode` sets the file's exact permission bits before it is bound.
   */
  bind(path: string | { path: string; mode?: number }, cb?: () => void): this {
    const { path: p, mode } = typeof path === "string" ? { path, mode: undefined } : path;
    const addr = { family: K().AF_UNIX!, path: encodeUnixPath(p) };
    if (cb) this.once("listening", cb);
    const fd = this.#ensure();
    let r: number;
    if (mode !== undefined && !p.startsWith("@")) {
      const old = native().umask(~mode & 0o777);
      try { r = native().bind(fd, addr); } finally { native().umask(old); }
    } else {
      r = native().bind(fd, addr);
    }
    if (r < 0) process.nextTick(() => this.emit("error", errnoError(r, "bind", p, "", { path: p })));
    else process.nextTick(() => { if (!this.#closed) this.emit("listening"); });
    return this;
  }

  /** Sets the default destination (`send(msg)` without a path). `cb(err)` or `'connect'`/`'error'`. */
  connect(path: string, cb?: (err: Error | null) => void): this {
    let err: SdError | null = null;
    try {
      const fd = this.#ensure();
      const r = native().connect(fd, { family: K().AF_UNIX!, path: encodeUnixPath(path) });
      if (r < 0) err = errnoError(r, "connect", path, "", { path });
      else this.#connected = path;
    } catch (e) { err = e as SdError; }
    process.nextTick(() => {
      if (cb) cb(err);
      else if (err) this.emit("error", err);
      if (!err) this.emit("connect");
    });
    return this;
  }

  /**
   * Sends one datagram to `path` (or to the connected peer). Returns the bytes sent.
   * @throws SdError ERR_SD_WOULD_BLOCK when the destination's queue or the send buffer is full
   * (nothing sent; wait for `'drain'`), ERR_SD_SOCKET_CLOSED, or the system error
   * (ECONNREFUSED: nothing is bound at `path`; ENOENT; EMSGSIZE) with the path in the message.
   */
  send(msg: string | Uint8Array, path?: string, opts: UnixSendOptions = {}): number {
    const fd = this.#ensure();
    const data = typeof msg === "string" ? Buffer.from(msg) : Buffer.isBuffer(msg) ? msg : Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
    let to: { family: number; path: Buffer } | null = null;
    if (path !== undefined) {
      if (path !== this.#lastPath || !this.#lastAddr) {
        this.#lastAddr = { family: K().AF_UNIX!, path: encodeUnixPath(path) };
        this.#lastPath = path;
      }
      to = this.#lastAddr;
    } else if (this.#connected === undefined) {
      throw new SdError("ERR_SD_INVALID_ARG", "send() needs a destination path: this socket is not connected (call connect(path) first or pass a path).");
    }
    const r = native().sendmsg(fd, data, to, opts.fds ?? [], null);
    if (r >= 0) return r;
    const dest = path ?? this.#connected!;
    if (r === -osc.errno.EAGAIN) {
      this.#waitDrain(path);
      throw new SdError("ERR_SD_WOULD_BLOCK", `send to ${dest} would block: the receiver's queue or this socket's send buffer is full; nothing was sent. Retry after the 'drain' event.`, { path: dest, syscall: "sendmsg", errno: r, sysCode: "EAGAIN" });
    }
    throw errnoError(r, "sendmsg", dest, r === -osc.errno.ECONNREFUSED ? "no socket is bound there (any more)" : "", { path: dest });
  }

  /** Schedules one `'drain'` for this destination (undefined = the connected peer). */
  #waitDrain(path: string | undefined): void {
    const key = path ?? "";
    if (this.#waiters.has(key) || this.#wantWritable.has(key)) return;
    this.#wantWritable.add(key);
    this.#setEvents(EV_READ | EV_WRITE);
  }

  #setEvents(ev: number): void {
    if (!this.#poll || ev === this.#pollEvents) return;
    this.#pollEvents = ev;
    native().pollUpdate(this.#poll, ev);
  }

  #onPoll(status: number, events: number): void {
    if (this.#closed) return;
    if (status < 0) {
      this.emit("error", errnoError(status, "uv_poll", `fd ${this.#fd}`));
      return;
    }
    if (events & EV_READ) this.#readAll();
    if (this.#closed || !(events & EV_WRITE)) return;
    // Own send buffer has room again. A connected peer's queue is part of that signal; for
    // other destinations, ask a socket connected to them.
    this.#setEvents(EV_READ);
    const keys = [...this.#wantWritable];
    this.#wantWritable.clear();
    for (const key of keys) {
      if (key === "") { this.emit("drain", undefined); continue; }
      const w = drainWaiter(key, () => {
        this.#waiters.delete(key);
        if (!this.#closed) this.emit("drain", key);
      });
      this.#waiters.set(key, w);
      if (!this.#ref) w.unref();
    }
  }

  #readAll(): void {
    const n = native();
    for (let i = 0; i < READS_PER_WAKEUP && !this.#closed; i++) {
      const r = n.recvmsg(this.#fd, this.#max);
      if (typeof r === "number") {
        if (r === -osc.errno.EAGAIN || r === -osc.errno.EINTR) return;
        this.emit("error", errnoError(r, "recvmsg", `fd ${this.#fd}`));
        return;
      }
      if (!this.#receiveFds) for (const fd of r.fds) n.close(fd);
      const rinfo: UnixRemoteInfo = {
        path: r.from.path ? decodeUnixPath(r.from.path) : "",
        size: r.length,
        truncated: r.length > r.data.length,
        fds: this.#receiveFds ? r.fds : [],
        pid: r.pid, uid: r.uid, gid: r.gid,
      };
      this.emit("message", r.data, rinfo);
    }
  }

  /** The bound address: `{ path }` (`""` when unbound). */
  address(): { path: string } {
    if (this.#closed) throw closedError();
    return { path: this.#fd < 0 ? "" : this.#boundPath() };
  }

  /** The connected peer: `{ path }`. Throws ERR_SD_INVALID_ARG when not connected. */
  remoteAddress(): { path: string } {
    if (this.#connected === undefined) throw new SdError("ERR_SD_INVALID_ARG", "remoteAddress(): the socket is not connected.");
    return { path: this.#connected };
  }

  /** SO_RCVBUF / SO_SNDBUF, like `dgram.Socket`. */
  setRecvBufferSize(size: number): void { this.#setBuf(K().SO_RCVBUF!, size, "SO_RCVBUF"); }
  setSendBufferSize(size: number): void { this.#setBuf(K().SO_SNDBUF!, size, "SO_SNDBUF"); }
  getRecvBufferSize(): number { return check(native().getsockopt(this.#ensure(), K().SOL_SOCKET!, K().SO_RCVBUF!), "getsockopt", "SO_RCVBUF"); }
  getSendBufferSize(): number { return check(native().getsockopt(this.#ensure(), K().SOL_SOCKET!, K().SO_SNDBUF!), "getsockopt", "SO_SNDBUF"); }
  #setBuf(opt: number, size: number, label: string): void {
    check(native().setsockopt(this.#ensure(), K().SOL_SOCKET!, opt, size), "setsockopt", label);
  }

  /** Keep the event loop alive while the socket is open (the default). */
  ref(): this {
    this.#ref = true;
    if (this.#poll) native().pollRef(this.#poll, true);
    for (const w of this.#waiters.values()) w.ref();
    return this;
  }

  /** Let the process exit even though the socket is open. */
  unref(): this {
    this.#ref = false;
    if (this.#poll) native().pollRef(this.#poll, false);
    for (const w of this.#waiters.values()) w.unref();
    return this;
  }

  /** Closes the fd (never the socket file, never an exported dup). Idempotent; `cb` on `'close'`. */
  close(cb?: () => void): this {
    if (cb) this.once("close", cb);
    if (this.#closed) return this;
    this.#closed = true;
    for (const w of this.#waiters.values()) w.cancel();
    this.#waiters.clear();
    this.#wantWritable.clear();
    if (this.#poll) native().pollStop(this.#poll);
    this.#poll = undefined;
    if (this.#fd >= 0) native().close(this.#fd);
    this.#fd = -1;
    process.nextTick(() => this.emit("close"));
    return this;
  }
}

function closedError(): SdError {
  return new SdError("ERR_SD_SOCKET_CLOSED", "The UnixDatagramSocket is closed: create a new one.");
}

function check(ret: number, syscall: string, detail: string): number {
  if (ret < 0) throw errnoError(ret, syscall, detail);
  return ret;
}
