/**
 * Parses the listener addresses of `sdkit activate -l` / `sdkit run -l` / `sdkit unit -l`.
 * Pure: no sockets are touched here.
 *
 * The address syntax is systemd's (`socket_address_parse`, as in `ListenStream=` and
 * `systemd-socket-activate -l`): `PORT` (dual-stack `[::]:PORT`), `1.2.3.4:PORT`,
 * `[::1]:PORT`, `/path` and `@abstract`. Two extensions: port 0 is allowed (the kernel picks a
 * free port; systemd rejects it), and an optional type prefix sets the kind of one listener,
 * so stream, datagram and FIFO listeners can be mixed in one run:
 * `tcp:` `udp:` `stream:` `datagram:` (alias `dgram:`) `seqpacket:` `fifo:`.
 * @module
 */
import { isIPv4, isIPv6 } from "node:net";
import { SdError } from "../errors.js";
import { encodeUnixPath } from "../util/unix-path.js";

/** Socket type of a listener (FIFOs have none). */
export type SocketType = "stream" | "datagram" | "seqpacket";

/** One parsed `-l` listener. */
export interface ListenSpec {
  /** What to create: an IP socket, a Unix socket or a FIFO. */
  kind: "inet" | "unix" | "fifo";
  /** Socket type; `"stream"` for FIFOs (unused there). */
  type: SocketType;
  /** inet: 4 or 6. */
  family?: 4 | 6;
  /** inet: the numeric address without brackets (`"::"` for a bare port). */
  host?: string;
  /** inet: the port; 0 = any free port. */
  port?: number;
  /** unix: `/path` or `@name`; fifo: the path. */
  path?: string;
  /** unix: an abstract-namespace name (`@name`). */
  abstract: boolean;
  /** A FIFO (`fifo:/path`, systemd's `ListenFIFO=`). */
  fifo: boolean;
  /** Whether the type came from a prefix (so `-d` / `--seqpacket` do not override it). */
  explicitType: boolean;
}

type Prefix = { type?: SocketType; inet?: boolean; fifo?: boolean };
const PREFIXES: Record<string, Prefix> = {
  "tcp:": { type: "stream", inet: true },
  "udp:": { type: "datagram", inet: true },
  "stream:": { type: "stream" },
  "datagram:": { type: "datagram" },
  "dgram:": { type: "datagram" },
  "seqpacket:": { type: "seqpacket" },
  "fifo:": { fifo: true },
};

function bad(text: string, why: string): SdError {
  return new SdError("ERR_SD_CLI_USAGE", `Failed to parse socket address ${JSON.stringify(text)}: ${why}`);
}

function parsePort(text: string, s: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw bad(text, `the port must be a number from 0 to 65535, not ${JSON.stringify(s)}.`);
  return Number(s);
}

/**
 * Parses one listener address. `defaultType` applies when no prefix is given (that is what the
 * global `-d` / `--seqpacket` flags set, as in systemd-socket-activate). Throws an
 * `ERR_SD_CLI_USAGE` SdError that says what is wrong.
 */
export function parseListenSpec(text: string, defaultType: SocketType = "stream"): ListenSpec {
  let rest = text;
  let prefix: Prefix | undefined;
  for (const [p, v] of Object.entries(PREFIXES)) {
    if (rest.startsWith(p)) { prefix = v; rest = rest.slice(p.length); break; }
  }
  if (prefix && Object.keys(PREFIXES).some((p) => rest.startsWith(p))) throw bad(text, "give at most one type prefix.");
  const type = prefix?.type ?? defaultType;
  const explicitType = prefix !== undefined;
  if (rest.length === 0) throw bad(text, "the address is empty.");
  if (/[\x00-\x1f\x7f]/.test(rest)) throw bad(text, "the address contains a control character.");

  if (prefix?.fifo) {
    if (!rest.startsWith("/")) throw bad(text, "a FIFO needs an absolute path (fifo:/run/app.fifo).");
    return { kind: "fifo", type: "stream", path: rest, abstract: false, fifo: true, explicitType };
  }
  if (rest.startsWith("/") || rest.startsWith("@")) {
    if (prefix?.inet) throw bad(text, `${text.slice(0, 4)} needs an IP address and port, not a Unix socket path.`);
    if (rest === "@") throw bad(text, "the abstract socket name after @ is empty.");
    try { encodeUnixPath(rest); } catch (e) { throw bad(text, (e as Error).message); }
    return { kind: "unix", type, path: rest, abstract: rest.startsWith("@"), fifo: false, explicitType };
  }
  if (rest.includes("%")) throw bad(text, "interface scoping (%iface) is not supported.");
  if (/^\d+$/.test(rest)) {
    // systemd: a bare port listens on [::] without IPV6_V6ONLY, i.e. dual-stack.
    return { kind: "inet", type, family: 6, host: "::", port: parsePort(text, rest), abstract: false, fifo: false, explicitType };
  }
  if (rest.startsWith("[")) {
    const m = /^\[([^\]]*)\]:(.*)$/.exec(rest);
    if (!m) throw bad(text, "write IPv6 addresses as [ADDRESS]:PORT, e.g. [::1]:8080.");
    if (!isIPv6(m[1]!)) throw bad(text, `${JSON.stringify(m[1])} is not a numeric IPv6 address.`);
    return { kind: "inet", type, family: 6, host: m[1]!, port: parsePort(text, m[2]!), abstract: false, fifo: false, explicitType };
  }
  if (isIPv6(rest)) throw bad(text, "put IPv6 addresses in brackets and add a port, e.g. [::1]:8080.");
  const colon = rest.lastIndexOf(":");
  if (colon < 0) throw bad(text, "expected PORT, IPv4:PORT, [IPv6]:PORT, /path or @name.");
  const host = rest.slice(0, colon);
  if (!isIPv4(host)) throw bad(text, `${JSON.stringify(host)} is not a numeric IPv4 address (host names are not resolved).`);
  return { kind: "inet", type, family: 4, host, port: parsePort(text, rest.slice(colon + 1)), abstract: false, fifo: false, explicitType };
}

/** The address part as systemd prints it: `127.0.0.1:80`, `[::1]:80`, `/path`, `@name`. */
export function formatAddress(spec: ListenSpec, port = spec.port): string {
  if (spec.kind !== "inet") return spec.path!;
  return spec.family === 6 ? `[${spec.host}]:${port}` : `${spec.host}:${port}`;
}

/** The canonical `-l` text for a spec; `parseListenSpec(formatListenSpec(s))` gives `s` back. */
export function formatListenSpec(spec: ListenSpec, defaultType: SocketType = "stream"): string {
  if (spec.fifo) return `fifo:${spec.path}`;
  if (!spec.explicitType && spec.type === defaultType) return formatAddress(spec);
  const prefix = spec.kind === "inet" && spec.type !== "seqpacket" ? (spec.type === "stream" ? "tcp:" : "udp:") : `${spec.type}:`;
  return prefix + formatAddress(spec);
}
