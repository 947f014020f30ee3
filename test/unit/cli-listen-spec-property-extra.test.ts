// More property tests of the `-l` address parser (10,000 cases each; test/unit/cli-listen-spec
// has 3,000-case ones): a model of systemd's address syntax decides acceptance of near-valid
// input; arbitrary input never throws anything but a usage error; canonical text round-trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isIPv4, isIPv6 } from "node:net";
import fc from "fast-check";
import { SdError } from "../../src/errors.js";
import { formatListenSpec, parseListenSpec, type ListenSpec, type SocketType } from "../../src/cli/listen-spec.js";

const octetText = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom("256", "01", "00", "-1", "", "1a", "999"));
const portText = fc.oneof(fc.integer({ min: 0, max: 65535 }).map(String), fc.constantFrom("65536", "080", "00000", "123456", "", "-1", "8o", " 80"));
const prefix = fc.constantFrom("", "tcp:", "udp:", "stream:", "datagram:", "dgram:", "seqpacket:", "fifo:", "tcp:udp:");
const defType = fc.constantFrom<SocketType>("stream", "datagram", "seqpacket");

/** Whether systemd's syntax (plus sdkit's prefixes and port 0) accepts an inet candidate. */
function inetModel(pfx: string, host: string | undefined, v6: boolean, port: string): boolean {
  if (pfx === "fifo:" || pfx === "tcp:udp:") return false;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return false;
  if (host === undefined) return true;
  return v6 ? isIPv6(host) && !host.includes("%") : isIPv4(host);
}

test("property: IPv4/IPv6/bare-port candidates are accepted exactly when the model says so (10,000 cases)", () => {
  let accepted = 0;
  const cand = fc.oneof(
    fc.tuple(prefix, fc.array(octetText, { minLength: 3, maxLength: 5 }).map((o) => o.join(".")), portText).map(([p, h, n]) => ({ p, host: h as string | undefined, v6: false, port: n, text: `${p}${h}:${n}` })),
    fc.tuple(prefix, fc.oneof(fc.ipV6(), fc.constantFrom("::1", "fe80::1%eth0", "1:2:3", "::ffff:1.2.3.4", "zz::")), portText).map(([p, h, n]) => ({ p, host: h as string | undefined, v6: true, port: n, text: `${p}[${h}]:${n}` })),
    fc.tuple(prefix, portText).map(([p, n]) => ({ p, host: undefined as string | undefined, v6: true, port: n, text: `${p}${n}` })),
  );
  fc.assert(fc.property(cand, defType, (c, def) => {
    let spec: ListenSpec | undefined;
    try { spec = parseListenSpec(c.text, def); } catch (e) { assert.ok(e instanceof SdError && e.code === "ERR_SD_CLI_USAGE", String(e)); }
    const want = inetModel(c.p, c.host, c.v6, c.port) && c.port !== "";
    assert.equal(spec !== undefined, want, `${JSON.stringify(c.text)}: accepted=${spec !== undefined}`);
    if (!spec) return;
    accepted++;
    assert.equal(spec.kind, "inet");
    assert.equal(spec.port, Number(c.port));
    assert.equal(spec.host, c.host ?? "::");
    assert.equal(spec.family, c.v6 ? 6 : 4);
    const t = c.p === "tcp:" || c.p === "stream:" ? "stream" : c.p === "udp:" || c.p === "datagram:" || c.p === "dgram:" ? "datagram" : c.p === "seqpacket:" ? "seqpacket" : def;
    assert.equal(spec.type, t);
  }), { numRuns: 10_000 });
  assert.ok(accepted > 2000, `only ${accepted} accepted`);
});

test("property: arbitrary text parses or fails with ERR_SD_CLI_USAGE only, and what parses has no control characters (10,000 cases)", () => {
  const noisy = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }),
    fc.tuple(prefix, fc.array(fc.constantFrom(..."0123456789.:[]/@%abcdef\n\0 ".split("")), { maxLength: 24 }).map((a) => a.join(""))).map(([p, s]) => p + s));
  fc.assert(fc.property(noisy, defType, (text, def) => {
    let spec: ListenSpec;
    try { spec = parseListenSpec(text, def); } catch (e) {
      assert.ok(e instanceof SdError && e.code === "ERR_SD_CLI_USAGE", `${JSON.stringify(text)}: ${String(e)}`);
      assert.ok(e.message.includes("Failed to parse socket address"));
      return;
    }
    assert.doesNotMatch(text, /[\x00-\x1f\x7f]/);
    if (spec.kind !== "inet") {
      assert.ok(spec.path && (spec.path.startsWith("/") || (spec.path.startsWith("@") && spec.path.length > 1)));
      assert.ok(Buffer.byteLength(spec.path) < 108, "a path longer than sun_path was accepted");
    }
  }), { numRuns: 10_000 });
});

test("property: formatListenSpec output parses back to the same listener, for any default type (10,000 cases)", () => {
  const pathChar = fc.constantFrom(..."abcXYZ019 ._-%$\\\"'[]:@#é".split(""));
  const text = fc.oneof(
    fc.tuple(prefix.filter((p) => p !== "fifo:" && p !== "tcp:udp:"), fc.ipV4(), fc.integer({ min: 0, max: 65535 })).map(([p, h, n]) => `${p}${h}:${n}`),
    fc.tuple(prefix.filter((p) => p !== "fifo:" && p !== "tcp:udp:"), fc.ipV6(), fc.integer({ min: 0, max: 65535 })).map(([p, h, n]) => `${p}[${h}]:${n}`),
    fc.tuple(fc.constantFrom("", "stream:", "dgram:", "seqpacket:", "fifo:"), fc.constantFrom("/", "@"), fc.array(pathChar, { minLength: 1, maxLength: 50 })).filter(([p, s]) => !(p === "fifo:" && s === "@")).map(([p, s, c]) => p + s + c.join("")),
  );
  fc.assert(fc.property(text, defType, defType, (t, def, def2) => {
    const a = parseListenSpec(t, def);
    const b = parseListenSpec(formatListenSpec(a, def2), def2);
    assert.deepEqual({ ...b, explicitType: undefined }, { ...a, explicitType: undefined }, t);
  }), { numRuns: 10_000 });
});
