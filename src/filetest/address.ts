/**
 * Listener tests by address: the seed's `IsTCPListener`, `IsUDPListener`, `IsUNIXListener`,
 * fixed: a UDP socket is never "listening" (SO_ACCEPTCONN), so a bound UDP socket matches;
 * and no address means any listener, abstract ones included.
 * @module
 */
import { K } from "../native/binding.js";
import { canonicalIPv6 } from "../util/ip.js";
import type { FileTest } from "../registry/pool.js";
import { inspectFdLean as inspectFd, type FdInfo } from "./inspect.js";
import { named } from "./socket.js";

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** An IP address to match: omitted host = any host; omitted or 0 port = any port. */
export interface InetAddr { host?: string; port?: number }

/**
 * Canonical text of an address, so equal addresses compare equal: IPv6 in inet_ntop's form
 * (`0:0::1` → `::1`, as getsockname reports it), IPv4-mapped IPv6 (`::ffff:7f00:1`) as IPv4.
 */
export function normalizeHost(host: string): string {
  // Dotted IPv4 (the common case, once per listener) is already canonical.
  if (IPV4.test(host)) return host;
  let h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (!h.includes(":")) return h;
  h = canonicalIPv6(h) ?? h;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return m ? m[1]! : h;
}

/** A matcher for sockets on `addr`, with the wanted host normalised once, not per fd. */
function inetMatcher(addr: InetAddr | undefined): (i: FdInfo) => boolean {
  const port = addr?.port ?? 0;
  const want = addr?.host === undefined || addr.host === "" ? undefined : normalizeHost(addr.host);
  return (i) => {
    const c = K();
    if (i.kind !== "socket" || (i.family !== c.AF_INET && i.family !== c.AF_INET6)) return false;
    if (port !== 0 && i.port !== port) return false;
    if (want === undefined) return true;
    // getsockname's text is inet_ntop's already: only a v4-mapped IPv6 address needs work.
    const raw = i.address ?? "";
    const got = raw.startsWith("::ffff:") ? normalizeHost(raw) : raw;
    if (want === got) return true;
    // "localhost" resolves to either loopback; accept the one the socket has.
    if (want === "localhost") return got === "127.0.0.1" || got === "::1";
    // Otherwise no match: an IPv4 host never equals an IPv6 socket (even a wildcard one).
    return false;
  };
}

/** A listening TCP socket, optionally on `addr`. */
export function isTCPListener(addr?: InetAddr): FileTest {
  const matches = inetMatcher(addr);
  return named(`TCP listener${addr ? ` on ${addr.host ?? "*"}:${addr.port || "*"}` : ""}`, (fd) => {
    const i = inspectFd(fd);
    return i.type === K().SOCK_STREAM && i.listening === true && matches(i);
  });
}

/** A bound UDP socket, optionally on `addr` (UDP sockets never have SO_ACCEPTCONN). */
export function isUDPListener(addr?: InetAddr): FileTest {
  const matches = inetMatcher(addr);
  return named(`UDP socket${addr ? ` on ${addr.host ?? "*"}:${addr.port || "*"}` : ""}`, (fd) => {
    const i = inspectFd(fd);
    return i.type === K().SOCK_DGRAM && (i.port ?? 0) !== 0 && matches(i);
  });
}

/** A listening Unix stream socket, optionally bound to `path` (`@name` = abstract). */
export function isUnixListener(path?: string): FileTest {
  return named(`Unix listener${path ? ` at ${path}` : ""}`, (fd) => {
    const i = inspectFd(fd);
    return i.kind === "socket" && i.family === K().AF_UNIX && i.type === K().SOCK_STREAM && i.listening === true &&
      (path === undefined || i.path === path);
  });
}
