/**
 * IP literals, recognised by inet_pton (through `net.SocketAddress`) instead of `net.isIP`:
 * Node's IPv6 regular expression takes ~20 ms to compile on first use, more than adopting a
 * hundred inherited sockets, and a daemon's start-up pays it for nothing.
 * @module
 */
import { isIP, SocketAddress } from "node:net";

/** 4 or 6 for an IPv4/IPv6 literal, otherwise 0: exactly `net.isIP`. */
export function ipVersion(text: string): 0 | 4 | 6 {
  // Zone ids ("fe80::1%eth0") are rare and have edge cases of their own: leave them to Node.
  if (text.includes("%")) return isIP(text) as 0 | 4 | 6;
  const family = text.includes(":") ? "ipv6" : "ipv4";
  // A name such as "localhost" is not an address: skip the parse (and its exception).
  if (family === "ipv4" && !/^[0-9.]+$/.test(text)) return 0;
  try {
    new SocketAddress({ address: text, family });
    return family === "ipv6" ? 6 : 4;
  } catch {
    return 0;
  }
}

/** The canonical (inet_ntop) text of an IPv6 literal (zone id dropped), or undefined when `text` is not one. */
export function canonicalIPv6(text: string): string | undefined {
  if (ipVersion(text) !== 6) return undefined;
  try {
    return new SocketAddress({ address: text, family: "ipv6" }).address;
  } catch {
    return undefined;
  }
}
