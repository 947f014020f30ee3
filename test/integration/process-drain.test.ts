// drain(): stop accepting, finish what is in flight, end keep-alive connections without racing
// the client, destroy leftovers at graceMs. Real servers and clients in this process; every
// test leaves /proc/self/fd as it found it.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { once } from "node:events";
import { drain } from "../../src/index.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

async function httpServer(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as net.AddressInfo).port };
}

function request(port: number, agent: http.Agent | false, path = "/"): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    }).on("error", reject);
  });
}

const FOREVER = 600_000; // a drain that relied on graceMs would time the test out

test("a request in flight finishes, with Connection: close, before drain resolves; nothing new is accepted", async () => {
  await assertNoFdLeak(async () => {
    let release!: () => void;
    const started = new Promise<void>((r) => { release = r; });
    let finish!: () => void;
    const { server, port } = await httpServer((_req, res) => { release(); finish = () => res.end("done"); });
    const agent = new http.Agent({ keepAlive: true });
    const inFlight = request(port, agent);
    await started;
    let drained = false;
    const d = drain(server, { graceMs: FOREVER }).then(() => { drained = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.listening, false, "stopped accepting");
    await assert.rejects(request(port, false), (e: NodeJS.ErrnoException) => e.code === "ECONNREFUSED");
    assert.equal(drained, false, "waits for the request in flight");
    finish();
    const r = await inFlight;
    assert.deepEqual(r, { status: 200, body: "done", connection: "close" });
    await d;
    agent.destroy();
  });
});

test("an idle keep-alive connection is closed after idleMs; a busy one ends after its next response", async () => {
  await assertNoFdLeak(async () => {
    const { server, port } = await httpServer((_req, res) => res.end("ok"));
    server.keepAliveTimeout = 0; // Node's own idle timeout off: only drain may close the idle one
    const busy = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await request(port, busy)).connection, "keep-alive");
    assert.equal((await request(port, idle)).connection, "keep-alive");
    const idleSocket = Object.values(idle.freeSockets)[0]![0]!;
    const idleClosed = once(idleSocket, "close");
    const d = drain(server, { graceMs: FOREVER, idleMs: 200 });
    // The busy client sends again on its kept-alive connection: served, told to close.
    const again = await request(port, busy);
    assert.deepEqual(again, { status: 200, body: "ok", connection: "close" });
    await idleClosed;
    await d;
    busy.destroy();
    idle.destroy();
  });
});

test("at graceMs the connections left are destroyed and drain resolves", async () => {
  await assertNoFdLeak(async () => {
    const { server, port } = await httpServer(() => { /* never answers */ });
    const stuck = request(port, false);
    await new Promise((r) => setTimeout(r, 50));
    await drain(server, { graceMs: 300 });
    await assert.rejects(stuck, (e: NodeJS.ErrnoException) => e.code === "ECONNRESET");
  });
});

test("a plain net.Server drains when its clients hang up; drain() twice is the same promise", async () => {
  await assertNoFdLeak(async () => {
    const server = net.createServer((s) => s.on("data", (d) => s.write(d)).on("end", () => s.end()));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    await once(client, "connect");
    const d1 = drain(server, { graceMs: FOREVER });
    assert.equal(drain(server), d1);
    client.write("ping");
    const [echo] = await once(client, "data");
    assert.equal(String(echo), "ping", "established connections keep working while draining");
    client.end();
    await d1;
    client.destroy();
  });
});

test("draining a server that is not listening resolves once its connections are gone", async () => {
  await assertNoFdLeak(async () => {
    const { server } = await httpServer((_req, res) => res.end());
    await new Promise((r) => server.close(r));
    await drain(server, { graceMs: FOREVER, idleMs: 50 });
  });
});
