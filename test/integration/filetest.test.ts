// The file tests against libsystemd's sd_is_* truth table, on real fds of every kind. Each
// row names the fixtures for which a test must be true; it must be false for all the others
// (and for closed or nonsense fd numbers, without throwing).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isFifo, isListening, isSocket, isSocketInet, isSocketUnix, isSoReusePort, isSpecial } from "../../src/filetest/socket.js";
import { isTCPListener, isUDPListener, isUnixListener } from "../../src/filetest/address.js";
import type { FileTest } from "../../src/registry/pool.js";
import { native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { fdSnapshot } from "../helpers/fd-leak.js";

const n = native();
const K = n.constants as Record<string, number>;
const dir = mkdtempSync(join(tmpdir(), "sdkit-ft-"));
const P = (f: string) => join(dir, f);
const ABS = `sdkit-ft-${process.pid}`; // exact-length abstract name (systemd/Go style)
const PAD = `sdkit-pad-${process.pid}`; // zero-padded to 108 bytes (libuv style)
const fx: Record<string, number> = {};
const port: Record<string, number> = {};
let nullCopy: string | undefined;

function sock(family: number, type: number): number {
  const fd = n.socket(family, type | K.SOCK_CLOEXEC!, 0);
  assert.ok(fd >= 0, `socket: ${fd}`);
  return fd;
}
function inet(name: string, family: number, type: number, address: string, listen: boolean, reusePort = false): void {
  const fd = sock(family, type);
  if (reusePort) assert.equal(n.setsockopt(fd, K.SOL_SOCKET!, K.SO_REUSEPORT!, 1), 0);
  assert.equal(n.bind(fd, { family, address, port: 0 }), 0, `bind ${address}`);
  if (listen) assert.equal(n.listen(fd, 8), 0);
  const a = n.getsockname(fd);
  assert.ok(typeof a !== "number");
  fx[name] = fd;
  port[name] = a.port!;
}
function unix(name: string, type: number, path: Buffer | undefined, listen: boolean): void {
  const fd = sock(K.AF_UNIX!, type);
  if (path) assert.equal(n.bind(fd, { family: K.AF_UNIX!, path }), 0, `bind ${name}`);
  if (listen) assert.equal(n.listen(fd, 8), 0);
  fx[name] = fd;
}

before(() => {
  inet("tcp4L", K.AF_INET!, K.SOCK_STREAM!, "127.0.0.1", true);
  inet("tcp4B", K.AF_INET!, K.SOCK_STREAM!, "127.0.0.1", false); // bound, never listening
  inet("tcp6L", K.AF_INET6!, K.SOCK_STREAM!, "::1", true);
  inet("tcpMapL", K.AF_INET6!, K.SOCK_STREAM!, "::ffff:127.0.0.1", true); // v4-mapped on an AF_INET6 socket
  inet("tcpAny6L", K.AF_INET6!, K.SOCK_STREAM!, "::", true);
  inet("tcpRP", K.AF_INET!, K.SOCK_STREAM!, "127.0.0.1", true, true);
  inet("udp4", K.AF_INET!, K.SOCK_DGRAM!, "127.0.0.1", false);
  inet("udp6", K.AF_INET6!, K.SOCK_DGRAM!, "::1", false);
  fx.udp4U = sock(K.AF_INET!, K.SOCK_DGRAM!); // never bound: port 0
  unix("unixL", K.SOCK_STREAM!, encodeUnixPath(P("l.sock")), true);
  unix("unixAbs", K.SOCK_STREAM!, encodeUnixPath("@" + ABS), true);
  const padded = Buffer.alloc(108);
  padded.write(PAD, 1);
  unix("unixPad", K.SOCK_STREAM!, padded, true);
  unix("unixD", K.SOCK_DGRAM!, encodeUnixPath(P("d.sock")), false);
  unix("unixSeqL", K.SOCK_SEQPACKET!, encodeUnixPath(P("s.sock")), true);
  unix("unixUnbound", K.SOCK_STREAM!, undefined, false);
  const pair = n.socketpair(K.AF_UNIX!, K.SOCK_STREAM! | K.SOCK_CLOEXEC!);
  assert.ok(Array.isArray(pair));
  [fx.unixPair, fx.unixPairPeer] = pair;
  assert.equal(n.mkfifo(P("fifo"), 0o600), 0);
  fx.fifo = openSync(P("fifo"), "r+");
  symlinkSync(P("fifo"), P("fifo-link"));
  const pipe = n.pipe2(K.O_CLOEXEC!);
  assert.ok(Array.isArray(pipe));
  [fx.pipe, fx.pipeW] = pipe;
  writeFileSync(P("file"), "x");
  fx.file = openSync(P("file"), "r");
  fx.devnull = openSync("/dev/null", "r");
  fx.dir = openSync(dir, "r");
  // A second device node for /dev/null's major:minor: libsystemd compares st_rdev for char devices.
  try { execFileSync("mknod", [P("null-copy"), "c", "1", "3"]); nullCopy = P("null-copy"); } catch { /* not root */ }
});
after(() => {
  for (const fd of Object.values(fx)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

const SOCKETS = ["tcp4L", "tcp4B", "tcp6L", "tcpMapL", "tcpAny6L", "tcpRP", "udp4", "udp6", "udp4U", "unixL", "unixAbs", "unixPad", "unixD", "unixSeqL", "unixUnbound", "unixPair", "unixPairPeer"];
const LISTENING = ["tcp4L", "tcp6L", "tcpMapL", "tcpAny6L", "tcpRP", "unixL", "unixAbs", "unixPad", "unixSeqL"];
const TCP_LISTENERS = ["tcp4L", "tcp6L", "tcpMapL", "tcpAny6L", "tcpRP"];
const INET = SOCKETS.filter((s) => !s.startsWith("unix"));
const UNIX = SOCKETS.filter((s) => s.startsWith("unix"));
const not = (all: string[], some: string[]) => all.filter((x) => !some.includes(x));

/** [description, test (built lazily: ports and paths exist only after before()), fixtures where it is true] */
type Row = [string, () => FileTest, () => string[]];
const rows: Row[] = [
  ["isFifo()", () => isFifo(), () => ["fifo", "pipe", "pipeW"]], // a pipe is S_IFIFO too
  ["isFifo(path)", () => isFifo(P("fifo")), () => ["fifo"]],
  ["isFifo(symlink to it) (stat follows links)", () => isFifo(P("fifo-link")), () => ["fifo"]],
  ["isFifo(missing path)", () => isFifo(P("missing")), () => []],
  ["isFifo(a regular file's path)", () => isFifo(P("file")), () => []],
  ["isSpecial()", () => isSpecial(), () => ["file", "devnull"]],
  ["isSpecial(file path)", () => isSpecial(P("file")), () => ["file"]],
  ["isSpecial('/dev/null')", () => isSpecial("/dev/null"), () => ["devnull"]],
  ["isSpecial(other node, same rdev)", () => isSpecial(nullCopy ?? "/dev/null"), () => ["devnull"]],
  ["isSpecial(missing path)", () => isSpecial(P("missing")), () => []],
  ["isSocket()", () => isSocket(), () => SOCKETS],
  ["isSocket({ family: AF_INET })", () => isSocket({ family: K.AF_INET! }), () => ["tcp4L", "tcp4B", "tcpRP", "udp4", "udp4U"]],
  ["isSocket({ family: AF_INET6 })", () => isSocket({ family: K.AF_INET6! }), () => ["tcp6L", "tcpMapL", "tcpAny6L", "udp6"]],
  ["isSocket({ type: SOCK_DGRAM })", () => isSocket({ type: K.SOCK_DGRAM! }), () => ["udp4", "udp6", "udp4U", "unixD"]],
  ["isSocket({ listening: true })", () => isSocket({ listening: true }), () => LISTENING],
  ["isSocket({ listening: false })", () => isSocket({ listening: false }), () => not(SOCKETS, LISTENING)],
  ["isSocket({ family: 0, type: 0 }) = don't care", () => isSocket({ family: 0, type: 0 }), () => SOCKETS],
  ["isSocket(unix stream listening)", () => isSocket({ family: K.AF_UNIX!, type: K.SOCK_STREAM!, listening: true }), () => ["unixL", "unixAbs", "unixPad"]],
  ["isSocketInet()", () => isSocketInet(), () => INET],
  ["isSocketInet({ family: AF_UNIX }) (libsystemd: -EINVAL)", () => isSocketInet({ family: K.AF_UNIX! }), () => []],
  ["isSocketInet(stream, listening)", () => isSocketInet({ type: K.SOCK_STREAM!, listening: true }), () => TCP_LISTENERS],
  ["isSocketInet({ port })", () => isSocketInet({ port: port.tcp4L! }), () => ["tcp4L"]],
  ["isSocketInet({ port, type: DGRAM })", () => isSocketInet({ port: port.udp4!, type: K.SOCK_DGRAM! }), () => ["udp4"]],
  ["isSocketInet({ port: 0 }) = any port", () => isSocketInet({ port: 0 }), () => INET],
  ["isSocketInet({ family: AF_INET6, listening: false })", () => isSocketInet({ family: K.AF_INET6!, listening: false }), () => ["udp6"]],
  ["isSocketUnix()", () => isSocketUnix(), () => UNIX],
  ["isSocketUnix({ path })", () => isSocketUnix({ path: P("l.sock") }), () => ["unixL"]],
  ["isSocketUnix({ path: '@abstract' }) exact length", () => isSocketUnix({ path: "@" + ABS }), () => ["unixAbs"]],
  ["isSocketUnix({ path: '@prefix' }) no prefix match", () => isSocketUnix({ path: "@" + ABS.slice(0, -1) }), () => []],
  ["isSocketUnix({ path: '@padded' }) (108-byte name differs)", () => isSocketUnix({ path: "@" + PAD }), () => []],
  ["isSocketUnix({ path: '' }) = unnamed", () => isSocketUnix({ path: "" }), () => ["unixUnbound", "unixPair", "unixPairPeer"]],
  ["isSocketUnix({ type: SEQPACKET })", () => isSocketUnix({ type: K.SOCK_SEQPACKET! }), () => ["unixSeqL"]],
  ["isSocketUnix({ type: DGRAM, path })", () => isSocketUnix({ type: K.SOCK_DGRAM!, path: P("d.sock") }), () => ["unixD"]],
  ["isSocketUnix({ type: STREAM, path: dgram's })", () => isSocketUnix({ type: K.SOCK_STREAM!, path: P("d.sock") }), () => []],
  ["isSocketUnix({ listening: true })", () => isSocketUnix({ listening: true }), () => ["unixL", "unixAbs", "unixPad", "unixSeqL"]],
  ["isListening()", () => isListening(), () => LISTENING],
  ["isListening(false) (sockets only)", () => isListening(false), () => not(SOCKETS, LISTENING)],
  ["isSoReusePort()", () => isSoReusePort(), () => ["tcpRP"]],
  ["isTCPListener()", () => isTCPListener(), () => TCP_LISTENERS],
  ["isTCPListener(127.0.0.1) incl. v4-mapped", () => isTCPListener({ host: "127.0.0.1" }), () => ["tcp4L", "tcpMapL", "tcpRP"]],
  ["isTCPListener(127.0.0.1:port)", () => isTCPListener({ host: "127.0.0.1", port: port.tcp4L! }), () => ["tcp4L"]],
  ["isTCPListener(::1)", () => isTCPListener({ host: "::1" }), () => ["tcp6L"]],
  ["isTCPListener(0:0:0:0:0:0:0:1) non-canonical IPv6", () => isTCPListener({ host: "0:0:0:0:0:0:0:1" }), () => ["tcp6L"]],
  ["isTCPListener([::1]:port)", () => isTCPListener({ host: "[::1]", port: port.tcp6L! }), () => ["tcp6L"]],
  ["isTCPListener(::FFFF:7f00:1:port) mapped, hex form", () => isTCPListener({ host: "::FFFF:7f00:1", port: port.tcpMapL! }), () => ["tcpMapL"]],
  ["isTCPListener({ port: 0 }) = any", () => isTCPListener({ port: 0 }), () => TCP_LISTENERS],
  ["isTCPListener(:: port)", () => isTCPListener({ host: "::", port: port.tcpAny6L! }), () => ["tcpAny6L"]],
  ["isTCPListener(0.0.0.0) != [::]", () => isTCPListener({ host: "0.0.0.0" }), () => []],
  ["isTCPListener(localhost)", () => isTCPListener({ host: "localhost" }), () => ["tcp4L", "tcp6L", "tcpMapL", "tcpRP"]],
  ["isTCPListener(bound, not listening)", () => isTCPListener({ port: port.tcp4B! }), () => []],
  ["isUDPListener() matches bound UDP (no SO_ACCEPTCONN)", () => isUDPListener(), () => ["udp4", "udp6"]],
  ["isUDPListener(127.0.0.1:port)", () => isUDPListener({ host: "127.0.0.1", port: port.udp4! }), () => ["udp4"]],
  ["isUDPListener({ port }) v6", () => isUDPListener({ port: port.udp6! }), () => ["udp6"]],
  ["isUDPListener(a TCP port)", () => isUDPListener({ port: port.tcp4L! }), () => []],
  ["isUnixListener() matches path and abstract", () => isUnixListener(), () => ["unixL", "unixAbs", "unixPad"]],
  ["isUnixListener('@abstract')", () => isUnixListener("@" + ABS), () => ["unixAbs"]],
  ["isUnixListener(path)", () => isUnixListener(P("l.sock")), () => ["unixL"]],
  ["isUnixListener(a dgram socket's path)", () => isUnixListener(P("d.sock")), () => []],
];

for (const [why, make, trueFor] of rows) {
  test(`truth table: ${why}`, () => {
    const done = fdSnapshot();
    const t = make();
    const got = Object.keys(fx).filter((k) => t(fx[k]!));
    assert.deepEqual(got.sort(), [...trueFor()].sort());
    done();
  });
}

test("isSpecial compares st_rdev for character devices (a second /dev/null node)", (t) => {
  if (!nullCopy) { t.skip("mknod needs root"); return; }
  assert.equal(isSpecial(nullCopy)(fx.devnull!), true);
  assert.equal(isSpecial(nullCopy)(fx.file!), false);
});

test("closed and nonsense fds: every test says false and none throws", () => {
  const done = fdSnapshot();
  const closed = n.dupCloexec(0, 3);
  assert.equal(n.close(closed), 0);
  // 2**32 + 1 would be fd 1 if truncated to 32 bits; NaN would be fd 0.
  const bad = [closed, -1, 1_000_000, 2 ** 31, 2 ** 32 + 1, NaN, 1.5, Infinity];
  for (const [why, make] of rows) {
    const ft = make();
    for (const fd of bad) assert.equal(ft(fd), false, `${why} on fd ${fd}`);
  }
  done();
});
