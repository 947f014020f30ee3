// barrier(): BARRIER=1 alone with a pipe's write end; resolves when the receiver closes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { native } from "../../src/native/binding.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { startPythonReceiver } from "../helpers/python-receiver.js";

const it = (name: string, fn: () => Promise<void>) => test(name, () => assertNoFdLeak(fn));
const code = (c: string) => (e: unknown) => e instanceof sd.SdError && e.code === c;

it("resolves against sdkit's receiver, after the messages sent before it", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const seen: string[] = [];
  rx.on("message", (m) => seen.push(m.raw.toString()));
  try {
    const env = objectEnv({ NOTIFY_SOCKET: rx.path });
    for (let i = 0; i < 20; i++) await sd.notify({ X_I: i }, { env });
    await sd.barrier(5000, { env });
    assert.equal(seen.length, 21, "every earlier message was processed before the barrier resolved");
    assert.equal(seen[20], "BARRIER=1");
  } finally { rx.close(); }
});

it("the python receiver sees BARRIER=1 alone with exactly one fd, the write end of a pipe", async () => {
  const py = await startPythonReceiver();
  try {
    await sd.barrier(5000, { env: objectEnv({ NOTIFY_SOCKET: py.address }) });
    const [m] = await py.waitFor(1);
    assert.deepEqual(m!.assignments, [["BARRIER", "1"]]);
    assert.deepEqual(m!.fds.map((f) => [f.kind, f.writable]), [["fifo", true]]);
    assert.equal(m!.pid, process.pid);
  } finally { await py.stop(); }
});

it("times out with ERR_SD_BARRIER_TIMEOUT when the receiver keeps the fd (python --keep-fds)", async () => {
  const py = await startPythonReceiver({ keepFds: true });
  try {
    await assert.rejects(sd.barrier(300, { env: objectEnv({ NOTIFY_SOCKET: py.address }) }), code("ERR_SD_BARRIER_TIMEOUT"));
    assert.equal((await py.waitFor(1))[0]!.fds.length, 1);
  } finally { await py.stop(); }
});

it("times out when a NotifyReceiver listener takes the fd, and resolves once it is closed", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const taken: number[] = [];
  rx.on("message", (m) => taken.push(...m.takeFds()));
  try {
    const env = objectEnv({ NOTIFY_SOCKET: rx.path });
    await assert.rejects(sd.barrier(200, { env }), code("ERR_SD_BARRIER_TIMEOUT"));
    assert.equal(taken.length, 1);
    native().close(taken.pop()!);
    const p = sd.barrier(5000, { env });
    while ((taken.length as number) === 0) await new Promise((r) => setImmediate(r));
    native().close(taken.pop()!);
    await p;
  } finally { rx.close(); }
});

it("fails like notify() without a socket, and validates its timeout; unsetEnv applies", async () => {
  await assert.rejects(sd.barrier(100, { env: objectEnv({}) }), code("ERR_SD_NO_NOTIFY_SOCKET"));
  await assert.rejects(sd.barrier(-1, { env: objectEnv({ NOTIFY_SOCKET: "@x" }) }), code("ERR_SD_INVALID_ARG"));
  const vars: Record<string, string | undefined> = { NOTIFY_SOCKET: "@sdkit-nobody-listens-here", WATCHDOG_USEC: "1" };
  await assert.rejects(sd.barrier(100, { env: objectEnv(vars), unsetEnv: true }), code("ERR_SD_NOTIFY_SEND"));
  assert.deepEqual({ ...vars }, {});
});
