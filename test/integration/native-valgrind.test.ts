// Native layer checks: (1) the plain-C syscall core under valgrind memcheck via
// native/test/run-valgrind.sh; (2) every addon export's error path from JS: a failed syscall
// returns -errno (never throws, never crashes) and an argument of the wrong JS type or an
// impossible value throws TypeError with code ERR_SD_NATIVE_ARGS before any syscall runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { constants as os } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { ROOT } from "../helpers/spawn.js";

const n = native();
const K = n.constants as Record<string, number>;
const E = os.errno as Record<string, number>;

test("sys.c under valgrind memcheck: every function, no memory errors, no definite leaks", (t) => {
  if (spawnSync("valgrind", ["--version"]).error) { t.skip("valgrind is not installed (apt-get install valgrind)"); return; }
  const dir = mkdtempSync(join(tmpdir(), "sdkit-vg-"));
  try {
    const r = spawnSync(join(ROOT, "native", "test", "run-valgrind.sh"), [dir], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, `driver or valgrind failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^\d{3,} checks, 0 failures$/m);
    assert.doesNotMatch(r.stderr, /Invalid|uninitialised|definitely lost/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Fixtures shared by the error-path table: a closed fd, a socket with nothing queued, a regular file. */
function fixtures() {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-nat-"));
  writeFileSync(join(dir, "file"), "x");
  const file = openSync(join(dir, "file"), "r");
  const dgram = n.socket(K.AF_UNIX!, K.SOCK_DGRAM! | K.SOCK_CLOEXEC!, 0);
  assert.ok(dgram >= 0);
  const closed = n.dupCloexec(0, 3);
  assert.equal(n.close(closed), 0);
  return { dir, file, dgram, closed, done: () => { closeSync(file); n.close(dgram); rmSync(dir, { recursive: true }); } };
}

test("every export: a failing syscall returns the negative errno", () => {
  const done = fdSnapshot();
  const f = fixtures();
  const cb = () => {};
  const inet = { family: K.AF_INET!, address: "127.0.0.1", port: 0 };
  const rows: [string, () => unknown, number][] = [
    ["close", () => n.close(f.closed), -E.EBADF!],
    ["dupCloexec bad fd", () => n.dupCloexec(f.closed, 3), -E.EBADF!],
    ["dupCloexec bad min", () => n.dupCloexec(0, -1), -E.EINVAL!],
    ["setCloexec", () => n.setCloexec(f.closed, true), -E.EBADF!],
    ["dup2 bad old", () => n.dup2(f.closed, f.closed + 1), -E.EBADF!],
    ["dup2 bad new", () => n.dup2(0, -1), -E.EBADF!],
    ["getFlags F_GETFD", () => n.getFlags(f.closed, 0), -E.EBADF!],
    ["getFlags F_GETFL", () => n.getFlags(f.closed, 1), -E.EBADF!],
    ["setFl", () => n.setFl(f.closed, 0), -E.EBADF!],
    ["fstat", () => n.fstat(f.closed), -E.EBADF!],
    ["fstat into an array", () => n.fstat(f.closed, new Float64Array(3)), -E.EBADF!],
    ["fdInfo", () => n.fdInfo(f.closed, false, new Float64Array(8)), -E.EBADF!],
    ["flock bad fd", () => n.flock(f.closed, K.LOCK_EX!), -E.EBADF!],
    ["flock bad op", () => n.flock(f.file, 0), -E.EINVAL!],
    ["pipe2 bad flags", () => n.pipe2(-1), -E.EINVAL!],
    ["mkfifo missing dir", () => n.mkfifo(join(f.dir, "no", "fifo"), 0o600), -E.ENOENT!],
    ["mkfifo too long", () => n.mkfifo("/" + "a".repeat(5000), 0o600), -E.ENAMETOOLONG!],
    ["mkfifo exists", () => n.mkfifo(join(f.dir, "file"), 0o600), -E.EEXIST!],
    ["pidfdInode bad pid", () => n.pidfdInode(-5), -E.EINVAL!],
    ["pidfdInode no such pid", () => n.pidfdInode(2 ** 31 - 1), -E.ESRCH!],
    ["socket bad family", () => n.socket(12345, K.SOCK_STREAM!, 0), -E.EAFNOSUPPORT!],
    ["socketpair inet", () => n.socketpair(K.AF_INET!, K.SOCK_STREAM!), -E.EOPNOTSUPP!],
    ["getsockopt", () => n.getsockopt(f.closed, K.SOL_SOCKET!, K.SO_TYPE!), -E.EBADF!],
    ["getsockopt not a socket", () => n.getsockopt(f.file, K.SOL_SOCKET!, K.SO_TYPE!), -E.ENOTSOCK!],
    ["setsockopt", () => n.setsockopt(f.closed, K.SOL_SOCKET!, K.SO_PASSCRED!, 1), -E.EBADF!],
    ["bind bad fd", () => n.bind(f.closed, inet), -E.EBADF!],
    ["bind bad host", () => n.bind(f.dgram, { family: K.AF_INET!, address: "nope", port: 0 }), -E.EINVAL!],
    ["bind bad port", () => n.bind(f.dgram, { family: K.AF_INET!, address: "127.0.0.1", port: 70000 }), -E.EINVAL!],
    ["bind path too long", () => n.bind(f.dgram, { family: K.AF_UNIX!, path: Buffer.alloc(109, 97) }), -E.EINVAL!],
    ["bind family", () => n.bind(f.dgram, { family: 12345, address: "1.2.3.4", port: 1 }), -E.EAFNOSUPPORT!],
    ["connect bad fd", () => n.connect(f.closed, inet), -E.EBADF!],
    ["connect refused", () => n.connect(f.dgram, { family: K.AF_UNIX!, path: encodeUnixPath(`@sdkit-nobody-${process.pid}`) }), -E.ECONNREFUSED!],
    ["listen", () => n.listen(f.closed, 1), -E.EBADF!],
    ["getsockname", () => n.getsockname(f.closed), -E.EBADF!],
    ["getpeername unconnected", () => n.getpeername(f.dgram), -E.ENOTCONN!],
    ["sendmsg bad fd", () => n.sendmsg(f.closed, Buffer.from("x"), null, [], null), -E.EBADF!],
    ["sendmsg 254 fds", () => n.sendmsg(f.dgram, Buffer.from("x"), null, new Array<number>(254).fill(0), null), -E.E2BIG!],
    ["sendmsg bad fd in list", () => n.sendmsg(f.dgram, Buffer.from("x"), { family: K.AF_UNIX!, path: encodeUnixPath("@x") }, [f.closed], null), -E.EBADF!],
    ["recvmsg bad fd", () => n.recvmsg(f.closed, 16), -E.EBADF!],
    ["recvmsg empty", () => n.recvmsg(f.dgram, 16), -E.EAGAIN!],
    ["pollStart bad fd", () => n.pollStart(f.closed, 1, cb), -E.EBADF!],
    ["pollStart regular file", () => n.pollStart(f.file, 1, cb), -E.EPERM!],
    ["execve missing program", () => n.execve(join(f.dir, "missing"), ["x"], []), -E.ENOENT!],
    ["execve not executable", () => n.execve(join(f.dir, "file"), ["x"], []), -E.EACCES!],
  ];
  try {
    for (const [why, call, want] of rows) assert.equal(call(), want, why);
  } finally { f.done(); }
  done();
});

test("poll handles: stop is idempotent and a stopped handle accepts update/ref as no-ops", () => {
  const done = fdSnapshot();
  const s = n.socket(K.AF_UNIX!, K.SOCK_DGRAM! | K.SOCK_CLOEXEC! | K.SOCK_NONBLOCK!, 0);
  const h = n.pollStart(s, 1, () => {});
  assert.equal(typeof h, "object");
  assert.equal(n.pollRef(h as object, false), 0);
  assert.equal(n.pollStop(h as object), 0);
  assert.equal(n.pollStop(h as object), 0);
  assert.equal(n.pollUpdate(h as object, 1), 0);
  assert.equal(n.pollRef(h as object, true), 0);
  assert.equal(n.close(s), 0);
  done();
});

test("every export: wrong argument types and impossible values throw TypeError ERR_SD_NATIVE_ARGS", () => {
  const done = fdSnapshot();
  const f = fixtures();
  const s = n.socket(K.AF_UNIX!, K.SOCK_DGRAM! | K.SOCK_CLOEXEC! | K.SOCK_NONBLOCK!, 0);
  const h = n.pollStart(s, 1, () => {}) as object;
  const x = "x" as unknown as number;
  const buf = Buffer.from("x");
  const missing = join(f.dir, "missing"); // execve rows must never reach a real program
  const fifo = join(f.dir, "fifo\0../escape");
  // Each call is made with `any`: these are the mistakes TypeScript would normally stop.
  const a = n as unknown as Record<string, (...args: unknown[]) => unknown>;
  const rows: [string, () => unknown][] = [
    ["close()", () => a.close!()],
    ["close('3')", () => a.close!("3")],
    ["close(1.5)", () => a.close!(1.5)],
    ["close(NaN)", () => a.close!(NaN)],
    ["close(2**32 + fd) would close fd", () => a.close!(2 ** 32 + f.dgram)],
    ["close(-2**31 - 1)", () => a.close!(-(2 ** 31) - 1)],
    ["dupCloexec(fd)", () => a.dupCloexec!(0)],
    ["setCloexec(fd, 'yes')", () => a.setCloexec!(f.dgram, "yes")],
    ["dup2('a', 9)", () => a.dup2!("a", 9)],
    ["getFlags(fd, 'x')", () => a.getFlags!(0, x)],
    ["setFl(fd, {})", () => a.setFl!(f.dgram, {})],
    ["fstat(null)", () => a.fstat!(null)],
    ["fstat(fd, [])", () => a.fstat!(f.dgram, [0, 0, 0])],
    ["fstat(fd, Float64Array(2))", () => a.fstat!(f.dgram, new Float64Array(2))],
    ["fdInfo(fd, false)", () => a.fdInfo!(f.dgram, false)],
    ["fdInfo(fd, false, Float32Array(8))", () => a.fdInfo!(f.dgram, false, new Float32Array(8))],
    ["fdInfo(fd, false, Float64Array(7))", () => a.fdInfo!(f.dgram, false, new Float64Array(7))],
    ["fdInfo(fd, 'no', out)", () => a.fdInfo!(f.dgram, "no", new Float64Array(8))],
    ["flock(fd, 'x')", () => a.flock!(f.file, x)],
    ["pipe2('x')", () => a.pipe2!(x)],
    ["mkfifo(5, mode)", () => a.mkfifo!(5, 0o600)],
    ["mkfifo(path with NUL)", () => a.mkfifo!(fifo, 0o600)],
    ["umask('x')", () => a.umask!(x)],
    ["pidfdInode(1n)", () => a.pidfdInode!(1n)],
    ["socket('x', 1, 0)", () => a.socket!(x, 1, 0)],
    ["socketpair(1)", () => a.socketpair!(1)],
    ["getsockopt(fd, 1)", () => a.getsockopt!(f.dgram, 1)],
    ["setsockopt(fd, 1, 2, 'x')", () => a.setsockopt!(f.dgram, 1, 2, x)],
    ["bind(fd, null)", () => a.bind!(f.dgram, null)],
    ["bind(fd, undefined)", () => a.bind!(f.dgram, undefined)],
    ["bind(fd, { family: 'x' })", () => a.bind!(f.dgram, { family: "x" })],
    ["bind(fd, unix without path)", () => a.bind!(f.dgram, { family: K.AF_UNIX })],
    ["bind(fd, unix path string)", () => a.bind!(f.dgram, { family: K.AF_UNIX, path: "/tmp/x" })],
    ["bind(fd, inet address number)", () => a.bind!(f.dgram, { family: K.AF_INET, address: 7, port: 0 })],
    ["connect(fd, 5)", () => a.connect!(f.dgram, 5)],
    ["listen(fd, 'x')", () => a.listen!(f.dgram, x)],
    ["getsockname('x')", () => a.getsockname!(x)],
    ["getpeername({})", () => a.getpeername!({})],
    ["sendmsg(data string)", () => a.sendmsg!(f.dgram, "x", null, [], null)],
    ["sendmsg(fds not an array)", () => a.sendmsg!(f.dgram, buf, null, "fds", null)],
    ["sendmsg(fds of strings)", () => a.sendmsg!(f.dgram, buf, null, ["x"], null)],
    ["sendmsg(cred of 2)", () => a.sendmsg!(f.dgram, buf, null, [], [1, 2])],
    ["sendmsg(to a number)", () => a.sendmsg!(f.dgram, buf, 5, [], null)],
    ["recvmsg(fd, 'x')", () => a.recvmsg!(f.dgram, x)],
    ["pollStart(fd, 1, not a function)", () => a.pollStart!(s, 1, "cb")],
    ["pollUpdate({}, 1)", () => a.pollUpdate!({}, 1)],
    ["pollStop(5)", () => a.pollStop!(5)],
    ["pollRef(handle, 'x')", () => a.pollRef!(h, "x")],
    ["execve(5, [], [])", () => a.execve!(5, [], [])],
    ["execve(path, 'argv', [])", () => a.execve!(missing, "argv", [])],
    ["execve(path, [1], [])", () => a.execve!(missing, [1], [])],
    ["execve(path, [], [null])", () => a.execve!(missing, [], [null])],
    ["execve(path with NUL)", () => a.execve!(missing + "\0/bin/true", ["x"], [])],
  ];
  const wrong: string[] = [];
  let fifoCreated = false;
  try {
    for (const [why, call] of rows) {
      try {
        const r = call();
        wrong.push(`${why}: returned ${JSON.stringify(r)}`);
      } catch (e) {
        const err = e as Error & { code?: string };
        if (!(err instanceof TypeError) || err.code !== "ERR_SD_NATIVE_ARGS") wrong.push(`${why}: threw ${err.name} ${err.code}: ${err.message}`);
      }
    }
    fifoCreated = existsSync(join(f.dir, "fifo"));
  } finally {
    n.pollStop(h);
    n.close(s);
    f.done();
  }
  assert.deepEqual(wrong, []);
  assert.equal(fifoCreated, false, "a NUL must not truncate the path");
  done();
});
