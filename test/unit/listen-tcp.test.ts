import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import http from "node:http";
import { once } from "node:events";
import { openSync } from "node:fs";
import { constants as os } from "node:os";
import { fileURLToPath } from "node:url";
import * as sd from "../../src/index.js";
import { K, native } from "../../src/native/binding.js";
import { adoptServer } from "../../src/listen/adopt.js";
import { inspectFd } from "../../src/filetest/inspect.js";
import { closeServer, echo, inherit, portOf, rawTcpListener, rawUdp, rejectsWith, roundTrip, scenario, settle } from "../fixtures/listen-util.js";

afterEach(settle);

const portOfServer = (s: net.Server) => (s.address() as net.AddressInfo).port;
const exportedFd = (name: string) => sd.activeFds().find((a) => a.name === name)?.fd;

async function connect(port: number, host: string): Promise<net.Socket> {
  const c = net.connect(port, host);
  await once(c, "connect");
  return c;
}

test("creates an IPv4 listener on port 0, serves, and exports it under 'tcp'", scenario(async () => {
  const s = echo(await sd.listenTCP({ host: "127.0.0.1", port: 0 }));
  const port = portOfServer(s);
  assert.ok(port > 0);
  assert.equal((s.address() as net.AddressInfo).address, "127.0.0.1");
  const c = await connect(port, "127.0.0.1");
  assert.equal(await roundTrip(c, "ping"), "ping");
  c.destroy();
  const fd = exportedFd("tcp");
  assert.ok(fd !== undefined, "exported");
  assert.equal(inspectFd(fd).port, port);
  assert.equal(native().getFlags(fd, 0) & K().FD_CLOEXEC!, K().FD_CLOEXEC);
  await closeServer(s);
  // The export outlives close() (seed semantics): the kernel socket is still listening.
  assert.equal(inspectFd(fd).listening, true);
  assert.equal(sd.forget(s), 1);
}));

test("no host: dual-stack [::] accepts IPv4 and IPv6; ipv6Only refuses IPv4", scenario(async () => {
  const dual = echo(await sd.listenTCP({ port: 0, name: "dual" }));
  assert.equal((dual.address() as net.AddressInfo).address, "::");
  const c4 = await connect(portOfServer(dual), "127.0.0.1");
  const c6 = await connect(portOfServer(dual), "::1");
  assert.equal(await roundTrip(c4, "4"), "4");
  assert.equal(await roundTrip(c6, "6"), "6");
  c4.destroy(); c6.destroy();
  assert.equal(native().getsockopt(exportedFd("dual")!, K().IPPROTO_IPV6!, K().IPV6_V6ONLY!), 0);

  const only6 = await sd.listenTCP({ host: "::", port: 0, ipv6Only: true, name: "only6" });
  assert.equal(native().getsockopt(exportedFd("only6")!, K().IPPROTO_IPV6!, K().IPV6_V6ONLY!), 1);
  const refused = net.connect(portOfServer(only6), "127.0.0.1");
  const [err] = await once(refused, "error");
  assert.equal((err as NodeJS.ErrnoException).code, "ECONNREFUSED");
  await closeServer(dual);
  await closeServer(only6);
}));

test("IPv6 loopback, family 4/6 restrictions and backlog", scenario(async () => {
  const s6 = await sd.listenTCP({ host: "[::1]", port: 0, backlog: 7 });
  assert.deepEqual({ ...(s6.address() as net.AddressInfo), port: 0 }, { address: "::1", family: "IPv6", port: 0 });
  const s4 = await sd.listenTCP({ port: 0, family: 4 });
  assert.equal((s4.address() as net.AddressInfo).address, "0.0.0.0");
  await rejectsWith(sd.listenTCP({ host: "::1", family: 4 }), "ERR_SD_INVALID_ARG", "IPv6", "IPv4");
  await closeServer(s6);
  await closeServer(s4);
}));

