/**
 * Opens the listeners of a parsed `-l` list the way systemd's `socket_address_listen` does:
 * SO_REUSEADDR, no IPV6_V6ONLY (a bare port is dual-stack), listen() for stream and seqpacket,
 * a stale socket file replaced, FIFOs opened read-write and non-blocking like `ListenFIFO=`.
 * Every fd is close-on-exec; the caller decides which ones a child gets.
 * @module
 */
import { lstatSync, mkdirSync, openSync, statSync, unlinkSync, constants as fsc } from "node:fs";
import { dirname } from "node:path";
import { getSystemErrorMap } from "node:util";
import { native, K, check, checkValue } from "../native/binding.js";
import { SdError } from "../errors.js";
import { encodeUnixPath, decodeUnixPath } from "../util/unix-path.js";
import { formatAddress, type ListenSpec } from "./listen-spec.js";

/** An open listener: the fd and what it is bound to (with the real port when 0 was asked). */
export interface OpenListener {
  fd: number;
  spec: ListenSpec;
  /** Printable bound address: `127.0.0.1:8080`, `[::]:80`, `/run/x.sock`, `@name`, FIFO path. */
  address: string;
}

/** systemd uses SOMAXCONN_DELUXE (INT_MAX, capped by the kernel at net.core.somaxconn). */
const BACKLOG = 0x7fffffff;

function socketType(spec: ListenSpec): number {
  const c = K();
  return spec.type === "datagram" ? c.SOCK_DGRAM! : spec.type === "seqpacket" ? c.SOCK_SEQPACKET! : c.SOCK_STREAM!;
}

function openFifo(spec: ListenSpec): OpenListener {
  const path = spec.path!;
  mkdirSync(dirname(path), { recursive: true });
  const r = native().mkfifo(path, 0o666);
  if (r < 0 && !(r === -17 /* EEXIST */ && statSync(path).isFIFO())) check(r, "mkfifo", path, "the path exists and is not a FIFO");
  // O_RDWR keeps a writer open, so readers never see EOF between clients (systemd does the same).
  const fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  return { fd, spec, address: path };
}

function bindUnix(fd: number, path: string): void {
  const addr = { family: K().AF_UNIX!, path: encodeUnixPath(path) };
  let r = native().bind(fd, addr);
  if (r === -98 /* EADDRINUSE */ && !path.startsWith("@")) {
    // A socket file left by an earlier run: replace it, as systemd does. Never remove other files.
    let isSocket = false;
    try { isSocket = lstatSync(path).isSocket(); } catch { /* vanished meanwhile: just retry */ }
    if (isSocket) unlinkSync(path);
    r = native().bind(fd, addr);
  }
  check(r, "bind", path);
}

/** Opens one listener. Throws an SdError (with `syscall`/`sysCode`) when it cannot. */
export function openListener(spec: ListenSpec): OpenListener {
  if (spec.kind === "fifo") return openFifo(spec);
  const c = K();
  const n = native();
  const domain = spec.kind === "unix" ? c.AF_UNIX! : spec.family === 6 ? c.AF_INET6! : c.AF_INET!;
  const fd = check(n.socket(domain, socketType(spec) | c.SOCK_CLOEXEC!, 0), "socket", formatAddress(spec));
  try {
    check(n.setsockopt(fd, c.SOL_SOCKET!, c.SO_REUSEADDR!, 1), "setsockopt", "SO_REUSEADDR");
    if (spec.kind === "unix") {
      if (!spec.abstract) mkdirSync(dirname(spec.path!), { recursive: true });
      bindUnix(fd, spec.path!);
    } else {
      check(n.bind(fd, { family: domain, address: spec.host!, port: spec.port! }), "bind", formatAddress(spec));
    }
    if (spec.type !== "datagram") check(n.listen(fd, BACKLOG), "listen", formatAddress(spec));
    const name = checkValue(n.getsockname(fd), "getsockname");
    const address = spec.kind === "unix" ? decodeUnixPath(name.path!) : formatAddress(spec, name.port);
    return { fd, spec, address };
  } catch (e) {
    n.close(fd);
    throw e;
  }
}

/** Opens every listener in order; on failure closes the ones already opened and rethrows. */
export function openListeners(specs: ListenSpec[]): OpenListener[] {
  const out: OpenListener[] = [];
  try {
    for (const s of specs) out.push(openListener(s));
    return out;
  } catch (e) {
    for (const l of out) native().close(l.fd);
    throw e;
  }
}

/**
 * The text after "Failed to open 'X': " — the system's description of the errno plus its name
 * ("address not available (EADDRNOTAVAIL)"), close to systemd's strerror output.
 */
export function errorText(e: unknown): string {
  if (e instanceof SdError && e.errno !== undefined) {
    const text = getSystemErrorMap().get(e.errno)?.[1];
    if (text) return `${text} (${e.sysCode})`;
  }
  return e instanceof Error ? e.message : String(e);
}
