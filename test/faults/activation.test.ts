// Fault scenarios: socket activation and the fd registry. Each scenario runs a real process
// (test/fixtures/fault-probe.ts) with fds at 3.. and a broken environment, and checks that it
// fails with the documented SdError (or carries on), leaks no fd into its own children, and
// leaves this process's fds unchanged.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openSync } from "node:fs";
import { FdPool } from "../../src/registry/pool.js";
import { native } from "../../src/native/binding.js";
import { assertNoFdLeak, fdSnapshot } from "../helpers/fd-leak.js";
import { inspectSleeper } from "./sleeper.js";
import { closeAll, errorOf, inetSocket, okOf, probe, socketInode } from "./lib.js";

interface Grandchild { fds: number[]; targets: Record<string, string>; env: string[] }

let ambient: number[] = [];
const fileCheck = fdSnapshot();
before(async () => {
  // fds any child of this test process gets without sdkit (e.g. a runner's non-CLOEXEC pipe).
  ambient = [...(await inspectSleeper()).fds.keys()];
});
after(() => fileCheck());

/** Asserts the grandchild got only stdio (and what every child of ours gets), and no variable. */
function assertCleanGrandchild(g: Grandchild, passed: number[]): void {
  const extra = g.fds.filter((fd) => fd > 2 && !ambient.includes(fd));
  assert.deepEqual(extra.map((fd) => `${fd} -> ${g.targets[fd]}`), [], "an inherited fd leaked into an unrelated child");
  const inodes = passed.map(socketInode);
  for (const t of Object.values(g.targets)) assert.ok(!inodes.includes(t), `the child holds ${t}`);
  assert.deepEqual(g.env, [], "activation variables reached an unrelated child");
}

const host = "127.0.0.1";

describe("registry faults", () => {
  test("exporting an fd that is already closed fails with ERR_SD_BAD_FD and tracks nothing", () => assertNoFdLeak(() => {
    const pool = new FdPool(() => []);
    const fd = inetSocket("udp");
    closeAll(fd);
    assert.throws(() => pool.exportFd("gone", fd), (e: { code?: string }) => e.code === "ERR_SD_BAD_FD");
    assert.deepEqual(pool.activeFds(), []);
  }));

  test("forget() twice closes the dup once and never the fd that reused its number", () => assertNoFdLeak(() => {
    const pool = new FdPool(() => []);
    const sock = inetSocket("udp");
    const dup = pool.exportFd("x", sock);
    assert.equal(pool.forget("x"), 1);
    const reuse = native().dupCloexec(sock, dup); // the app's new fd takes the freed number
    try {
      assert.equal(reuse, dup);
      assert.equal(pool.forget("x"), 0);
      assert.equal(pool.forget(sock), 0);
      assert.ok(Array.isArray(native().fstat(reuse)), "the app's fd was closed by a second forget()");
    } finally { closeAll(reuse, sock); }
  }));
});