test("reusePort: two listeners share one port (Node 20 alone cannot)", scenario(async () => {
  const a = await sd.listenTCP({ host: "127.0.0.1", port: 0, reusePort: true, name: "a" });
  const b = await sd.listenTCP({ host: "127.0.0.1", port: portOfServer(a), reusePort: true, name: "b" });
  assert.equal(portOfServer(a), portOfServer(b));
  assert.equal(inspectFd(exportedFd("b")!).reusePort, true);
  await closeServer(a);
  await closeServer(b);
}));

test("address in use: ERR_SD_ADDRESS_IN_USE naming the address; nothing leaks", scenario(async () => {
  const first = await sd.listenTCP({ host: "127.0.0.1", port: 0 });
  const port = portOfServer(first);
  const before = sd.activeFds().length;
  const err = await rejectsWith(sd.listenTCP({ host: "127.0.0.1", port }), "ERR_SD_ADDRESS_IN_USE", `127.0.0.1:${port}`, "EADDRINUSE");
  assert.equal(err.syscall, "bind");
  assert.equal(sd.activeFds().length, before, "a failed listen exports nothing");
  await closeServer(first);
}));

test("invalid arguments are rejected before anything is created", scenario(async () => {
  await rejectsWith(sd.listenTCP({ port: 70000 }), "ERR_SD_INVALID_ARG", "65535");
  await rejectsWith(sd.listenTCP({ port: 1.5 }), "ERR_SD_INVALID_ARG");
  await rejectsWith(sd.listenTCP({ backlog: 0 }), "ERR_SD_INVALID_ARG", "backlog");
  await rejectsWith(sd.listenTCP({ name: "a:b" }), "ERR_SD_INVALID_ARG", "':'");
  const busy = await sd.listenTCP({ port: 0, host: "127.0.0.1" });
  await rejectsWith(sd.listenTCP({ server: busy }), "ERR_SD_INVALID_ARG", "already listening");
  await closeServer(busy);
  assert.equal(sd.activeFds().length, 1);
}));

test("inherits by name: the very same socket, no new one; exported again under the name", scenario(async () => {
  const raw = rawTcpListener("127.0.0.1");
  const port = portOf(raw);
  const ino = inspectFd(raw).ino;
  inherit([{ name: "web", fd: raw }]);
  const s = echo(await sd.listenTCP({ name: "web" }));
  assert.equal(portOfServer(s), port);
  assert.equal(inspectFd(exportedFd("web")!).ino, ino, "exported dup is the inherited socket");
  const c = await connect(port, "127.0.0.1");
  assert.equal(await roundTrip(c, "x"), "x");
  c.destroy();
  await closeServer(s);
}));

test("an inherited socket: listenTCP resolves with the server listening; a 'listening' handler the caller set fires once", scenario(async () => {
  // Node takes an fd synchronously, so sdkit returns without waiting for the event (no promise
  // and listeners per server at start-up); the event itself still reaches the caller's handler.
  const raw = rawTcpListener("127.0.0.1");
  const port = portOf(raw);
  inherit([{ name: "web", fd: raw }]);
  let events = 0;
  const server = net.createServer().on("listening", () => events++);
  const s = await sd.listenTCP({ name: "web", server });
  assert.equal(s, server);
  assert.equal(s.listening, true);
  assert.equal(portOfServer(s), port);
  await new Promise((r) => setImmediate(r));
  assert.equal(events, 1);
  await closeServer(s);
}));

test("adoptServer: when Node refuses the fd, its deferred error rejects as an SdError and the fd is closed", scenario(async () => {
  // A regular file (this test's source): Node's listen({ fd }) reports EINVAL on the next tick.
  const fd = openSync(fileURLToPath(import.meta.url), "r");
  const server = net.createServer();
  const r = adoptServer(fd, server, undefined, "a regular file");
  assert.ok(r instanceof Promise, "the failure is only known on the next tick");
  await assert.rejects(r, (e: sd.SdError) => e instanceof sd.SdError && /a regular file/.test(e.message));
  assert.equal(native().fstat(fd), -os.errno.EBADF, "the fd was closed");
  assert.equal(server.listening, false);
}));

