// Property tests of the watchdog environment (10,000 cases each): parseWatchdog against a model
// of sd_watchdog_enabled (WATCHDOG_USEC > 0 and finite; WATCHDOG_PID absent = ours, another pid
// = not ours, malformed = error), and watchdogEnabled({ unsetEnv }) removing exactly its two
// variables whatever the outcome.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseWatchdog, watchdogEnabled } from "../../src/watchdog/enabled.js";
import { objectEnv } from "../../src/env.js";
import { SdError } from "../../src/errors.js";

const ME = 4242;
const numberish = (valid: string[]) => fc.oneof(
  fc.constantFrom(...valid),
  fc.constantFrom("", "0", "00", "010", "-1", "+5", " 5", "5 ", "1e6", "0x10", "NaN", "\u0663", "18446744073709551615", "18446744073709551614", "18446744073709551616"),
  fc.bigInt({ min: 0n, max: 2n ** 65n }).map(String),
  fc.nat().map(String),
  fc.string({ maxLength: 6 }),
);
const envArb = fc.record({
  WATCHDOG_USEC: fc.option(numberish(["30000000", "1", "500000"]), { nil: undefined, freq: 5 }),
  WATCHDOG_PID: fc.option(numberish([String(ME), String(ME), String(ME + 1), "1"]), { nil: undefined, freq: 2 }),
  OTHER: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }),
}, { requiredKeys: [] });

type Out = { enabled: boolean; intervalUsec: bigint; intervalMs: number } | { code: string };

function model(v: { WATCHDOG_USEC?: string | undefined; WATCHDOG_PID?: string | undefined }): Out {
  const off = { enabled: false, intervalUsec: 0n, intervalMs: 0 };
  if (v.WATCHDOG_USEC === undefined) return off;
  if (!/^[0-9]+$/.test(v.WATCHDOG_USEC)) return { code: "ERR_SD_WATCHDOG" };
  const usec = BigInt(v.WATCHDOG_USEC);
  if (usec === 0n || usec >= 2n ** 64n - 1n) return { code: "ERR_SD_WATCHDOG" };
  if (v.WATCHDOG_PID !== undefined) {
    if (!/^[1-9][0-9]*$/.test(v.WATCHDOG_PID)) return { code: "ERR_SD_WATCHDOG" };
    if (v.WATCHDOG_PID !== String(ME)) return off;
  }
  return { enabled: true, intervalUsec: usec, intervalMs: Number(usec) / 1000 };
}

function run(f: () => { enabled: boolean; intervalUsec: bigint; intervalMs: number }): Out {
  try {
    const r = f();
    return { enabled: r.enabled, intervalUsec: r.intervalUsec, intervalMs: r.intervalMs };
  } catch (e) {
    assert.ok(e instanceof SdError, `threw a non-SdError: ${String(e)}`);
    return { code: e.code };
  }
}

const clean = <T extends object>(v: T): T => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as T;

test("property: parseWatchdog agrees with sd_watchdog_enabled's rules (10,000 cases)", () => {
  let enabled = 0;
  fc.assert(fc.property(envArb, (vars) => {
    const v = clean(vars);
    const got = run(() => parseWatchdog(objectEnv({ ...v }, ME)));
    assert.deepEqual(got, model(v), JSON.stringify(v));
    if ("enabled" in got && got.enabled) enabled++;
  }), { numRuns: 10_000 });
  assert.ok(enabled > 1000, `only ${enabled} enabled cases`);
});

test("property: watchdogEnabled({ unsetEnv: true }) gives the same answer and removes exactly its two variables (10,000 cases)", () => {
  fc.assert(fc.property(envArb, (vars) => {
    const v = clean(vars);
    const env: Record<string, string | undefined> = { ...v };
    const got = run(() => watchdogEnabled({ env: objectEnv(env, ME), unsetEnv: true }));
    assert.deepEqual(got, model(v));
    assert.equal("WATCHDOG_USEC" in env, false);
    assert.equal("WATCHDOG_PID" in env, false);
    assert.equal(env.OTHER, v.OTHER);
  }), { numRuns: 10_000 });
});
