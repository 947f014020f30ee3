// FD store messages: what `notify(..., { fds })` sends, checked by the independent python
// receiver, which also proves the passed fds are usable (same socket, same pipe, same file).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import * as sd from "../../src/index.js";
import { objectEnv } from "../../src/env.js";
import { K, native } from "../../src/native/binding.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { startPythonReceiver, type PyMessage } from "../helpers/python-receiver.js";

const it = (name: string, fn: () => Promise<void>) => test(name, () => assertNoFdLeak(fn));
const code = (c: string) => (e: unknown) => e instanceof sd.SdError && e.code === c;
const ino = (fd: number) => (native().fstat(fd) as [number, number, number])[2];
const listenTcp = () => new Promise<Server>((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => resolve(s)); });
const closeServer = (s: Server) => new Promise((r) => s.close(r));
const pipe = () => native().pipe2(K().O_CLOEXEC!) as [number, number];
const header = (m: PyMessage) => m.assignments.map(([k, v]) => `${k}=${v}`).join(" ");

it("fds: true stores every active fd by name (FDPOLL=0 for non-sockets, lock fds under the reserved name), then sends the state", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-fdstore-"));
  const py = await startPythonReceiver();
  const [a, b] = [await listenTcp(), await listenTcp()];
  const [r, w] = pipe();
  try {
    writeFileSync(join(dir, "lock"), "lock-content");
    const lockFd = openSync(join(dir, "lock"), "r"); // ownership passes to the pool
    sd.exportFd("web", a);
    sd.exportFd("web", b);
    const stateFd = sd.exportFd("state", r);
    const ctlServer = await listenTcp();
    sd.defaultPool().exportFd("ctl", ctlServer, lockFd);
    await closeServer(ctlServer); // the pool's dup keeps it listening
    native().close(r);
    writeFileSync(`/proc/self/fd/${w}`, "saved state");
    native().close(w);

    await sd.notify({ READY: 1, STATUS: "stored" }, { fds: true, env: objectEnv({ NOTIFY_SOCKET: py.address }) });
    const msgs = await py.waitFor(5);
    assert.deepEqual(msgs.map(header), [
      "FDSTORE=1 FDNAME=web", "FDSTORE=1 FDNAME=state FDPOLL=0", "FDSTORE=1 FDNAME=ctl",
      `FDSTORE=1 FDNAME=${sd.LOCK_FD_NAME} FDPOLL=0`, "READY=1 STATUS=stored",
    ]);
    const [web, state, ctl, lock, ready] = msgs as [PyMessage, PyMessage, PyMessage, PyMessage, PyMessage];
    assert.deepEqual(web.fds.map((f) => [f.kind, f.listening, f.sockname]), [a, b].map((s) => ["socket", true, ["127.0.0.1", (s.address() as { port: number }).port]]));
    assert.deepEqual(state.fds.map((f) => [f.kind, f.ino, f.data]), [["fifo", ino(stateFd), "saved state"]]);
    assert.deepEqual(ctl.fds.map((f) => [f.kind, f.listening]), [["socket", true]]);
    assert.deepEqual(lock.fds.map((f) => [f.kind, f.ino, f.data]), [["file", ino(lockFd), "lock-content"]]);
    assert.deepEqual(ready.fds, []);
    for (const m of msgs) assert.equal(m.pid, process.pid);
  } finally {
    for (const name of ["web", "state", "ctl"]) sd.forget(name);
    await closeServer(a); await closeServer(b);
    await py.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

it("explicit fds; more than 253 fds under one name are split into several messages with the same FDNAME", async () => {
  const py = await startPythonReceiver();
  const [r, w] = pipe();
  const many = Array.from({ length: 300 }, () => native().dupCloexec(r, 3));
  try {
    const env = objectEnv({ NOTIFY_SOCKET: py.address });
    await sd.notify("", { fds: many.map((fd) => ({ name: "bulk", fd })), env });
    const msgs = await py.waitFor(2);
    assert.deepEqual(msgs.map((m) => [header(m), m.fds.length]), [["FDSTORE=1 FDNAME=bulk FDPOLL=0", 253], ["FDSTORE=1 FDNAME=bulk FDPOLL=0", 47]]);
    assert.ok(msgs.every((m) => m.fds.every((f) => f.ino === ino(r))));
  } finally {
    for (const fd of [...many, r, w]) native().close(fd);
    await py.stop();
  }
});

it("fds: true with nothing active sends nothing; bad entries are refused before anything is sent", async () => {
  const py = await startPythonReceiver();
  const [r, w] = pipe();
  try {
    const env = objectEnv({ NOTIFY_SOCKET: py.address });
    await sd.notify({}, { fds: true, env });
    await assert.rejects(sd.notify("READY=1", { fds: [{ name: "ok", fd: r }, { name: "a:b", fd: r }], env }), code("ERR_SD_INVALID_ARG"));
    await assert.rejects(sd.notify("READY=1", { fds: [{ name: "", fd: r }], env }), code("ERR_SD_INVALID_ARG"));
    await assert.rejects(sd.notify("READY=1", { fds: [{ name: "x", fd: -1 }], env }), code("ERR_SD_INVALID_ARG"));
    await assert.rejects(sd.notify("READY=1", { fds: [{ name: "x", fd: 987_654 }], env }), code("ERR_SD_BAD_FD"));
    await assert.rejects(sd.notify("READY=1", { fds: "all" as unknown as boolean, env }), code("ERR_SD_INVALID_ARG"));
    await assert.rejects(sd.notify({}, { env }), code("ERR_SD_INVALID_MESSAGE"));
    await sd.notify({ X_END: 1 }, { env });
    assert.deepEqual((await py.waitFor(1)).map(header), ["X_END=1"], "only the last, valid message was sent");
  } finally {
    native().close(r); native().close(w);
    await py.stop();
  }
});
