// UnixDatagramSocket against a python3 peer: 100,000 datagrams each way without loss when the
// peer keeps up, and explicit back-pressure (ERR_SD_WOULD_BLOCK, then 'drain') when it stalls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as sd from "../../src/index.js";
import { abstractName, scenario } from "../fixtures/listen-util.js";
import { fixture, run, waitForLine } from "../helpers/spawn.js";

/** Sends every message in order, waiting for 'drain' whenever the peer's queue is full. */
async function sendAll(sock: sd.UnixDatagramSocket, to: string, count: number, make: (i: number) => string): Promise<number> {
  let blocked = 0;
  for (let i = 0; i < count; ) {
    try {
      sock.send(make(i), to);
      i++;
    } catch (e) {
      if ((e as sd.SdError).code !== "ERR_SD_WOULD_BLOCK") throw e;
      blocked++;
      await once(sock, "drain");
    }
  }
  return blocked;
}

test("100,000 datagrams to a python3 echo peer and back: none lost, none reordered", scenario(async () => {
  const N = 100_000;
  const peerPath = abstractName("py-echo");
  const peer = spawn("python3", [fixture("listen-dgram-peer.py"), "echo", peerPath], { stdio: ["ignore", "pipe", "pipe"] });
  const done = run(peer, 240_000);
  await waitForLine(peer, /^ready$/);
  const sock = await sd.listenUnixgram({ path: abstractName("node"), forgetOnClose: true });
  let next = 0;
  let bad = 0;
  const allBack = new Promise<void>((resolve) => {
    sock.on("message", (m, r) => {
      assert.equal(r.path, peerPath);
      if (String(m) === "END") { resolve(); return; }
      if (Number(m) !== next) bad++;
      next++;
    });
  });
  await sendAll(sock, peerPath, N, String);
  await sendAll(sock, peerPath, 1, () => "END");
  await allBack;
  assert.equal(bad, 0, "echoes arrived in order");
  assert.equal(next, N, "every datagram came back");
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`echoed ${N}`));
  sock.close();
}));

test("a stalled python3 receiver: ERR_SD_WOULD_BLOCK, nothing dropped, 'drain' resumes", scenario(async () => {
  const N = 5_000;
  const peerPath = abstractName("py-stall");
  const peer = spawn("python3", [fixture("listen-dgram-peer.py"), "stall", peerPath], { stdio: ["pipe", "pipe", "pipe"] });
  const done = run(peer, 120_000);
  await waitForLine(peer, /^ready$/);
  const sock = new sd.UnixDatagramSocket();
  let accepted = 0;
  let err: sd.SdError | undefined;
  for (; accepted < N; accepted++) {
    try { sock.send(String(accepted), peerPath); } catch (e) { err = e as sd.SdError; break; }
  }
  assert.ok(err, "a receiver that does not read must push back");
  assert.equal(err.code, "ERR_SD_WOULD_BLOCK");
  assert.equal(err.path, peerPath);
  assert.match(err.message, /drain/);
  assert.ok(accepted < N);
  const drained = once(sock, "drain");
  peer.stdin!.write("go\n");
  assert.deepEqual(await drained, [peerPath]);
  const blocked = await sendAll(sock, peerPath, N - accepted, (i) => String(accepted + i));
  await sendAll(sock, peerPath, 1, () => "END");
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`received ${N} in_order=True`), `blocked ${blocked} more times`);
  sock.close();
}));
