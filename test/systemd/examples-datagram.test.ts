/**
 * The datagram examples (udp-echo, unixgram) under a real systemd 252 user manager, with their
 * own socket and service units: the first datagram starts the service, which answers it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { freeUdpPort } from "../harness/socket-activate.js";
import { useUserManager } from "../harness/user-manager.js";
import { installExample, logLine, readLog, requireBuild, tempDir, udpAsk, unixgramAsk } from "../fixtures/examples-kit.js";

before(requireBuild);
const manager = useUserManager({ version: 252 });
const dir = tempDir("sd-dgram");
after(() => rmSync(dir, { recursive: true, force: true }));

test("udp-echo: the first datagram starts the service through its socket unit and is answered", async () => {
  const m = manager();
  const port = await freeUdpPort();
  const log = join(dir, "udp.log");
  await installExample(m, "udp-echo", { replace: [["127.0.0.1:9053", `127.0.0.1:${port}`]], env: { PORT: String(port) }, log });
  assert.equal((await m.systemctl("start", "udp-echo.socket")).code, 0);
  await m.waitFor("udp-echo.socket", "SubState", "listening");
  assert.equal((await m.show("udp-echo.service", ["ActiveState"])).ActiveState, "inactive");

  assert.equal(await udpAsk(port, "first"), "echo: first", readLog(log));
  const { MainPID, StatusText } = await m.show("udp-echo.service", ["MainPID", "StatusText"]);
  assert.equal(StatusText, `echoing on udp port ${port}`);
  assert.equal(await logLine(log, /echoing/), `pid ${MainPID} echoing on udp 127.0.0.1:${port}`);
  assert.equal(await udpAsk(port, "second"), "echo: second");

  assert.equal((await m.systemctl("stop", "udp-echo.service")).code, 0);
  assert.equal((await m.show("udp-echo.service", ["Result"])).Result, "success");
  await m.systemctl("stop", "udp-echo.socket");
});

test("unixgram: ListenDatagram=%t/... starts the service on the first datagram; it answers a python3 client", async () => {
  const m = manager();
  const log = join(dir, "unixgram.log");
  await installExample(m, "unixgram", { log });
  const path = join(m.rt, "sdkit-unixgram.sock"); // %t of a user manager is its XDG_RUNTIME_DIR
  assert.equal((await m.systemctl("start", "unixgram-ctl.socket")).code, 0);
  await m.waitFor("unixgram-ctl.socket", "SubState", "listening");

  const { pid, answers } = await unixgramAsk(path, ["ping", "stats", "time"]);
  assert.equal(answers.length, 3, readLog(log));
  assert.equal(answers[0], `pong (you are pid ${pid})`);
  const { MainPID, StatusText } = await m.show("unixgram-ctl.service", ["MainPID", "StatusText"]);
  assert.deepEqual(JSON.parse(answers[1]!), { pid: Number(MainPID), received: 2 });
  assert.ok(!Number.isNaN(Date.parse(answers[2]!)), `a timestamp: ${answers[2]}`);
  assert.equal(StatusText, `answering on ${path}`);

  assert.equal((await m.systemctl("stop", "unixgram-ctl.service")).code, 0);
  assert.equal((await m.show("unixgram-ctl.service", ["Result"])).Result, "success");
  // The socket unit still holds the path: the next datagram starts the service again.
  const again = await unixgramAsk(path, ["stats"]);
  const second = Number((await m.show("unixgram-ctl.service", ["MainPID"])).MainPID);
  assert.notEqual(second, Number(MainPID));
  assert.deepEqual(JSON.parse(again.answers[0]!), { pid: second, received: 1 });
  await m.systemctl("stop", "unixgram-ctl.service", "unixgram-ctl.socket");
});
