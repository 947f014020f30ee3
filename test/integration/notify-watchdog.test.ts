// The watchdog pinger against a real receiver: half-interval pings, idempotence, and every way
// it stops (stop function, stopping(), STOPPING=1, the socket going away).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { watchdogRunning } from "../../src/watchdog/pinger.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const it = (name: string, fn: () => Promise<void>) => test(name, () => assertNoFdLeak(fn));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A receiver counting WATCHDOG=1 pings. */
function pingCounter() {
  const rx = new sd.NotifyReceiver().listen();
  const c = { rx, pings: 0, others: [] as string[] };
  rx.on("message", (m) => { if (m.raw.toString() === "WATCHDOG=1") c.pings++; else c.others.push(m.raw.toString()); });
  return c;
}
async function pingsArrive(c: { pings: number }, n: number, timeoutMs = 10_000): Promise<void> {
  const target = c.pings + n, deadline = Date.now() + timeoutMs;
  while (c.pings < target) {
    assert.ok(Date.now() < deadline, `only ${c.pings}/${target} pings within ${timeoutMs} ms`);
    await sleep(10);
  }
}

it("pings at once and then every half interval; a second start returns the same stop function", async () => {
  const c = pingCounter();
  try {
    const env = objectEnv({ NOTIFY_SOCKET: c.rx.path, WATCHDOG_USEC: "100000", WATCHDOG_PID: String(process.pid) });
    const stop = sd.startWatchdog({ env });
    assert.equal(sd.startWatchdog({ env }), stop, "idempotent");
    await pingsArrive(c, 4);
    stop();
    assert.equal(watchdogRunning(), false);
    await sd.barrier(10_000, { env }); // every ping sent so far has been received
    const after = c.pings;
    await sleep(300); // six half-intervals: a running pinger would have pinged
    assert.equal(c.pings, after, "no ping after stop()");
    stop(); // stopping twice is harmless
  } finally { sd.stopWatchdog(); c.rx.close(); }
});

it("does nothing when the watchdog is not for this process", async () => {
  const c = pingCounter();
  try {
    for (const vars of [{}, { WATCHDOG_USEC: "100000", WATCHDOG_PID: String(process.pid + 1) }]) {
      const stop = sd.startWatchdog({ env: objectEnv({ NOTIFY_SOCKET: c.rx.path, ...vars }) });
      assert.equal(watchdogRunning(), false);
      stop();
    }
    await sd.barrier(10_000, { env: objectEnv({ NOTIFY_SOCKET: c.rx.path }) }); // a started pinger pings at once
    assert.equal(c.pings, 0);
    assert.throws(() => sd.startWatchdog({ env: objectEnv({ WATCHDOG_USEC: "soon" }) }), (e: unknown) => e instanceof sd.SdError && e.code === "ERR_SD_WATCHDOG");
  } finally { sd.stopWatchdog(); c.rx.close(); }
});

it("stopping() stops the pinger (and so does any STOPPING=1 sent through notify)", async () => {
  const c = pingCounter();
  try {
    const env = objectEnv({ NOTIFY_SOCKET: c.rx.path, WATCHDOG_USEC: "100000" });
    sd.startWatchdog({ env });
    await pingsArrive(c, 1);
    await sd.stopping("bye", { env });
    assert.equal(watchdogRunning(), false);
    sd.startWatchdog({ env });
    await pingsArrive(c, 1);
    await sd.notify({ STOPPING: 1 }, { env });
    assert.equal(watchdogRunning(), false);
    await sd.barrier(10_000, { env });
    const after = c.pings;
    await sleep(300);
    assert.equal(c.pings, after);
    assert.deepEqual(c.others, ["STOPPING=1\nSTATUS=bye", "STOPPING=1", "BARRIER=1"]);
  } finally { sd.stopWatchdog(); c.rx.close(); }
});

it("follows a runtime WATCHDOG_USEC= change", async () => {
  const c = pingCounter();
  try {
    const env = objectEnv({ NOTIFY_SOCKET: c.rx.path, WATCHDOG_USEC: "600000000" }); // 10 min: one ping now, the next in 5
    sd.startWatchdog({ env });
    await pingsArrive(c, 1);
    await sd.notify({ WATCHDOG_USEC: 100000 }, { env });
    await pingsArrive(c, 3); // fails if the pinger kept the 5-minute period
  } finally { sd.stopWatchdog(); c.rx.close(); }
});

it("stops by itself once NOTIFY_SOCKET is gone", async () => {
  const c = pingCounter();
  try {
    const vars: Record<string, string | undefined> = { NOTIFY_SOCKET: c.rx.path, WATCHDOG_USEC: "40000" };
    sd.startWatchdog({ env: objectEnv(vars) });
    await pingsArrive(c, 1);
    delete vars.NOTIFY_SOCKET;
    const deadline = Date.now() + 10_000;
    while (watchdogRunning()) { assert.ok(Date.now() < deadline, "the pinger kept running"); await sleep(10); }
  } finally { sd.stopWatchdog(); c.rx.close(); }
});
