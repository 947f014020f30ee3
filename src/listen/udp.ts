/**
 * `listenUDP`: the UDP socket systemd passed (`ListenDatagram=`, by name and/or address),
 * otherwise a new one, as a bound `dgram.Socket`, exported. The seed's `NamedListenUDP` is a
 * stub returning nothing; this one works.
 * @module
 */
import type dgram from "node:dgram";
import { K, native } from "../native/binding.js";
import { inspectFd } from "../filetest/inspect.js";
import { adoptDgram, checkName, exportTracked, takeInherited, type CommonListenOptions } from "./adopt.js";
import { createInetSocket, formatInet } from "./create.js";
import { bindAddresses, checkPort, cleanHost, describeWanted, familyUnavailable, inetTests, type IpVersion } from "./inet.js";

/** Options of {@link listenUDP}. */
export interface ListenUDPOptions extends CommonListenOptions {
  /**
   * Address to bind: an IP address or a host name. Omitted: all addresses (`::` dual-stack, or
   * `0.0.0.0`); when inheriting, any address.
   * @default undefined
   */
  host?: string;
  /**
   * Port; 0 picks a free port (and, when inheriting, matches any port).
   * @default 0
   */
  port?: number;
  /**
   * `"udp4"` or `"udp6"` to restrict the IP version, as in `dgram.createSocket`.
   * @default undefined (either; a wildcard socket is IPv6 dual-stack when available)
   */
  type?: "udp4" | "udp6";
  /**
   * Create the socket with SO_REUSEPORT (ignored for inherited sockets).
   * @default false
   */
  reusePort?: boolean;
  /**
   * For IPv6: IPv6 only (IPV6_V6ONLY); otherwise `::` also receives IPv4.
   * @default false
   */
  ipv6Only?: boolean;
}

/**
 * Returns a bound UDP `dgram.Socket`: the inherited one with `name` and address if any
 * (ERR_SD_WRONG_KIND if the name exists but is something else), else a new one. Exported under
 * `name`, the inherited name, or `"udp"`.
 * @throws SdError ERR_SD_ADDRESS_IN_USE, ERR_SD_PERMISSION, ERR_SD_WRONG_KIND, ERR_SD_INVALID_ARG
 */
export async function listenUDP(opts: ListenUDPOptions = {}): Promise<dgram.Socket> {
  const name = checkName(opts.name);
  const port = checkPort(opts.port, "listenUDP");
  const host = cleanHost(opts.host);
  const version: IpVersion | undefined = opts.type === "udp4" ? 4 : opts.type === "udp6" ? 6 : undefined;
  const want = describeWanted("udp", host, port, version);

  const inherited = takeInherited(name, inetTests("udp", host, port, version), want);
  if (inherited) {
    let sock: dgram.Socket;
    try {
      sock = adoptDgram(inherited.fd, udpType(inherited.fd), want);
    } catch (e) {
      if (inherited.lockFd !== undefined) native().close(inherited.lockFd);
      throw e;
    }
    return exportTracked(name ?? inherited.name, sock, inherited.lockFd, opts.forgetOnClose);
  }

  const candidates = await bindAddresses(host, version, "listenUDP");
  for (const [i, a] of candidates.entries()) {
    let fd: number;
    try {
      fd = createInetSocket({ family: a.family, type: "dgram", host: a.host, port, reusePort: opts.reusePort ?? false, ipv6Only: opts.ipv6Only ?? false });
    } catch (e) {
      if (i === candidates.length - 1 || !familyUnavailable(e)) throw e;
      continue;
    }
    const sock = adoptDgram(fd, a.family === K().AF_INET6 ? "udp6" : "udp4", formatInet(a.host, port));
    return exportTracked(name ?? "udp", sock, undefined, opts.forgetOnClose);
  }
  /* c8 ignore next */
  throw new Error("unreachable: bindAddresses returns at least one address");
}

/** The dgram type for an inherited UDP fd (Node must be told the family). */
function udpType(fd: number): "udp4" | "udp6" {
  return inspectFd(fd).family === K().AF_INET6 ? "udp6" : "udp4";
}
