/**
 * IP address handling shared by TCP and UDP: which address to bind when none is given, host
 * name resolution, and the file tests that recognise an inherited socket for an address.
 * @module
 */
import { lookup } from "node:dns/promises";
import { SdError } from "../errors.js";
import { isTCPListener, isUDPListener } from "../filetest/address.js";
import { isSocketInet } from "../filetest/socket.js";
import { K } from "../native/binding.js";
import { ipVersion } from "../util/ip.js";
import type { FileTest } from "../registry/pool.js";

/** IPv4 or IPv6, as Node spells families in `net`/`dgram` (`4`/`6`). */
export type IpVersion = 4 | 6;

/** One candidate bind address: AF_* number and numeric host. */
export interface BindAddress { family: number; host: string }

/** Checks a port number (0 = any free port). */
export function checkPort(port: unknown, what: string): number {
  if (port === undefined) return 0;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SdError("ERR_SD_INVALID_ARG", `${what}: port must be an integer from 0 to 65535 (0 = any free port), got ${JSON.stringify(port)}.`);
  }
  return port;
}

/** Checks a backlog (a positive integer). */
export function checkBacklog(backlog: unknown): number | undefined {
  if (backlog === undefined) return undefined;
  if (typeof backlog !== "number" || !Number.isInteger(backlog) || backlog < 1) {
    throw new SdError("ERR_SD_INVALID_ARG", `backlog must be a positive integer, got ${JSON.stringify(backlog)}.`);
  }
  return backlog;
}

/** Host as written by the user, without brackets; `""` and undefined mean "all addresses". */
export function cleanHost(host: string | undefined): string | undefined {
  if (host === undefined || host === "") return undefined;
  return host.startsWith("[") ? host.replace(/^\[(.*)\]$/, "$1") : host;
}

function familyOf(version: IpVersion): number {
  return version === 6 ? K().AF_INET6! : K().AF_INET!;
}

/**
 * The addresses to try, in order. No host: IPv6 wildcard `::` (dual-stack unless ipv6Only),
 * then `0.0.0.0` for hosts without IPv6 — Node's own default. A name is resolved (the first
 * address wins, like Node's `listen`).
 */
export async function bindAddresses(host: string | undefined, version: IpVersion | undefined, what: string): Promise<BindAddress[]> {
  if (host === undefined) {
    if (version === 4) return [{ family: familyOf(4), host: "0.0.0.0" }];
    if (version === 6) return [{ family: familyOf(6), host: "::" }];
    return [{ family: familyOf(6), host: "::" }, { family: familyOf(4), host: "0.0.0.0" }];
  }
  const literal = ipVersion(host);
  if (literal !== 0) {
    if (version !== undefined && version !== literal) {
      throw new SdError("ERR_SD_INVALID_ARG", `${what}: ${host} is an IPv${literal} address but IPv${version} was asked for.`);
    }
    return [{ family: familyOf(literal as IpVersion), host }];
  }
  try {
    const r = await lookup(host, { family: version ?? 0 });
    return [{ family: familyOf(r.family as IpVersion), host: r.address }];
  } catch (e) {
    throw new SdError("ERR_SD_INVALID_ARG", `${what}: cannot resolve host ${JSON.stringify(host)} (${(e as Error).message}): use an IP address or a name in /etc/hosts.`, { cause: e });
  }
}

/**
 * File tests recognising an inherited socket for `host:port` (port 0 = any port, so a successor
 * asking for port 0 again finds the socket by host). `localhost` matches either loopback.
 */
export function inetTests(kind: "tcp" | "udp", host: string | undefined, port: number, version: IpVersion | undefined): FileTest[] {
  const addr = host !== undefined ? { host, port } : { port };
  const tests: FileTest[] = [kind === "tcp" ? isTCPListener(addr) : isUDPListener(addr)];
  if (version !== undefined) tests.push(isSocketInet({ family: familyOf(version) }));
  return tests;
}

/** "a TCP listener on 127.0.0.1:8080" / "a UDP socket on *:*", for messages. */
export function describeWanted(kind: "tcp" | "udp", host: string | undefined, port: number, version?: IpVersion): string {
  const h = host === undefined ? "*" : host.includes(":") ? `[${host}]` : host;
  const v = version ? ` (IPv${version})` : "";
  return `a ${kind === "tcp" ? "TCP listener" : "UDP socket"}${v} on ${h}:${port || "*"}`;
}

/**
 * Whether a failure means "this address family is unavailable here" (no IPv6 in the kernel, or
 * IPv6 disabled so `::` cannot be bound): the caller then tries the next wildcard, as Node does.
 */
export function familyUnavailable(e: unknown): boolean {
  const { syscall, sysCode } = e as SdError;
  return (syscall === "socket" && (sysCode === "EAFNOSUPPORT" || sysCode === "EPROTONOSUPPORT")) ||
    (syscall === "bind" && sysCode === "EADDRNOTAVAIL");
}