describe("activation faults", { concurrency: 3 }, () => {
  test("LISTEN_FDS garbage fails with ERR_SD_LISTEN_FDS and never falls back to a fresh socket", async () => {
    const web = inetSocket("tcp");
    try {
      const out = await probe([["names"], ["listenTCP", { name: "web", host, port: 0 }], ["env"]], { fds: [web], names: ["web"], listenFds: "1x" });
      assert.equal(errorOf(out.results[0]).code, "ERR_SD_LISTEN_FDS");
      assert.equal(errorOf(out.results[0]).name, "ActivationError");
      // The error repeats: a daemon must not silently listen somewhere else than systemd's socket.
      assert.equal(errorOf(out.results[1]).code, "ERR_SD_LISTEN_FDS");
      assert.deepEqual(okOf(out.results[2]), {});
    } finally { closeAll(web); }
  });

  test("negative LISTEN_FDS fails with ERR_SD_LISTEN_FDS", async () => {
    const web = inetSocket("tcp");
    try {
      const out = await probe([["names"], ["env"]], { fds: [web], listenFds: "-1" });
      assert.equal(errorOf(out.results[0]).code, "ERR_SD_LISTEN_FDS");
      assert.deepEqual(okOf(out.results[1]), {});
    } finally { closeAll(web); }
  });

  test("huge LISTEN_FDS is refused up front instead of allocating or walking 2^31 fds", async () => {
    const web = inetSocket("tcp");
    try {
      for (const huge of ["2147483648", "99999999999999999999999", "1048577"]) {
        const out = await probe([["names"]], { fds: [web], listenFds: huge });
        assert.equal(errorOf(out.results[0]).code, "ERR_SD_LISTEN_FDS", huge);
      }
    } finally { closeAll(web); }
  });

  test("LISTEN_FDS larger than the fds passed fails with ERR_SD_ACTIVATION at the first fd not passed; the event loop and children are unharmed", async () => {
    const a = inetSocket("tcp"), b = inetSocket("udp");
    try {
      // Node's own fds (epoll, signal pipe, ...) follow at 5..; 300 reaches past all of them.
      const out = await probe([["names"], ["grandchild"]], { fds: [a, b], listenFds: "300" });
      const e = errorOf(out.results[0]);
      assert.equal(e.code, "ERR_SD_ACTIVATION");
      // fd 5 is the first one not passed (Node's own epoll): refused there, never adopted.
      assert.match(e.message, /LISTEN_FDS=300 but fd 5 (is not open|is Node\.js's own)/);
      assertCleanGrandchild(okOf<Grandchild>(out.results[1]), [a, b]);
    } finally { closeAll(a, b); }
  });

  test("LISTEN_FDNAMES with a trailing ':' (count mismatch) fails with ERR_SD_LISTEN_FDNAMES and the fds do not reach children", async () => {
    const a = inetSocket("tcp"), b = inetSocket("tcp");
    try {
      const out = await probe([["names"], ["grandchild"]], { fds: [a, b], names: ["web", "ctl", ""] });
      assert.equal(errorOf(out.results[0]).code, "ERR_SD_LISTEN_FDNAMES");
      assertCleanGrandchild(okOf<Grandchild>(out.results[1]), [a, b]);
    } finally { closeAll(a, b); }
  });

  test("empty LISTEN_FDNAMES entries (':web:') keep their positions, so each name maps to its own fd", async () => {
    const fds = [inetSocket("tcp"), inetSocket("tcp"), inetSocket("tcp")];
    const ports = fds.map((fd) => (native().getsockname(fd) as { port: number }).port);
    try {
      const out = await probe([["names"], ["listenTCP", { name: "web", host }], ["fileWith", ""]], { fds, names: ["", "web", ""] });
      assert.deepEqual(okOf(out.results[0]), { count: 3, names: ["", "web", ""] });
      assert.equal(okOf<{ port: number }>(out.results[1]).port, ports[1]);
      assert.deepEqual(okOf(out.results[2]), { fd: 3, name: "" });
    } finally { closeAll(...fds); }
  });

  test("LISTEN_PID naming another process: the fds are left alone and the variables do not reach children", async () => {
    const web = inetSocket("tcp");
    try {
      const out = await probe([["names"], ["env"], ["grandchild"]], { fds: [web], names: ["web"], listenPid: String(process.pid) });
      assert.deepEqual(okOf(out.results[0]), { count: 0, names: [] });
      assert.deepEqual(okOf(out.results[1]), {});
      assert.deepEqual(okOf<Grandchild>(out.results[2]).env, []);
    } finally { closeAll(web); }
  });

  test("an inherited fd of the wrong kind requested by name fails with ERR_SD_WRONG_KIND and stays available for the right request", async () => {
    const udp = inetSocket("udp"), file = openSync("/etc/hostname", "r");
    try {
      const out = await probe([
        ["listenTCP", { name: "web", host, port: 0 }],
        ["listenUnix", { name: "log", path: "/nonexistent/x.sock" }],
        ["listenUDP", { name: "web", host, port: 0 }],
        ["active"],
      ], { fds: [udp, file], names: ["web", "log"] });
      const tcp = errorOf(out.results[0]);
      assert.equal(tcp.code, "ERR_SD_WRONG_KIND");
      assert.match(tcp.message, /UDP socket/);
      assert.equal(errorOf(out.results[1]).code, "ERR_SD_WRONG_KIND");
      assert.match(errorOf(out.results[1]).message, /a file/);
      okOf(out.results[2]);
      assert.deepEqual((okOf<{ name: string }[]>(out.results[3])).map((e) => e.name), ["web"]);
    } finally { closeAll(udp, file); }
  });

  test("an inherited fd closed by someone else before use is refused with ERR_SD_WRONG_KIND, not adopted", async () => {
    const web = inetSocket("tcp"), ctl = inetSocket("tcp");
    try {
      const out = await probe([
        ["names"], ["close", 3],
        ["listenTCP", { name: "web", host, port: 0 }],
        ["listenTCP", { name: "ctl", host, port: 0 }],
      ], { fds: [web, ctl], names: ["web", "ctl"] });
      const e = errorOf(out.results[2]);
      assert.equal(e.code, "ERR_SD_WRONG_KIND");
      assert.match(e.message, /not open/);
      okOf(out.results[3]); // the daemon carries on with the fds it still has
    } finally { closeAll(web, ctl); }
  });

  test("an inherited fd number reused by the app after someone closed it is neither adopted nor closed by cleanup()", async () => {
    const web = inetSocket("tcp");
    try {
      const out = await probe([
        ["names"], ["close", 3], ["openFile", "/etc/hostname"],
        ["listenTCP", { name: "web", host, port: 0 }],
        ["cleanup"], ["fds"],
      ], { fds: [web], names: ["web"] });
      assert.equal(okOf(out.results[2]), 3, "the app's file got the freed number");
      assert.equal(errorOf(out.results[3]).code, "ERR_SD_WRONG_KIND");
      assert.equal(okOf<Record<string, string>>(out.results[5])["3"], "/etc/hostname", "cleanup() closed the app's file");
    } finally { closeAll(web); }
  });

  test("EMFILE while taking an inherited listener fails with a typed EMFILE error and leaks nothing; the daemon recovers once fds are free", async () => {
    const web = inetSocket("tcp");
    try {
      const out = await probe([
        ["names"], ["fds"], ["fill"],
        ["listenTCP", { name: "web", host, port: 0 }],
        ["listenTCP", { name: "other", host, port: 0 }],
        ["free"], ["active"], ["fds"],
        ["listenTCP", { name: "web", host, port: 0 }],
      ], { fds: [web], names: ["web"], nofile: 256 });
      assert.ok((okOf<number>(out.results[2])) > 0);
      for (const i of [3, 4]) {
        const e = errorOf(out.results[i]);
        assert.equal(e.sysCode, "EMFILE", JSON.stringify(e));
        assert.equal(e.code, "ERR_SD_SYSCALL");
      }
      assert.deepEqual(okOf(out.results[6]), [], "nothing half-exported");
      const before = okOf<Record<string, string>>(out.results[1]), after = okOf<Record<string, string>>(out.results[7]);
      const added = Object.keys(after).filter((fd) => before[fd] !== after[fd]);
      assert.deepEqual(added.map((fd) => `${fd} -> ${after[fd]}`), [], "fds left behind by the failed attempts");
      assert.equal(after["3"], undefined, "the inherited listener is closed (documented: exportTracked closes its target)");
      okOf(out.results[8]);
    } finally { closeAll(web); }
  });
});

