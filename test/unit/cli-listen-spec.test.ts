// The `-l` address parser of sdkit activate/run/unit: systemd's syntax plus type prefixes.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SdError } from "../../src/errors.js";
import { formatListenSpec, parseListenSpec, type ListenSpec } from "../../src/cli/listen-spec.js";

const pick = (s: ListenSpec) => ({ kind: s.kind, type: s.type, family: s.family, host: s.host, port: s.port, path: s.path, abstract: s.abstract, fifo: s.fifo });

test("accepts systemd's address forms", () => {
  const rows: [string, Partial<ReturnType<typeof pick>>][] = [
    ["8080", { kind: "inet", family: 6, host: "::", port: 8080 }], // bare port: dual-stack, like systemd
    ["127.0.0.1:8080", { kind: "inet", family: 4, host: "127.0.0.1", port: 8080 }],
    ["[::1]:8080", { kind: "inet", family: 6, host: "::1", port: 8080 }],
    ["0.0.0.0:0", { kind: "inet", family: 4, host: "0.0.0.0", port: 0 }], // port 0: our extension
    ["/run/app.sock", { kind: "unix", path: "/run/app.sock", abstract: false }],
    ["@app", { kind: "unix", path: "@app", abstract: true }],
  ];
  for (const [text, want] of rows) {
    const got = pick(parseListenSpec(text));
    for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${text}: ${k}`);
    assert.equal(got.type, "stream");
  }
});

test("a prefix sets one listener's kind; -d/--seqpacket set the default for the rest", () => {
  assert.equal(parseListenSpec("udp:127.0.0.1:53").type, "datagram");
  assert.equal(parseListenSpec("tcp:127.0.0.1:53", "datagram").type, "stream");
  assert.equal(parseListenSpec("dgram:/run/d.sock").type, "datagram");
  assert.equal(parseListenSpec("seqpacket:@s").type, "seqpacket");
  assert.equal(parseListenSpec("/run/d.sock", "datagram").type, "datagram");
  assert.equal(parseListenSpec("@s", "seqpacket").type, "seqpacket");
  const f = parseListenSpec("fifo:/run/app.fifo", "datagram");
  assert.deepEqual([f.kind, f.fifo, f.path], ["fifo", true, "/run/app.fifo"]);
});

test("rejects malformed addresses with a usage error that names the input", () => {
  const bad = ["", "foo:bar", "localhost:80", "::1:80", "::1", "[::1]", "[::1]80", "[zz]:80", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:",
    "01.2.3.4:80", "1.2.3:80", "65536", "@", "tcp:/run/x.sock", "udp:@x", "fifo:@x", "fifo:rel", "udp:tcp:1", "relative.sock",
    "[fe80::1%eth0]:80", "/a\nb", "@x\0y", "/" + "x".repeat(200)];
  for (const text of bad) {
    assert.throws(() => parseListenSpec(text), (e: unknown) => e instanceof SdError && e.code === "ERR_SD_CLI_USAGE" && e.message.includes("Failed to parse socket address"), JSON.stringify(text));
  }
});

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));
const port = fc.integer({ min: 0, max: 65535 });
const pathChar = fc.constantFrom(..."abcXYZ019 ._-%$\\\"'[]:@#".split(""));
const unixPath = fc.array(pathChar, { minLength: 1, maxLength: 40 }).map((c) => "/" + c.join(""));
const abstract = fc.array(pathChar, { minLength: 1, maxLength: 40 }).map((c) => "@" + c.join(""));
const prefix = fc.constantFrom("", "tcp:", "udp:", "stream:", "datagram:", "dgram:", "seqpacket:");

test("property: generated valid addresses parse to their parts (3,000 cases)", () => {
  fc.assert(fc.property(fc.oneof(
    fc.tuple(prefix, ipv4, port).map(([p, h, n]) => ({ text: `${p}${h}:${n}`, want: { kind: "inet", family: 4, host: h, port: n } })),
    fc.tuple(prefix, fc.ipV6(), port).map(([p, h, n]) => ({ text: `${p}[${h}]:${n}`, want: { kind: "inet", family: 6, host: h, port: n } })),
    fc.tuple(prefix, port).map(([p, n]) => ({ text: `${p}${n}`, want: { kind: "inet", family: 6, host: "::", port: n } })),
    fc.tuple(fc.constantFrom("", "stream:", "datagram:", "seqpacket:"), fc.oneof(unixPath, abstract)).map(([p, u]) => ({ text: `${p}${u}`, want: { kind: "unix", path: u, abstract: u.startsWith("@") } })),
    unixPath.map((u) => ({ text: `fifo:${u}`, want: { kind: "fifo", path: u, fifo: true } })),
  ), ({ text, want }) => {
    const got = pick(parseListenSpec(text));
    for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${text}: ${k}`);
    const t = text.startsWith("udp:") || text.startsWith("datagram:") || text.startsWith("dgram:") ? "datagram" : text.startsWith("seqpacket:") ? "seqpacket" : "stream";
    if (!text.startsWith("fifo:")) assert.equal(got.type, t, text);
  }), { numRuns: 3000 });
});

test("property: any string either parses or fails with ERR_SD_CLI_USAGE, never another error (3,000 cases)", () => {
  const noisy = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 }),
    fc.array(fc.constantFrom(..."0123456789.:[]/@%abcdef-udpfio".split("")), { maxLength: 30 }).map((a) => a.join("")),
    fc.tuple(prefix, fc.string({ maxLength: 30 })).map(([p, s]) => p + s));
  fc.assert(fc.property(noisy, fc.constantFrom("stream", "datagram", "seqpacket") as fc.Arbitrary<"stream" | "datagram" | "seqpacket">, (text, def) => {
    let spec: ListenSpec;
    try {
      spec = parseListenSpec(text, def);
    } catch (e) {
      assert.ok(e instanceof SdError && e.code === "ERR_SD_CLI_USAGE", `${JSON.stringify(text)} threw ${String(e)}`);
      return;
    }
    // Whatever parses is well-formed: inet has a numeric host and a port; unix/fifo a path.
    if (spec.kind === "inet") {
      assert.ok(spec.host && Number.isInteger(spec.port) && spec.port! >= 0 && spec.port! <= 65535);
      assert.doesNotMatch(text, /[\x00-\x1f\x7f]/);
    } else assert.ok(spec.path!.startsWith("/") || (spec.kind === "unix" && spec.path!.startsWith("@") && spec.path!.length > 1));
  }), { numRuns: 3000 });
});

test("property: formatListenSpec round-trips through parseListenSpec (3,000 cases)", () => {
  const text = fc.oneof(
    fc.tuple(prefix, ipv4, port).map(([p, h, n]) => `${p}${h}:${n}`),
    fc.tuple(prefix, fc.ipV6(), port).map(([p, h, n]) => `${p}[${h}]:${n}`),
    fc.tuple(prefix, port).map(([p, n]) => `${p}${n}`),
    fc.tuple(fc.constantFrom("", "stream:", "dgram:", "seqpacket:"), fc.oneof(unixPath, abstract)).map(([p, u]) => p + u),
    unixPath.map((u) => `fifo:${u}`),
  );
  fc.assert(fc.property(text, fc.constantFrom("stream", "datagram") as fc.Arbitrary<"stream" | "datagram">, (t, def) => {
    const a = parseListenSpec(t, def);
    const b = parseListenSpec(formatListenSpec(a, def), def);
    assert.deepEqual(pick(b), pick(a), t);
  }), { numRuns: 3000 });
});
