import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, lstatSync, openSync, closeSync, fstatSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { K, native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { abstractName, inherit, rawTcpListener, rawUnix, rejectsWith, scenario, tempDir } from "../fixtures/listen-util.js";
import { ROOT, TSX } from "../helpers/spawn.js";

type Msg = [Buffer, sd.UnixRemoteInfo];
const turns = async (n: number) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

test("listenUnixgram: receives with the sender's path, replies, exact mode, never unlinks", scenario(async () => {
  const t = tempDir("ug");
  try {
    const path = join(t.dir, "srv.sock");
    const srv = await sd.listenUnixgram({ path, mode: 0o620 });
    assert.equal(lstatSync(path).mode & 0o777, 0o620);
    assert.deepEqual(srv.address(), { path });
    const cli = new sd.UnixDatagramSocket();
    cli.bind(join(t.dir, "cli.sock"));
    await once(cli, "listening");
    assert.equal(cli.send("ping", path), 4);
    const [m, r] = (await once(srv, "message")) as Msg;
    assert.equal(String(m), "ping");
    assert.equal(r.path, join(t.dir, "cli.sock"));
    assert.equal(r.size, 4);
    assert.equal(r.truncated, false);
    srv.send(Buffer.from("pong"), r.path);
    const [back] = (await once(cli, "message")) as Msg;
    assert.equal(String(back), "pong");
    srv.close();
    cli.close();
    await once(srv, "close");
    assert.ok(existsSync(path), "close() never removes the socket file");
    assert.equal(srv.fd, -1);
  } finally { t.done(); }
}));

test("abstract names are exact-length both ways; an unbound sender shows as ''", scenario(async () => {
  const name = abstractName("ug");
  const srv = await sd.listenUnixgram({ path: name, name: "ctl" });
  const raw = native().getsockname(sd.activeFds()[0]!.fd);
  assert.ok(typeof raw !== "number" && raw.path!.length === Buffer.byteLength(name));
  const cliName = abstractName("ugc");
  const cli = new sd.UnixDatagramSocket().bind(cliName);
  const anon = new sd.UnixDatagramSocket();
  cli.send("a", name);
  const [, r1] = (await once(srv, "message")) as Msg;
  assert.equal(r1.path, cliName);
  anon.send(new Uint8Array([1, 2, 3]), name);
  const [m2, r2] = (await once(srv, "message")) as Msg;
  assert.deepEqual([...m2], [1, 2, 3]);
  assert.equal(r2.path, "");
  for (const s of [srv, cli, anon]) s.close();
}));

test("received fds are closed unless receiveFds; credentials with the credentials option", scenario(async () => {
  const plain = await sd.listenUnixgram({ path: abstractName("ug") });
  const opted = await sd.listenUnixgram({ path: abstractName("ug"), receiveFds: true, credentials: true });
  const file = openSync("/dev/null", "r");
  const cli = new sd.UnixDatagramSocket();
  try {
    cli.send("with fd", plain.address().path, { fds: [file] });
    const [, r1] = (await once(plain, "message")) as Msg;
    assert.deepEqual(r1.fds, [], "dropped fds are closed (the scenario checks /proc/self/fd)");
    assert.equal(r1.pid, -1);
    cli.send("with fd", opted.address().path, { fds: [file] });
    const [, r2] = (await once(opted, "message")) as Msg;
    assert.equal(r2.fds.length, 1);
    assert.equal(fstatSync(r2.fds[0]!).ino, fstatSync(file).ino);
    assert.equal(r2.pid, process.pid);
    assert.equal(r2.uid, process.getuid!());
    closeSync(r2.fds[0]!);
  } finally {
    closeSync(file);
    for (const s of [plain, opted, cli]) s.close();
  }
}));

test("long datagrams are cut at maxMessageSize and flagged", scenario(async () => {
  const srv = await sd.listenUnixgram({ path: abstractName("ug"), maxMessageSize: 10 });
  const cli = new sd.UnixDatagramSocket();
  cli.send(Buffer.alloc(100, 7), srv.address().path);
  const [m, r] = (await once(srv, "message")) as Msg;
  assert.equal(m.length, 10);
  assert.equal(r.size, 100);
  assert.equal(r.truncated, true);
  assert.throws(() => new sd.UnixDatagramSocket({ maxMessageSize: 0 }), { code: "ERR_SD_INVALID_ARG" });
  srv.close();
  cli.close();
}));

test("send errors name the destination; closed and unconnected sockets say so", scenario(async () => {
  const t = tempDir("ug");
  try {
    const stale = join(t.dir, "stale.sock");
    native().close(rawUnix(stale, "dgram"));
    const cli = new sd.UnixDatagramSocket();
    await rejectsWith(() => cli.send("x", stale), "ERR_SD_SYSCALL", "ECONNREFUSED", stale);
    await rejectsWith(() => cli.send("x", join(t.dir, "missing")), "ERR_SD_SYSCALL", "ENOENT", "missing");
    await rejectsWith(() => cli.send("x"), "ERR_SD_INVALID_ARG", "connect");
    cli.close();
    cli.close(); // idempotent
    await rejectsWith(() => cli.send("x", stale), "ERR_SD_SOCKET_CLOSED");
    await rejectsWith(() => cli.address(), "ERR_SD_SOCKET_CLOSED");
    const tcp = rawTcpListener("127.0.0.1");
    try {
      await rejectsWith(() => new sd.UnixDatagramSocket({ fd: tcp }), "ERR_SD_WRONG_KIND", "Unix datagram");
    } finally { native().close(tcp); }
    const b = new sd.UnixDatagramSocket();
    b.bind(join(t.dir, "exists"));
    await once(b, "listening");
    const dup = new sd.UnixDatagramSocket();
    dup.bind(join(t.dir, "exists"));
    const [err] = await once(dup, "error");
    assert.equal((err as sd.SdError).code, "ERR_SD_ADDRESS_IN_USE");
    b.close();
    dup.close();
  } finally { t.done(); }
}));

test("connect(): send without a path goes to the peer", scenario(async () => {
  const srv = await sd.listenUnixgram({ path: abstractName("ug") });
  const cli = new sd.UnixDatagramSocket();
  cli.connect(srv.address().path);
  await once(cli, "connect");
  assert.deepEqual(cli.remoteAddress(), { path: srv.address().path });
  cli.send("to peer");
  const [m] = (await once(srv, "message")) as Msg;
  assert.equal(String(m), "to peer");
  const bad = new sd.UnixDatagramSocket();
  const err = await new Promise<Error | null>((r) => bad.connect(abstractName("nobody"), r));
  assert.equal((err as sd.SdError).sysCode, "ECONNREFUSED");
  for (const s of [srv, cli, bad]) s.close();
}));

/** A receiver that does not read: a raw bound fd nobody polls. */
function stalledReceiver(path: string): number {
  return rawUnix(path, "dgram");
}

for (const mode of ["unconnected", "connected"] as const) {
  test(`back-pressure (${mode}): ERR_SD_WOULD_BLOCK, nothing lost, 'drain' only once the receiver reads`, scenario(async () => {
    const path = abstractName("bp");
    const rx = stalledReceiver(path);
    const tx = new sd.UnixDatagramSocket();
    try {
      if (mode === "connected") { tx.connect(path); await once(tx, "connect"); }
      const drains: (string | undefined)[] = [];
      tx.on("drain", (p) => drains.push(p));
      let sent = 0;
      let blocked: sd.SdError | undefined;
      for (; sent < 100_000; sent++) {
        try { tx.send(`m${sent}`, mode === "connected" ? undefined : path); } catch (e) { blocked = e as sd.SdError; break; }
      }
      assert.ok(blocked, "the queue must fill up");
      assert.equal(blocked.code, "ERR_SD_WOULD_BLOCK");
      assert.equal(blocked.path, path);
      assert.ok(sent > 0);
      await turns(30);
      assert.deepEqual(drains, [], "no drain while the receiver is stalled");
      const got: string[] = [];
      for (;;) {
        const r = native().recvmsg(rx, 100);
        if (typeof r === "number") break;
        got.push(String(r.data));
      }
      assert.deepEqual(got, Array.from({ length: sent }, (_, i) => `m${i}`), "every accepted datagram arrived, in order");
      await once(tx, "drain");
      assert.deepEqual(drains, [mode === "connected" ? undefined : path]);
      tx.send("after drain", mode === "connected" ? undefined : path);
      const r = native().recvmsg(rx, 100);
      assert.ok(typeof r !== "number" && String(r.data) === "after drain");
    } finally {
      tx.close();
      native().close(rx);
    }
  }));
}

test("close() while waiting for drain cancels the wait (no leaked probe socket)", scenario(async () => {
  const path = abstractName("bp");
  const rx = stalledReceiver(path);
  const tx = new sd.UnixDatagramSocket();
  try {
    assert.throws(() => { for (let i = 0; i < 100_000; i++) tx.send("x", path); }, { code: "ERR_SD_WOULD_BLOCK" });
    await turns(5);
  } finally {
    tx.close();
    native().close(rx);
  }
}));

test("inheritNamedPacketConn / listenPacket('unixgram') give a UnixDatagramSocket", scenario(async () => {
  const t = tempDir("ug");
  try {
    const p = join(t.dir, "in.sock");
    inherit([{ name: "ctl", fd: rawUnix(p, "dgram") }]);
    const got = sd.inheritNamedPacketConn("ctl");
    assert.ok(got && got.socket instanceof sd.UnixDatagramSocket);
    assert.equal(got.name, "ctl");
    assert.equal((got.socket as sd.UnixDatagramSocket).address().path, p);
    assert.equal(sd.inheritNamedPacketConn("ctl"), undefined, "taken once");
    const q = await sd.listenPacket("unixgram", join(t.dir, "new.sock"), { name: "new" });
    const cli = new sd.UnixDatagramSocket();
    cli.send("hello", p);
    const [m] = (await once(got.socket, "message")) as Msg;
    assert.equal(String(m), "hello");
    assert.deepEqual(sd.activeFds().map((a) => a.name), ["ctl", "new"]);
    for (const s of [got.socket as sd.UnixDatagramSocket, q, cli]) s.close();
  } finally { t.done(); }
}));

test("unref() lets the process exit with the socket open; ref() (default) keeps it alive", () => {
  const code = `
    import * as sd from ${JSON.stringify(join(ROOT, "src/index.ts"))};
    const s = await sd.listenUnixgram({ path: "@sdkit-unref-" + process.pid });
    if (process.argv[1] === "unref") s.unref(); else setTimeout(() => { console.log("still alive"); s.close(); }, 200);
  `;
  for (const mode of ["unref", "ref"]) {
    const r = spawnSync(TSX[0]!, [...TSX.slice(1), "--input-type=module", "-e", code, mode], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), mode === "ref" ? "still alive" : "");
  }
});

test("a datagram socket adopted from a blocking fd is made non-blocking (never blocks the loop)", scenario(async () => {
  const c = K();
  const fd = native().socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC!, 0);
  assert.equal(native().bind(fd, { family: c.AF_UNIX!, path: encodeUnixPath(abstractName("nb")) }), 0);
  const s = new sd.UnixDatagramSocket({ fd });
  assert.ok(native().getFlags(fd, 1) & c.O_NONBLOCK!);
  await once(s, "listening");
  s.close();
}));
