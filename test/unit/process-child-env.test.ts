// The pure successor/re-exec environment: what is stripped, what is kept, where the fds and the
// readiness pipe land, which shim runs. Every case is a plain input → output check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LISTEN_PID_SHIM, PLAIN_SHIM, SHELL, STRIPPED_VARS, childSpawnSpec, envList, reexecEnv } from "../../src/process/child-env.js";

const parentEnv = {
  PATH: "/usr/bin",
  HOME: "/root",
  NOTIFY_SOCKET: "/run/user/0/systemd/notify",
  WATCHDOG_USEC: "2000000",
  WATCHDOG_PID: "100",
  LISTEN_PID: "100",
  LISTEN_FDS: "2",
  LISTEN_FDNAMES: "a:b",
  LISTEN_PIDFDID: "12345",
  SDKIT_READY_FD: "9", // from this process's own parent: must not pile up (gone/sd bug 10)
  SDKIT_PARENT_PID: "50",
  UNSET_ME: undefined,
};
const fds = [{ name: "web", fd: 17 }, { name: "sdkit-lock", fd: 21 }, { name: "ctl", fd: 18 }];
const program = ["/usr/bin/node", "--import", "tsx", "/srv/app.ts", "arg with space", "$HOME", ""];

test("a successor gets the fds at 3.. in order, LISTEN_FDS/FDNAMES, the pipe after them, via the LISTEN_PID shim", () => {
  const s = childSpawnSpec({ env: parentEnv, fds, program, readyFd: 30, parentPid: 100 });
  assert.equal(s.file, SHELL);
  assert.deepEqual(s.args, ["-c", LISTEN_PID_SHIM, ...program], "argv passes through untouched after the shim");
  assert.deepEqual(s.stdio, ["inherit", "inherit", "inherit", 17, 21, 18, 30]);
  assert.equal(s.childReadyFd, 6);
  assert.equal(s.env.LISTEN_FDS, "3");
  assert.equal(s.env.LISTEN_FDNAMES, "web:sdkit-lock:ctl");
  assert.equal(s.env.SDKIT_READY_FD, "6");
  assert.equal(s.env.SDKIT_PARENT_PID, "100");
  assert.equal("LISTEN_PID" in s.env, false, "the shim sets LISTEN_PID to the child's own pid");
});

test("a successor never inherits LISTEN_PIDFDID, WATCHDOG_PID, the parent's LISTEN_* or stale handshake variables; NOTIFY_SOCKET and WATCHDOG_USEC stay", () => {
  const s = childSpawnSpec({ env: parentEnv, fds: [], program });
  for (const k of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PIDFDID", "WATCHDOG_PID", "SDKIT_READY_FD", "SDKIT_PARENT_PID", "UNSET_ME"]) {
    assert.equal(k in s.env, false, k);
  }
  assert.equal(s.env.NOTIFY_SOCKET, parentEnv.NOTIFY_SOCKET);
  assert.equal(s.env.WATCHDOG_USEC, "2000000");
  assert.equal(s.env.PATH, "/usr/bin");
  assert.deepEqual(s.args, ["-c", PLAIN_SHIM, ...program], "no fds: no LISTEN_PID either");
  assert.deepEqual(s.stdio, ["inherit", "inherit", "inherit"]);
  assert.equal(s.childReadyFd, undefined);
  assert.deepEqual([...STRIPPED_VARS].sort(), ["LISTEN_FDNAMES", "LISTEN_FDS", "LISTEN_PID", "LISTEN_PIDFDID", "SDKIT_PARENT_PID", "SDKIT_READY_FD", "WATCHDOG_PID"]);
});

test("extra env adds, overrides and removes, but cannot smuggle in protocol variables", () => {
  const s = childSpawnSpec({
    env: parentEnv, fds: [fds[0]!], program,
    extraEnv: { GEN: "2", HOME: "/home/x", PATH: undefined, LISTEN_PID: "1", LISTEN_FDS: "9", WATCHDOG_PID: "1", SDKIT_READY_FD: "3" },
  });
  assert.equal(s.env.GEN, "2");
  assert.equal(s.env.HOME, "/home/x");
  assert.equal("PATH" in s.env, false);
  assert.equal("LISTEN_PID" in s.env, false);
  assert.equal(s.env.LISTEN_FDS, "1");
  assert.equal("WATCHDOG_PID" in s.env, false);
  assert.equal("SDKIT_READY_FD" in s.env, false);
});

test("the parent's environment object is not modified", () => {
  const env = { ...parentEnv };
  childSpawnSpec({ env, fds, program, readyFd: 5, parentPid: 1, extraEnv: { PATH: undefined } });
  assert.deepEqual(env, parentEnv);
});

test("bad inputs are rejected", () => {
  assert.throws(() => childSpawnSpec({ env: {}, fds: [], program: [] }), TypeError);
  assert.throws(() => childSpawnSpec({ env: {}, fds: [], program: [""] }), TypeError);
  assert.throws(() => childSpawnSpec({ env: {}, fds: [], program, readyFd: 4 }), TypeError);
});

test("re-exec keeps the pid: LISTEN_PID is set directly, and WATCHDOG_PID only when it names this pid", () => {
  const e = reexecEnv(parentEnv, fds, 100, { GEN: "3" });
  assert.equal(e.LISTEN_PID, "100");
  assert.equal(e.LISTEN_FDS, "3");
  assert.equal(e.LISTEN_FDNAMES, "web:sdkit-lock:ctl");
  assert.equal(e.WATCHDOG_PID, "100");
  assert.equal(e.GEN, "3");
  assert.equal("LISTEN_PIDFDID" in e, false);
  assert.equal("SDKIT_READY_FD" in e, false);
  assert.equal("WATCHDOG_PID" in reexecEnv(parentEnv, fds, 101), false, "a WATCHDOG_PID for another process is dropped");
  const none = reexecEnv(parentEnv, [], 100);
  for (const k of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]) assert.equal(k in none, false, k);
});

test("envList renders KEY=value entries", () => {
  assert.deepEqual(envList({ A: "1", B: "x=y", C: "" }), ["A=1", "B=x=y", "C="]);
});
