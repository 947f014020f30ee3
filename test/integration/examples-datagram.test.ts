/**
 * The datagram examples (udp-echo, unixgram) under `sdkit run -d`, each checked with a real
 * client: node's dgram for UDP, a python3 AF_UNIX SOCK_DGRAM client for the Unix socket.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { portOf, requireBuild, sdkitRun, tempDir, udpAsk, unixgramAsk, type RunEvent } from "../fixtures/examples-kit.js";

before(requireBuild);
const NODE = process.execPath;
const is = (name: string) => (e: RunEvent) => e.event === name;

test("udp-echo under sdkit run: echoes datagrams on the socket it was given", async (t) => {
  const r = sdkitRun(["-d", "-l", "127.0.0.1:0", "--fdname", "echo"], [NODE, "examples/udp-echo/server.js"], { PORT: "0" });
  t.after(() => r.stop());
  const port = portOf(await r.event(is("listening")));
  const ready = await r.event(is("ready"));
  assert.equal(ready.statusText, `echoing on udp port ${port}`);
  assert.equal(await r.line(/echoing/), `pid ${ready.mainPid} echoing on udp 127.0.0.1:${port}`);
  assert.equal(await udpAsk(port, "hello"), "echo: hello");
  assert.equal(await udpAsk(port, "ünïcødé ✓"), "echo: ünïcødé ✓");
  assert.equal(await r.stop(), 0);
  assert.ok(r.events.some((e) => e.event === "stopping" && e.pid === ready.mainPid), "STOPPING=1 from onShutdown");
});

test("unixgram under sdkit run: answers a python3 client's datagrams, with the client's pid from SO_PASSCRED", async (t) => {
  const dir = tempDir("ugram");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "ctl.sock");
  const r = sdkitRun(["-d", "-l", path, "--fdname", "ctl"], [NODE, "examples/unixgram/server.js"], { SOCKET_PATH: path });
  t.after(() => r.stop());
  const ready = await r.event(is("ready"));
  assert.equal(ready.statusText, `answering on ${path}`);
  const { pid, answers } = await unixgramAsk(path, ["ping", "stats", "reboot"]);
  assert.equal(answers.length, 3, JSON.stringify(answers));
  assert.equal(answers[0], `pong (you are pid ${pid})`);
  assert.deepEqual(JSON.parse(answers[1]!), { pid: ready.mainPid, received: 2 });
  assert.equal(answers[2], 'unknown command "reboot"; try ping, stats or time');
  assert.equal(await r.stop(), 0);
});
