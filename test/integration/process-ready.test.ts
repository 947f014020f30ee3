// ready() in a successor completes the handover handshake (it is not the main process yet, so
// a READY=1 to the manager would be rejected under NotifyAccess=main).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startProcess } from "../../src/index.js";
import { errnoError } from "../../src/errors.js";
import { TSX, fixture } from "../helpers/spawn.js";

test("a successor's ready() signals the parent: startProcess resolves without NOTIFY_SOCKET", async () => {
  const env = { NOTIFY_SOCKET: undefined };
  const pid = await startProcess(env, { argv: [...TSX, fixture("process-ready-child.ts")] });
  assert.ok(pid > 0);
});

test("errno names libuv does not know come from the OS table (ENOEXEC)", () => {
  const e = errnoError(-8, "execve", "/tmp/x");
  assert.equal(e.sysCode, "ENOEXEC");
  assert.match(e.message, /^execve ENOEXEC/);
});
