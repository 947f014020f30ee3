// NOTIFY_SOCKET parsing: absolute paths and exact-length abstract names only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNotifySocket } from "../../src/notify/address.js";
import { notifyAddress, unsetNotifyEnv } from "../../src/notify/env.js";
import { objectEnv } from "../../src/env.js";
import { SdError, NoNotifySocketError } from "../../src/errors.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const it = (name: string, fn: () => void | Promise<void>) => test(name, () => assertNoFdLeak(fn));
const code = (c: string) => (e: unknown) => e instanceof SdError && e.code === c;

it("a path is NUL-terminated, an abstract name is exact-length", () => {
  const p = parseNotifySocket("/run/user/0/systemd/notify");
  assert.equal(p.abstract, false);
  assert.deepEqual(p.addr.path, Buffer.from("/run/user/0/systemd/notify\0"));
  const a = parseNotifySocket("@sd-notify/x");
  assert.equal(a.abstract, true);
  assert.deepEqual(a.addr.path, Buffer.from("\0sd-notify/x"));
});

it("refuses relative, empty, bare and over-long addresses", () => {
  for (const raw of ["run/notify", "./notify", "notify", "", "/", "@", "/" + "x".repeat(200)]) {
    assert.throws(() => parseNotifySocket(raw), code("ERR_SD_NOTIFY_SOCKET"), JSON.stringify(raw));
  }
});

it("reports vsock addresses as unsupported", () => {
  for (const raw of ["vsock:2:1234", "vsock-stream:2:1", "vsock-dgram:2:1", "vsock-seqpacket:2:1"]) {
    assert.throws(() => parseNotifySocket(raw), (e: unknown) => e instanceof SdError && e.code === "ERR_SD_UNSUPPORTED" && /AF_VSOCK/.test(e.message), raw);
  }
});

it("re-parses when the variable changes (no stale cache)", () => {
  assert.deepEqual(parseNotifySocket("@one").addr.path, Buffer.from("\0one"));
  assert.deepEqual(parseNotifySocket("@two").addr.path, Buffer.from("\0two"));
  assert.deepEqual(parseNotifySocket("@one").addr.path, Buffer.from("\0one"));
});

it("unset NOTIFY_SOCKET is NoNotifySocketError; unsetNotifyEnv removes all three variables", () => {
  assert.throws(() => notifyAddress(objectEnv({})), (e: unknown) => e instanceof NoNotifySocketError && e.code === "ERR_SD_NO_NOTIFY_SOCKET");
  const vars: Record<string, string | undefined> = { NOTIFY_SOCKET: "@x", WATCHDOG_USEC: "1", WATCHDOG_PID: "1", OTHER: "kept" };
  unsetNotifyEnv(objectEnv(vars));
  assert.deepEqual({ ...vars }, { OTHER: "kept" });
});
