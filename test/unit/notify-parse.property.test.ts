// Property tests of the receiving side of sd_notify (10,000 cases each): parseNotifyMessage
// agrees with an independent reader (test/fixtures/fault-notify-parse.py, written from
// systemd's splitting rules) on arbitrary text; values escaped the way the manager unescapes
// come back exactly (the parse round trip); arbitrary bytes never make it throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { parseNotifyMessage } from "../../src/notify/message.js";
import { fixture } from "../helpers/spawn.js";

const special = fc.constantFrom("\n", "\r", "\r\n", "\\", "\\\\", "\\\n", "=", "==", "READY=1", "STATUS=", "\0", "é", "😀", " ", "\t");
const word = fc.array(fc.oneof(special, fc.string({ maxLength: 4 })), { maxLength: 4 }).map((a) => a.join(""));
const text = fc.oneof(
  { arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom("READY", "STATUS", "X_A", ""), word), word, fc.constantFrom("\n", "\r", "\r\n", "\\\n")), { maxLength: 5 })
    .map((ls) => ls.map(([k, v, sep]) => `${k}=${v}${sep}`).join("")), weight: 3 },
  fc.array(fc.oneof(special, fc.string({ maxLength: 4 })), { maxLength: 10 }).map((a) => a.join("")),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);

test("property: parseNotifyMessage reads arbitrary text exactly like an independent reader of systemd's rules (10,000 cases)", () => {
  const inputs = fc.sample(text, 10_000);
  const r = spawnSync("/usr/bin/python3", [fixture("fault-notify-parse.py")], { input: inputs.map((t) => JSON.stringify(t)).join("\n") + "\n", encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const ref = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { malformed: boolean; assignments: [string, string][]; invalid: string[] });
  assert.equal(ref.length, inputs.length);
  let malformed = 0, assignments = 0;
  inputs.forEach((t, i) => {
    const got = parseNotifyMessage(t);
    assert.deepEqual({ malformed: got.malformed, assignments: got.assignments, invalid: got.invalid }, ref[i], JSON.stringify(t));
    if (got.malformed) malformed++;
    assignments += got.assignments.length;
  });
  assert.ok(malformed > 30 && assignments > 5000, `weak sample: ${malformed} malformed, ${assignments} assignments`);
});

/** Escapes a value the way the manager unescapes it: a backslash before \\, \n and \r. */
const escape = (v: string) => v.replace(/[\\\n\r]/g, (c) => `\\${c}`);
const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/);
const value = fc.array(fc.oneof(fc.constantFrom("\n", "\r", "\\", "=", "é", " "), fc.string({ maxLength: 5 })), { maxLength: 6 }).map((a) => a.join("").replace(/\0/g, ""));

test("property: escaped assignments parse back to exactly the keys and values sent, whatever the separators (10,000 cases)", () => {
  fc.assert(fc.property(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 5 }), fc.constantFrom("\n", "\r", "\r\n", "\n\n"), fc.boolean(), (pairs, sep, trailing) => {
    const msg = pairs.map(([k, v]) => `${k}=${escape(v)}`).join(sep) + (trailing ? sep : "");
    const got = parseNotifyMessage(Buffer.from(msg, "utf8"));
    assert.equal(got.malformed, false);
    assert.deepEqual(got.invalid, []);
    assert.deepEqual(got.assignments, pairs);
    for (const [k] of pairs) assert.equal(got.fields[k], pairs.find(([k2]) => k2 === k)![1], "fields must hold the first value per key");
  }), { numRuns: 10_000 });
});

test("property: arbitrary datagram bytes never make the parser throw, and fields always hold each key's first value (10,000 cases)", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    const got = parseNotifyMessage(Buffer.from(bytes));
    if (got.malformed) assert.deepEqual(got.assignments, []);
    const first = new Map<string, string>();
    for (const [k, v] of got.assignments) if (!first.has(k)) first.set(k, v);
    assert.deepEqual(Object.entries(got.fields), [...first]);
  }), { numRuns: 10_000 });
});