test("a name whose socket has another address or kind: ERR_SD_WRONG_KIND saying what it is", scenario(async () => {
  const raw = rawTcpListener("127.0.0.1");
  const port = portOf(raw);
  const udp = rawUdp("127.0.0.1");
  inherit([{ name: "web", fd: raw }, { name: "dns", fd: udp }]);
  await rejectsWith(sd.listenTCP({ name: "web", host: "127.0.0.1", port: port === 65535 ? 1 : port + 1 }), "ERR_SD_WRONG_KIND", "web", `TCP listener on 127.0.0.1:${port}`);
  await rejectsWith(sd.listenTCP({ name: "dns" }), "ERR_SD_WRONG_KIND", "dns", "UDP socket");
  // The fds stay in the pool: asking correctly still works.
  const s = await sd.listenTCP({ name: "web", host: "127.0.0.1", port });
  assert.equal(portOfServer(s), port);
  await closeServer(s);
}));

test("without a name, matches by address only; other addresses are left in the pool", scenario(async () => {
  const a = rawTcpListener("127.0.0.1");
  const b = rawTcpListener("::1");
  const portB = portOf(b);
  inherit([{ name: "first", fd: a }, { name: "second", fd: b }]);
  const s = await sd.listenTCP({ host: "::1", port: portB });
  assert.equal(portOfServer(s), portB);
  assert.deepEqual(sd.activeFds().map((x) => x.name), ["second"], "exported under the inherited name");
  assert.equal(sd.defaultPool().peek("first").length, 1, "the other fd is still available");
  await closeServer(s);
}));

test("port 0 finds an inherited socket by host (how a successor gets a port-0 socket back)", scenario(async () => {
  const first = await sd.listenTCP({ host: "127.0.0.1", port: 0 });
  const port = portOfServer(first);
  await closeServer(first);
  sd.reset(); // what a successor sees: the active set becomes the inherited pool
  const again = await sd.listenTCP({ host: "127.0.0.1", port: 0 });
  assert.equal(portOfServer(again), port);
  await closeServer(again);
}));

test("serves the caller's http.Server and a bare request handler on an inherited socket", scenario(async () => {
  const raw = rawTcpListener("127.0.0.1");
  const port = portOf(raw);
  inherit([{ name: "web", fd: raw }]);
  const server = http.createServer((_req, res) => res.end("from http.Server"));
  const got = await sd.listenTCP({ name: "web", server });
  assert.equal(got, server, "returns the same object");
  const h2 = await sd.listenTCP({ host: "127.0.0.1", port: 0, server: (_req, res) => res.end("from handler") });
  assert.ok(h2 instanceof http.Server);
  const get = (p: number) => new Promise<string>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: p, agent: false }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve(b));
    }).on("error", reject);
  });
  assert.equal(await get(port), "from http.Server");
  assert.equal(await get(portOfServer(h2)), "from handler");
  await closeServer(server);
  await closeServer(h2);
}));

test("forgetOnClose drops the exported dup when the server closes", scenario(async () => {
  const s = await sd.listenTCP({ host: "127.0.0.1", port: 0, forgetOnClose: true });
  assert.equal(sd.activeFds().length, 1);
  await closeServer(s);
  assert.equal(sd.activeFds().length, 0);
}));

test("host names: 'localhost' is resolved to create, and matches either loopback when inheriting", scenario(async () => {
  const created = await sd.listenTCP({ host: "localhost", port: 0 });
  assert.match((created.address() as net.AddressInfo).address, /^(127\.0\.0\.1|::1)$/);
  await closeServer(created);
  sd.forget(created);
  const raw = rawTcpListener("::1");
  const port = portOf(raw);
  inherit([{ name: "x", fd: raw }]);
  const s = await sd.listenTCP({ host: "localhost", port });
  assert.equal(portOfServer(s), port);
  assert.deepEqual(sd.activeFds().map((a) => a.name), ["x"]);
  await closeServer(s);
  await rejectsWith(sd.listenTCP({ host: "no-such-host.invalid", port: 0 }), "ERR_SD_INVALID_ARG", "no-such-host.invalid");
}));
