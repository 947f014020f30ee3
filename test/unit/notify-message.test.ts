// The notify message builder and parser: validation, the manager's grammar, and the property
// that no input ever yields an assignment the caller did not ask for.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildNotifyMessage, parseNotifyMessage, plainMessage, assertFdStoreName, NOTIFY_BUFFER_MAX } from "../../src/notify/message.js";
import { SdError } from "../../src/errors.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const it = (name: string, fn: () => void | Promise<void>) => test(name, () => assertNoFdLeak(fn));
const code = (c: string) => (e: unknown) => e instanceof SdError && e.code === c;
const text = (state: Parameters<typeof buildNotifyMessage>[0]) => buildNotifyMessage(state).toString("utf8");

it("builds object, array and string states in order", () => {
  assert.equal(text({ READY: 1, STATUS: "up and running" }), "READY=1\nSTATUS=up and running");
  assert.equal(text([["X_A", "1"], ["X_A", "2"]]), "X_A=1\nX_A=2");
  assert.equal(text("READY=1\nSTATUS=x=y\n"), "READY=1\nSTATUS=x=y");
  assert.equal(text({ MAINPID: 4242n, STATUS: "" }), "MAINPID=4242\nSTATUS=");
});

it("rejects values the manager would read differently", () => {
  for (const v of ["a\nREADY=1", "a\rREADY=1", "a\0b", "C:\\path", "end\\", "\ud800"]) {
    assert.throws(() => buildNotifyMessage({ STATUS: v }), code("ERR_SD_INVALID_MESSAGE"), JSON.stringify(v));
  }
  assert.throws(() => buildNotifyMessage("STATUS=a\rREADY=1"), code("ERR_SD_INVALID_MESSAGE"));
  assert.throws(() => buildNotifyMessage({ X: Number.NaN }), code("ERR_SD_INVALID_MESSAGE"));
  assert.throws(() => buildNotifyMessage({ X: 1.5 }), code("ERR_SD_INVALID_MESSAGE"));
  assert.throws(() => buildNotifyMessage({ X: undefined as unknown as string }), code("ERR_SD_INVALID_MESSAGE"));
});

it("rejects bad keys, non-assignment lines and empty messages", () => {
  for (const k of ["ready", "1A", "", "A-B", "A B", "Ä", "A=B"]) assert.throws(() => buildNotifyMessage([[k, "1"]]), code("ERR_SD_INVALID_MESSAGE"), k);
  assert.throws(() => buildNotifyMessage("READY=1\nnonsense"), code("ERR_SD_INVALID_MESSAGE"));
  assert.throws(() => buildNotifyMessage("READY=1\n\nSTATUS=x"), code("ERR_SD_INVALID_MESSAGE"));
  assert.throws(() => buildNotifyMessage(""), code("ERR_SD_INVALID_MESSAGE"));
  assert.throws(() => buildNotifyMessage({}), code("ERR_SD_INVALID_MESSAGE"));
});

it("enforces the manager's 4096-byte buffer exactly", () => {
  const fill = (n: number) => ({ STATUS: "x".repeat(n - "STATUS=".length) });
  assert.equal(buildNotifyMessage(fill(NOTIFY_BUFFER_MAX)).length, NOTIFY_BUFFER_MAX);
  assert.throws(() => buildNotifyMessage(fill(NOTIFY_BUFFER_MAX + 1)), code("ERR_SD_INVALID_MESSAGE"));
  // bytes, not characters: 3-byte characters count three times
  assert.throws(() => buildNotifyMessage({ STATUS: "€".repeat(1400) }), code("ERR_SD_INVALID_MESSAGE"));
});

it("parses like the manager: \\n and \\r separate, backslash escapes, first key wins", () => {
  const p = parseNotifyMessage("READY=1\r\n\nSTATUS=a\\b\nSTATUS=second\nnoise");
  assert.deepEqual(p.assignments, [["READY", "1"], ["STATUS", "ab"], ["STATUS", "second"]]);
  assert.equal(p.fields.STATUS, "ab");
  assert.deepEqual(p.invalid, ["noise"]);
  assert.equal(p.malformed, false);
  assert.deepEqual(parseNotifyMessage("STATUS=c\\\nX_A=1").assignments, [["STATUS", "c\nX_A=1"]]);
  assert.equal(parseNotifyMessage("READY=1\nSTATUS=end\\").malformed, true);
  assert.deepEqual(parseNotifyMessage(Buffer.from("A=1")).assignments, [["A", "1"]]);
});

it("validates FDNAME like systemd's fdname_is_valid", () => {
  for (const ok of ["web", "a b", "x".repeat(255), "~!@#"]) assertFdStoreName(ok);
  for (const bad of ["", "a:b", "x".repeat(256), "tab\t", "ü", "nl\n"]) assert.throws(() => assertFdStoreName(bad), code("ERR_SD_INVALID_ARG"), bad);
});

