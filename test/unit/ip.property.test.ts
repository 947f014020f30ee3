// ipVersion/canonicalIPv6 replace net.isIP (whose IPv6 regex costs ~20 ms to compile at start-up):
// they must agree with Node on every input (zone ids such as "fe80::1%eth0" included: both go
// through libuv's inet_pton).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import fc from "fast-check";
import { canonicalIPv6, ipVersion } from "../../src/util/ip.js";

const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom("00", "01", "010", "", "a", " 1", "1 "));
const v4ish = fc.oneof(fc.array(octet, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 260 }).map(String), { minLength: 4, maxLength: 4 })).map((a) => a.join("."));
const group = fc.oneof(fc.integer({ min: 0, max: 0x1ffff }).map((n) => n.toString(16)), fc.constantFrom("", "0", "00000", "g", "FFFF", "1.2.3.4", "ffff"));
const v6ish = fc.array(group, { minLength: 1, maxLength: 10 }).map((a) => a.join(":"));
const anyHost = fc.oneof(v4ish, v6ish, fc.string(), fc.constantFrom("localhost", "fe80::1%eth0", "fe80::1%", "1.2.3.4%1", "::", "::1", "::ffff:127.0.0.1", "0.0.0.0", "[::1]", "1::2::3"));

test("property: ipVersion agrees with net.isIP", () => {
  let v4 = 0, v6 = 0;
  fc.assert(fc.property(anyHost, (h) => {
    const want = net.isIP(h);
    assert.equal(ipVersion(h), want, JSON.stringify(h));
    if (want === 4) v4++;
    if (want === 6) {
      v6++;
      assert.equal(canonicalIPv6(h), new net.SocketAddress({ address: h, family: "ipv6" }).address);
    } else {
      assert.equal(canonicalIPv6(h), undefined);
    }
  }), { numRuns: 10_000 });
  assert.ok(v4 >= 300 && v6 >= 300, `too few addresses generated (v4 ${v4}, v6 ${v6})`);
});

test("canonical forms are inet_ntop's", () => {
  assert.equal(canonicalIPv6("0:0:0:0:0:0:0:1"), "::1");
  assert.equal(canonicalIPv6("::FFFF:127.0.0.1"), "::ffff:127.0.0.1");
  assert.equal(ipVersion("fe80::1%eth0"), 6);
  assert.equal(ipVersion("localhost"), 0);
});
