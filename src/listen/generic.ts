/**
 * The seed's network-string entry points: `listen("tcp", "127.0.0.1:8080")`,
 * `listenPacket("udp", ":53")`, and the inherit-only `inheritNamedListener` /
 * `inheritNamedPacketConn`, which never create anything.
 * @module
 */
import type dgram from "node:dgram";
import net from "node:net";
import { SdError } from "../errors.js";
import { inspectFd } from "../filetest/inspect.js";
import { named } from "../filetest/socket.js";
import { K } from "../native/binding.js";
import type { FileTest } from "../registry/pool.js";
import { adoptDgram, adoptServerSync, exportTracked, takeInherited, type CommonListenOptions, type ServerOrHandler } from "./adopt.js";
import { listenTCP } from "./tcp.js";
import { listenUDP } from "./udp.js";
import { inheritedLockFor, listenUnix, listenUnixgram } from "./unix.js";
import { UnixDatagramSocket, type UnixDatagramSocketOptions } from "./unixgram.js";
import type { UnixSocketUnlinkPolicy } from "./unlink-policy.js";

/** Stream networks of {@link listen}. */
export type StreamNetwork = "tcp" | "tcp4" | "tcp6" | "unix";
/** Packet networks of {@link listenPacket}. */
export type PacketNetwork = "udp" | "udp4" | "udp6" | "unixgram";

/** Options of {@link listen}; each applies where it makes sense (see listenTCP / listenUnix). */
export interface ListenOptions extends CommonListenOptions {
  /** See `ListenTCPOptions.server`. @default a new `net.Server` */
  server?: ServerOrHandler;
  /** Listen backlog. @default 511 */
  backlog?: number;
  /** TCP: SO_REUSEPORT on a created socket. @default false */
  reusePort?: boolean;
  /** TCP over IPv6: IPV6_V6ONLY. @default false */
  ipv6Only?: boolean;
  /** Unix: permission bits of a created socket file. @default umask-based */
  mode?: number;
  /** Unix: unlink policy. @default the process default */
  unlinkPolicy?: UnixSocketUnlinkPolicy;
}

/** Options of {@link listenPacket}. */
export interface ListenPacketOptions extends CommonListenOptions, Omit<UnixDatagramSocketOptions, "fd"> {
  /** UDP: SO_REUSEPORT on a created socket. @default false */
  reusePort?: boolean;
  /** UDP over IPv6: IPV6_V6ONLY. @default false */
  ipv6Only?: boolean;
  /** unixgram: permission bits of a created socket file. @default umask-based */
  mode?: number;
  /** unixgram: unlink policy. @default the process default */
  unlinkPolicy?: UnixSocketUnlinkPolicy;
}

/**
 * Splits `"host:port"`, `"[v6]:port"`, `":port"` or `"port"`; `""` = any address, port 0.
 * IPv6 literals need brackets, as in Go and URLs.
 */
export function parseHostPort(address: string, fn: string): { host?: string; port: number } {
  const bad = () => new SdError("ERR_SD_INVALID_ARG", `${fn}: ${JSON.stringify(address)} is not "host:port", "[ipv6]:port", ":port" or "port".`);
  if (address === "") return { port: 0 };
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address) ?? /^()()(\d{1,5})$/.exec(address);
  if (!m) throw bad();
  const host = m[1] ?? m[2] ?? "";
  const port = Number(m[3]);
  if (port > 65535) throw bad();
  return host === "" ? { port } : { host, port };
}

/**
 * The seed's `Listen(network, address)`: `"tcp"`, `"tcp4"`, `"tcp6"` (address `"host:port"`)
 * or `"unix"` (a path or `@abstract`; `""` with a `name` = inherit only).
 */
export async function listen(network: StreamNetwork, address: string, opts: ListenOptions = {}): Promise<net.Server> {
  const { mode, unlinkPolicy, reusePort, ipv6Only, ...common } = opts;
  if (network === "unix") {
    return listenUnix({ ...common, path: address, ...(mode !== undefined ? { mode } : {}), ...(unlinkPolicy ? { unlinkPolicy } : {}) });
  }
  if (network !== "tcp" && network !== "tcp4" && network !== "tcp6") throw badNetwork("listen", network, "tcp, tcp4, tcp6, unix");
  const hp = parseHostPort(address, "listen");
  const family = network === "tcp4" ? 4 : network === "tcp6" ? 6 : undefined;
  return listenTCP({ ...common, ...hp, ...(family ? { family } : {}), ...(reusePort !== undefined ? { reusePort } : {}), ...(ipv6Only !== undefined ? { ipv6Only } : {}) });
}