// Arbitrary text biased towards the characters that matter to the wire format.
const special = fc.constantFrom("\n", "\r", "\0", "\\", "=", "\ud800", "\udc00", "READY=1", "\n\n", " ", "é", "😀");
const anyText = fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), special), { maxLength: 6 }).map((a) => a.join(""));
const validKey = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/);
const keyish = fc.oneof({ arbitrary: validKey, weight: 6 }, { arbitrary: anyText, weight: 1 });
const textValue = fc.oneof({ arbitrary: fc.string({ unit: "grapheme" }), weight: 4 }, { arbitrary: anyText, weight: 1 });
const valueish = fc.oneof({ arbitrary: textValue, weight: 6 }, fc.integer(), fc.double(), fc.bigInt());
// Whole messages: mostly KEY=VALUE lines, sometimes raw text.
const stateText = fc.oneof(
  { arbitrary: fc.tuple(fc.array(fc.tuple(keyish, textValue), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([ls, nl]) => ls.map(([k, v]) => `${k}=${v}`).join("\n") + (nl ? "\n" : "")), weight: 4 },
  { arbitrary: anyText, weight: 1 },
);

let acceptedCount = 0;
function accepted(state: Parameters<typeof buildNotifyMessage>[0]): Buffer | undefined {
  try {
    const data = buildNotifyMessage(state);
    acceptedCount++;
    return data;
  } catch (e) {
    assert.ok(e instanceof SdError && e.code === "ERR_SD_INVALID_MESSAGE", `unexpected error ${String(e)}`);
    return undefined;
  }
}

function assertExactly(data: Buffer, expected: [string, string][]): void {
  assert.ok(data.length <= NOTIFY_BUFFER_MAX);
  const manager = parseNotifyMessage(data);
  assert.equal(manager.malformed, false);
  assert.deepEqual(manager.invalid, []);
  assert.deepEqual(manager.assignments, expected);
  // A receiver that splits on "\n" only and never unescapes reads the same.
  assert.deepEqual(data.toString("utf8").split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]), expected);
}

// Each property must see thousands of accepted inputs, or it proves nothing.
const atLeast = (n: number, run: () => void) => { acceptedCount = 0; run(); assert.ok(acceptedCount >= n, `only ${acceptedCount} inputs were accepted`); };

test("property: pairs yield exactly the assignments asked for, or a typed refusal", () => assertNoFdLeak(() => atLeast(2000, () => {
  fc.assert(fc.property(fc.array(fc.tuple(keyish, valueish), { maxLength: 4 }), (pairs) => {
    const data = accepted(pairs);
    if (data) assertExactly(data, pairs.map(([k, v]) => [k, String(v)]));
  }), { numRuns: 10_000 });
})));

test("property: string states yield exactly their own lines, or a typed refusal", () => assertNoFdLeak(() => atLeast(2000, () => {
  fc.assert(fc.property(stateText, (state) => {
    const data = accepted(state);
    if (!data) return;
    const lines = (state.endsWith("\n") ? state.slice(0, -1) : state).split("\n");
    assertExactly(data, lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  }), { numRuns: 10_000 });
})));

test("property: object states yield exactly their entries, or a typed refusal", () => assertNoFdLeak(() => atLeast(2000, () => {
  fc.assert(fc.property(fc.dictionary(keyish, valueish, { maxKeys: 4 }), (obj) => {
    const data = accepted(obj);
    if (data) assertExactly(data, Object.entries(obj).map(([k, v]) => [k, String(v)]));
  }), { numRuns: 10_000 });
})));

// notify()'s fast path sends plainMessage(state) as is, skipping the general validation: it must
// never accept what the general path refuses, and must send exactly the same bytes.
const asciiUnit = fc.oneof(
  { arbitrary: fc.integer({ min: 0x01, max: 0x7f }).map((c) => String.fromCharCode(c)), weight: 40 },
  { arbitrary: fc.constantFrom("\\", "\n", "\r", "\0", "é", "\ud800", "😀"), weight: 1 },
);
const plainKey = fc.oneof({ arbitrary: validKey, weight: 8 }, { arbitrary: fc.constantFrom("STOPPING", "BARRIER", "WATCHDOG_USEC", "ready", "1X", ""), weight: 1 });
const plainish = fc.oneof(
  { arbitrary: stateText, weight: 1 },
  { arbitrary: fc.tuple(fc.array(fc.tuple(plainKey, fc.string({ unit: asciiUnit })), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([ls, nl]) => ls.map(([k, v]) => `${k}=${v}`).join("\n") + (nl ? "\n" : "")), weight: 4 },
);
let plainCount = 0;
test("property: a plain message is sent byte for byte as the general path builds it", () => assertNoFdLeak(() => {
  fc.assert(fc.property(plainish, (state) => {
    const plain = plainMessage(state);
    if (plain === null) return;
    plainCount++;
    assert.equal(plain, text(state)); // throws if the general path refuses it
    assert.doesNotMatch(plain, /(^|\n)(BARRIER|STOPPING|WATCHDOG_USEC)=/);
  }), { numRuns: 10_000 });
  assert.ok(plainCount >= 2000, `only ${plainCount} plain messages were generated`);
}));

it("plainMessage leaves everything but plain ASCII assignments to the general path", () => {
  assert.equal(plainMessage("READY=1\nSTATUS=up and running\n"), "READY=1\nSTATUS=up and running");
  for (const s of ["", "\n", "READY=1\n\n", "ready=1", "STATUS=é", "STATUS=a\\b", "STATUS=a\rb", "STATUS=a\0", "STOPPING=1", "READY=1\nBARRIER=1", "WATCHDOG_USEC=1000", `STATUS=${"x".repeat(NOTIFY_BUFFER_MAX)}`]) {
    assert.equal(plainMessage(s), null, JSON.stringify(s));
  }
  assert.equal(plainMessage(`S=${"x".repeat(NOTIFY_BUFFER_MAX - 2)}`)?.length, NOTIFY_BUFFER_MAX);
});
