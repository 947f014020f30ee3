// ready() in a successor completes the handover handshake (it is not the main process yet, so
// a READY=1 to the manager would be rejected under NotifyAccess=main).
import { test } from "node:test";
import assert from "node:assert/strict";
import { replaceProcess } from "../../src/index.js";
import { errnoError } from "../../src/errors.js";
import { TSX, fixture } from "../helpers/spawn.js";

test("a successor's ready() completes the handshake: replaceProcess resolves without NOTIFY_SOCKET", async () => {
  // replaceProcess waits for the readiness byte (startProcess does not). Without the handshake in
  // ready(), the child would throw NoNotifySocketError, close the pipe, and this would reject.
  const pid = await replaceProcess(null, { NOTIFY_SOCKET: undefined }, { argv: [...TSX, fixture("process-ready-child.ts")], timeoutMs: 120_000 });
  assert.ok(pid > 0);
});

test("errno names libuv does not know come from the OS table (ENOEXEC)", () => {
  const e = errnoError(-8, "execve", "/tmp/x");
  assert.equal(e.sysCode, "ENOEXEC");
  assert.match(e.message, /^execve ENOEXEC/);
});
