/**
 * `listenTCP`: the TCP listener systemd passed (by name and/or address), otherwise a new one,
 * as a listening `net.Server` (or the caller's own `http`/`https`/`http2` server), exported so
 * a successor process or the FD store gets it. The seed's `ListenTCP`/`NamedListenTCP`.
 * @module
 */
import net from "node:net";
import { adoptServer, checkName, exportTracked, serverFrom, takeInherited, type CommonListenOptions, type ServerOrHandler } from "./adopt.js";
import { createInetSocket, formatInet } from "./create.js";
import { bindAddresses, checkBacklog, checkPort, cleanHost, describeWanted, familyUnavailable, inetTests, type IpVersion } from "./inet.js";
import { native } from "../native/binding.js";

/** Options of {@link listenTCP}. */
export interface ListenTCPOptions extends CommonListenOptions {
  /**
   * Address to listen on: an IP address or a host name (resolved; the first address is used).
   * Omitted: all addresses (`::` dual-stack, or `0.0.0.0` without IPv6). When inheriting,
   * omitted means any address.
   * @default undefined
   */
  host?: string;
  /**
   * Port; 0 picks a free port. When inheriting, 0 matches any port, so a successor that asks
   * for port 0 again gets the socket its predecessor was given (matched by host).
   * @default 0
   */
  port?: number;
  /**
   * Restrict to one IP version (what `"tcp4"`/`"tcp6"` mean for {@link listen}).
   * @default undefined (either)
   */
  family?: IpVersion;
  /**
   * The server to start: a `net.Server`, `http.Server`, `https.Server`, `http2` server, or a
   * request handler such as an Express app (wrapped in `http.createServer`). Must not be
   * listening yet.
   * @default a new `net.Server`
   */
  server?: ServerOrHandler;
  /**
   * Listen backlog. Node re-applies it to inherited sockets too (libuv calls listen() again).
   * @default 511
   */
  backlog?: number;
  /**
   * Create the socket with SO_REUSEPORT, so several processes can listen on the same port (sdkit
   * sets it natively: Node 20 ignores `reusePort`). Ignored for inherited sockets (systemd's
   * `ReusePort=` decides there).
   * @default false
   */
  reusePort?: boolean;
  /**
   * For IPv6 addresses: accept IPv6 only (IPV6_V6ONLY). Otherwise `::` is dual-stack. Set
   * explicitly on every IPv6 socket sdkit creates, whatever the host's bindv6only default.
   * @default false
   */
  ipv6Only?: boolean;
}

/**
 * Returns a listening TCP server: the inherited socket with the given `name` and address if
 * there is one (ERR_SD_WRONG_KIND if the name exists but is something else), otherwise a new
 * socket. The result is exported (under `name`, the inherited name, or `"tcp"`).
 * @throws SdError ERR_SD_ADDRESS_IN_USE, ERR_SD_PERMISSION, ERR_SD_WRONG_KIND, ERR_SD_INVALID_ARG
 */
export async function listenTCP<S extends net.Server = net.Server>(opts: ListenTCPOptions & { server?: S | ServerOrHandler } = {}): Promise<S> {
  const name = checkName(opts.name);
  const port = checkPort(opts.port, "listenTCP");
  const backlog = checkBacklog(opts.backlog);
  const host = cleanHost(opts.host);
  const version = opts.family;
  const server = serverFrom(opts.server, () => net.createServer()) as S;

  const want = describeWanted("tcp", host, port, version);
  const inherited = takeInherited(name, inetTests("tcp", host, port, version), want);
  if (inherited) {
    let s: S;
    try {
      const r = adoptServer(inherited.fd, server, backlog, want, inherited.id);
      s = r === server ? server : await r; // no await (and no extra tick) when Node took it at once
    } catch (e) {
      if (inherited.lockFd !== undefined) native().close(inherited.lockFd);
      throw e;
    }
    return exportTracked(name ?? inherited.name, s, inherited.lockFd, opts.forgetOnClose, inherited.id);
  }

  const candidates = await bindAddresses(host, version, "listenTCP");
  let fd = -1;
  for (const [i, a] of candidates.entries()) {
    try {
      fd = createInetSocket({ family: a.family, type: "stream", host: a.host, port, backlog, reusePort: opts.reusePort ?? false, ipv6Only: opts.ipv6Only ?? false });
      break;
    } catch (e) {
      if (i === candidates.length - 1 || !familyUnavailable(e)) throw e;
    }
  }
  const what = describeAddress(fd);
  const s = await adoptServer(fd, server, backlog, what);
  return exportTracked(name ?? "tcp", s, undefined, opts.forgetOnClose);
}

/** The bound address of a fresh socket, for messages. */
function describeAddress(fd: number): string {
  const a = native().getsockname(fd);
  return typeof a === "number" || a.address === undefined ? `fd ${fd}` : formatInet(a.address, a.port ?? 0);
}
