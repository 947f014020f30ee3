// sd_watchdog_enabled semantics: WATCHDOG_USEC > 0, WATCHDOG_PID optional but must match.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseWatchdog, watchdogEnabled } from "../../src/watchdog/enabled.js";
import { objectEnv } from "../../src/env.js";
import { SdError } from "../../src/errors.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const it = (name: string, fn: () => void | Promise<void>) => test(name, () => assertNoFdLeak(fn));
const env = (vars: Record<string, string>, pid = 4242) => objectEnv(vars, pid);

it("enabled without WATCHDOG_PID (the seed required it)", () => {
  assert.deepEqual(parseWatchdog(env({ WATCHDOG_USEC: "1000000" })), { enabled: true, intervalMs: 1000, intervalUsec: 1000000n });
});

it("enabled when WATCHDOG_PID is ours, disabled when it is another process's", () => {
  assert.equal(parseWatchdog(env({ WATCHDOG_USEC: "3000000", WATCHDOG_PID: "4242" })).enabled, true);
  assert.deepEqual(parseWatchdog(env({ WATCHDOG_USEC: "3000000", WATCHDOG_PID: "4243" })), { enabled: false, intervalMs: 0, intervalUsec: 0n });
});

it("disabled without WATCHDOG_USEC", () => {
  assert.equal(parseWatchdog(env({})).enabled, false);
  assert.equal(parseWatchdog(env({ WATCHDOG_PID: "4242" })).enabled, false);
});

it("malformed values are ERR_SD_WATCHDOG", () => {
  for (const vars of [{ WATCHDOG_USEC: "0" } as Record<string, string>, { WATCHDOG_USEC: "-5" }, { WATCHDOG_USEC: "1s" }, { WATCHDOG_USEC: "" }, { WATCHDOG_USEC: "18446744073709551615" },
    { WATCHDOG_USEC: "1000", WATCHDOG_PID: "abc" }, { WATCHDOG_USEC: "1000", WATCHDOG_PID: "0" }]) {
    assert.throws(() => parseWatchdog(env(vars)), (e: unknown) => e instanceof SdError && e.code === "ERR_SD_WATCHDOG", JSON.stringify(vars));
  }
});

it("sub-millisecond intervals keep their precision", () => {
  assert.equal(parseWatchdog(env({ WATCHDOG_USEC: "1500" })).intervalMs, 1.5);
});

it("unsetEnv removes both variables, even when they are malformed", () => {
  const vars: Record<string, string | undefined> = { WATCHDOG_USEC: "2000000", WATCHDOG_PID: String(process.pid), NOTIFY_SOCKET: "@kept" };
  assert.equal(watchdogEnabled({ env: objectEnv(vars), unsetEnv: true }).intervalMs, 2000);
  assert.deepEqual({ ...vars }, { NOTIFY_SOCKET: "@kept" });
  const bad: Record<string, string | undefined> = { WATCHDOG_USEC: "x" };
  assert.throws(() => watchdogEnabled({ env: objectEnv(bad), unsetEnv: true }));
  assert.deepEqual({ ...bad }, {});
});

it("reads the live environment at call time", () => {
  const saved = { u: process.env.WATCHDOG_USEC, p: process.env.WATCHDOG_PID };
  try {
    delete process.env.WATCHDOG_PID;
    process.env.WATCHDOG_USEC = "500000";
    assert.equal(watchdogEnabled().intervalMs, 500);
    process.env.WATCHDOG_PID = "1";
    assert.equal(watchdogEnabled().enabled, process.pid === 1);
  } finally {
    if (saved.u === undefined) delete process.env.WATCHDOG_USEC; else process.env.WATCHDOG_USEC = saved.u;
    if (saved.p === undefined) delete process.env.WATCHDOG_PID; else process.env.WATCHDOG_PID = saved.p;
  }
});
