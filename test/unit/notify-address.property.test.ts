// Property tests of NOTIFY_SOCKET parsing (10,000 cases each): every string either parses into
// exactly the sun_path bytes a model predicts, or is refused with a typed SdError; accepted
// addresses decode back to themselves; the one-entry cache never answers for another value.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseNotifySocket } from "../../src/notify/address.js";
import { SdError } from "../../src/errors.js";
import { decodeUnixPath } from "../../src/util/unix-path.js";

const special = fc.constantFrom("/", "@", "\0", ".", "..", "vsock:", "vsock-stream:", "vsock-dgram:", "vsock-seqpacket:", "vsockx:", "é", "😀", "\ud800", " ", "\n", "run/", "x".repeat(50));
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.array(fc.oneof(special, fc.string({ maxLength: 3 })), { maxLength: 6 }).map((a) => a.join("")),
  fc.tuple(fc.constantFrom("/", "@"), fc.integer({ min: 100, max: 112 })).map(([p, n]) => p + "a".repeat(n - 1)),
  fc.tuple(fc.constantFrom("/", "@"), fc.string({ unit: "grapheme", maxLength: 40 })).map(([p, s]) => p + s),
);

/** What a correct parser must do with `raw`: the sun_path bytes, or the error code. */
function model(raw: string): { bytes: Buffer } | { code: string } {
  if (/^vsock(-stream|-dgram|-seqpacket)?:/.test(raw)) return { code: "ERR_SD_UNSUPPORTED" };
  if (raw.length < 2 || (raw[0] !== "/" && raw[0] !== "@")) return { code: "ERR_SD_NOTIFY_SOCKET" };
  const body = Buffer.from(raw.slice(1), "utf8");
  if (raw[0] === "/") {
    const full = Buffer.from(raw, "utf8");
    if (full.includes(0) || full.length + 1 > 108) return { code: "ERR_SD_NOTIFY_SOCKET" };
    return { bytes: Buffer.concat([full, Buffer.of(0)]) };
  }
  if (body.length + 1 > 108) return { code: "ERR_SD_NOTIFY_SOCKET" };
  return { bytes: Buffer.concat([Buffer.of(0), body]) };
}

function outcome(raw: string): { bytes: Buffer } | { code: string } {
  try {
    const a = parseNotifySocket(raw);
    assert.equal(a.raw, raw);
    assert.equal(a.abstract, raw[0] === "@");
    return { bytes: a.addr.path! };
  } catch (e) {
    assert.ok(e instanceof SdError, `threw a non-SdError for ${JSON.stringify(raw)}: ${String(e)}`);
    return { code: e.code };
  }
}

test("property: any NOTIFY_SOCKET value parses to the modelled sun_path or a typed refusal (10,000 cases)", () => {
  let accepted = 0;
  fc.assert(fc.property(text, (raw) => {
    const got = outcome(raw);
    assert.deepEqual(got, model(raw), JSON.stringify(raw));
    if ("bytes" in got) accepted++;
  }), { numRuns: 10_000 });
  assert.ok(accepted > 2000, `only ${accepted} values were accepted: the property proves little`);
});

test("property: relative paths are always refused, whatever they contain (10,000 cases)", () => {
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s[0] !== "/" && s[0] !== "@"), (raw) => {
    const got = outcome(raw);
    assert.ok("code" in got, `${JSON.stringify(raw)} was accepted`);
  }), { numRuns: 10_000 });
});

test("property: accepted well-formed addresses decode back to the value given (10,000 cases)", () => {
  fc.assert(fc.property(fc.tuple(fc.constantFrom("/", "@"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 })).map(([p, s]) => p + s), (raw) => {
    const got = outcome(raw);
    if ("bytes" in got) assert.equal(decodeUnixPath(got.bytes), raw);
  }), { numRuns: 10_000 });
});

test("property: parsing a sequence of values never returns a cached answer for a different value (10,000 cases)", () => {
  fc.assert(fc.property(fc.array(fc.oneof(text, fc.constantFrom("/run/a", "@a", "/run/a")), { minLength: 2, maxLength: 6 }), (seq) => {
    for (const raw of seq) assert.deepEqual(outcome(raw), model(raw), JSON.stringify(seq));
  }), { numRuns: 10_000 });
});