/**
 * The seed's `ListenPacket(network, address)`: `"udp"`, `"udp4"`, `"udp6"` (a `dgram.Socket`)
 * or `"unixgram"` (a {@link UnixDatagramSocket}).
 */
export function listenPacket(network: "unixgram", address: string, opts?: ListenPacketOptions): Promise<UnixDatagramSocket>;
export function listenPacket(network: "udp" | "udp4" | "udp6", address: string, opts?: ListenPacketOptions): Promise<dgram.Socket>;
export function listenPacket(network: PacketNetwork, address: string, opts?: ListenPacketOptions): Promise<dgram.Socket | UnixDatagramSocket>;
export async function listenPacket(network: PacketNetwork, address: string, opts: ListenPacketOptions = {}): Promise<dgram.Socket | UnixDatagramSocket> {
  const { mode, unlinkPolicy, reusePort, ipv6Only, receiveFds, credentials, maxMessageSize, ...common } = opts;
  if (network === "unixgram") {
    return listenUnixgram({ ...common, path: address, mode, unlinkPolicy, receiveFds, credentials, maxMessageSize });
  }
  if (network !== "udp" && network !== "udp4" && network !== "udp6") throw badNetwork("listenPacket", network, "udp, udp4, udp6, unixgram");
  const hp = parseHostPort(address, "listenPacket");
  const type = network === "udp4" ? "udp4" : network === "udp6" ? "udp6" : undefined;
  return listenUDP({ ...common, ...hp, ...(type ? { type } : {}), ...(reusePort !== undefined ? { reusePort } : {}), ...(ipv6Only !== undefined ? { ipv6Only } : {}) });
}

function badNetwork(fn: string, network: string, allowed: string): SdError {
  return new SdError("ERR_SD_INVALID_ARG", `${fn}: unknown network ${JSON.stringify(network)}; use one of ${allowed}.`);
}

const streamListener = () => named("stream listener (TCP or Unix)", (fd) => {
  const i = inspectFd(fd);
  const c = K();
  return i.kind === "socket" && i.type === c.SOCK_STREAM && i.listening === true && (i.family === c.AF_INET || i.family === c.AF_INET6 || i.family === c.AF_UNIX);
});

const packetSocket = () => named("datagram socket (UDP or Unix)", (fd) => {
  const i = inspectFd(fd);
  const c = K();
  return i.kind === "socket" && i.type === c.SOCK_DGRAM && (i.family === c.AF_INET || i.family === c.AF_INET6 || i.family === c.AF_UNIX);
});

/**
 * Inherit only: the inherited stream listener (TCP or Unix) named `name` (`""` = any) passing
 * `tests`, as a listening `net.Server`, exported; undefined when there is none. Never creates.
 * @throws SdError ERR_SD_WRONG_KIND when `name` exists but none of its fds passes
 */
export function inheritNamedListener(name: string, ...tests: FileTest[]): { server: net.Server; name: string } | undefined {
  const e = takeInherited(name, [streamListener(), ...tests], describeTests("a stream listener", tests));
  if (!e) return undefined;
  const path = inspectFd(e.fd).path;
  const lockFd = e.lockFd ?? inheritedLockFor(path);
  const server = adoptServerSync(e.fd, net.createServer(), undefined, path ?? `fd ${e.fd}`);
  exportTracked(e.name, server, lockFd, false);
  return { server, name: e.name };
}

/**
 * Inherit only: the inherited datagram socket named `name` (`""` = any) passing `tests`: a
 * `dgram.Socket` for UDP, a {@link UnixDatagramSocket} for Unix; exported; undefined if none.
 * @throws SdError ERR_SD_WRONG_KIND when `name` exists but none of its fds passes
 */
export function inheritNamedPacketConn(name: string, ...tests: FileTest[]): { socket: dgram.Socket | UnixDatagramSocket; name: string } | undefined {
  const e = takeInherited(name, [packetSocket(), ...tests], describeTests("a datagram socket", tests));
  if (!e) return undefined;
  const info = inspectFd(e.fd);
  const c = K();
  if (info.family === c.AF_UNIX) {
    const lockFd = e.lockFd ?? inheritedLockFor(info.path);
    const socket = new UnixDatagramSocket({ fd: e.fd });
    return { socket: exportTracked(e.name, socket, lockFd, false), name: e.name };
  }
  const socket = adoptDgram(e.fd, info.family === c.AF_INET6 ? "udp6" : "udp4", `fd ${e.fd}`);
  return { socket: exportTracked(e.name, socket, e.lockFd, false), name: e.name };
}

function describeTests(base: string, tests: FileTest[]): string {
  const d = tests.map((t) => t.description).filter(Boolean);
  return d.length ? `${base} (${d.join(", ")})` : base;
}
