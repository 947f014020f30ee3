// Property tests of the two handover builders (10,000 cases each): childSpawnSpec (what a
// successor is spawned with) and fdStoreMessages (the FDSTORE=1 datagrams). For arbitrary
// inputs, the successor's environment never carries a stale or foreign protocol variable and
// its fds line up with LISTEN_FDS/LISTEN_FDNAMES; FD store messages never exceed SCM_MAX_FD,
// lose, duplicate or rename no fd, and mark exactly the non-sockets FDPOLL=0.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { openSync } from "node:fs";
import fc from "fast-check";
import { childSpawnSpec, LISTEN_PID_SHIM, PLAIN_SHIM } from "../../src/process/child-env.js";
import { fdStoreMessages } from "../../src/notify/fdstore.js";
import { parseNotifyMessage } from "../../src/notify/message.js";
import { SdError } from "../../src/errors.js";
import { K, native } from "../../src/native/binding.js";
import { fdSnapshot } from "../helpers/fd-leak.js";

const fileCheck = fdSnapshot();
const PROTOCOL = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PIDFDID", "WATCHDOG_PID", "SDKIT_READY_FD", "SDKIT_PARENT_PID"];
const varName = fc.oneof(fc.constantFrom(...PROTOCOL, "NOTIFY_SOCKET", "WATCHDOG_USEC", "PATH", "HOME"), fc.stringMatching(/^[A-Z_]{1,6}$/));
const envArb = fc.dictionary(varName, fc.string({ maxLength: 6 }), { maxKeys: 8 });
const extraArb = fc.dictionary(varName, fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), { maxKeys: 4 });
const fdName = fc.oneof(fc.constantFrom("web", "ctl", "sdkit-lock", "unknown", ""), fc.stringMatching(/^[a-z-]{1,8}$/));

test("property: a successor's spawn spec has exactly its own protocol variables, whatever the parent's environment (10,000 cases)", () => {
  fc.assert(fc.property(envArb, extraArb, fc.array(fc.record({ name: fdName, fd: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 6 }),
    fc.option(fc.integer({ min: 3, max: 5000 }), { nil: undefined }), fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }).filter((p) => p[0] !== ""),
    (env, extra, fds, readyFd, program) => {
      const spec = childSpawnSpec({ env, extraEnv: extra, fds, program, readyFd, parentPid: readyFd === undefined ? undefined : 77 });
      const n = fds.length;
      assert.equal(spec.file, "/bin/sh");
      assert.deepEqual(spec.args, ["-c", n > 0 ? LISTEN_PID_SHIM : PLAIN_SHIM, ...program]);
      assert.deepEqual(spec.stdio, ["inherit", "inherit", "inherit", ...fds.map((f) => f.fd), ...(readyFd === undefined ? [] : [readyFd])]);
      const want: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) want[k] = v;
      for (const [k, v] of Object.entries(extra)) { if (v === undefined) delete want[k]; else want[k] = v; }
      for (const k of PROTOCOL) delete want[k];
      if (n > 0) { want.LISTEN_FDS = String(n); want.LISTEN_FDNAMES = fds.map((f) => f.name).join(":"); }
      if (readyFd !== undefined) { want.SDKIT_READY_FD = String(3 + n); want.SDKIT_PARENT_PID = "77"; }
      assert.deepEqual(spec.env, want);
      assert.equal(spec.childReadyFd, readyFd === undefined ? undefined : 3 + n);
    }), { numRuns: 10_000 });
});

// Real fds of each kind; "closed" is a number that is not open.
const n = native(), c = K();
const sock = n.socket(c.AF_UNIX!, c.SOCK_DGRAM! | c.SOCK_CLOEXEC!, 0);
const pipe = n.pipe2(c.O_CLOEXEC!) as [number, number];
const file = openSync("/dev/null", "r");
const closed = n.dupCloexec(file, 3);
n.close(closed);
after(() => { n.close(sock); n.close(pipe[0]); n.close(pipe[1]); n.close(file); fileCheck(); });
const KINDS = { sock, pipe: pipe[0], file, closed } as const;
type Kind = keyof typeof KINDS;

const storeName = fc.oneof({ arbitrary: fc.constantFrom("web", "ctl", "state", "sdkit-lock"), weight: 8 }, fc.constantFrom("", "a:b", "x".repeat(256), "tab\t", "ü"));
const entry = fc.record({ name: storeName, kind: fc.oneof({ arbitrary: fc.constantFrom<Kind>("sock", "pipe", "file"), weight: 20 }, fc.constant<Kind>("closed")) });
const entries = fc.oneof(
  { arbitrary: fc.array(entry, { maxLength: 12 }), weight: 9 },
  fc.tuple(entry, fc.integer({ min: 250, max: 600 })).map(([e, k]) => Array.from({ length: k }, () => e)),
);

test("property: FD store messages carry every fd once, under its name, at most 253 per message, FDPOLL=0 exactly for non-sockets (10,000 cases)", () => {
  let built = 0;
  fc.assert(fc.property(entries, (list) => {
    const input = list.map((e) => ({ name: e.name, fd: KINDS[e.kind] }));
    let msgs;
    try { msgs = fdStoreMessages(input); } catch (e) {
      assert.ok(e instanceof SdError && (e.code === "ERR_SD_INVALID_ARG" || e.code === "ERR_SD_BAD_FD"), String(e));
      assert.ok(list.some((x) => x.kind === "closed" || !/^[\x20-\x39\x3b-\x7e]{1,255}$/.test(x.name)), "a valid list was refused");
      return;
    }
    built++;
    assert.ok(!list.some((x) => x.kind === "closed"), "a closed fd was accepted");
    const got = new Map<string, number[]>();
    const order: string[] = [];
    for (const m of msgs) {
      assert.ok(m.fds.length >= 1 && m.fds.length <= 253, `${m.fds.length} fds in one message`);
      const f = parseNotifyMessage(m.data).fields;
      assert.equal(f.FDSTORE, "1");
      const name = f.FDNAME!;
      if (!order.includes(name)) order.push(name);
      const socketsOnly = m.fds.every((fd) => fd === sock);
      assert.ok(socketsOnly || m.fds.every((fd) => fd !== sock), "sockets and non-sockets mixed in one message");
      assert.equal(f.FDPOLL, socketsOnly ? undefined : "0");
      got.set(name, [...(got.get(name) ?? []), ...m.fds]);
    }
    assert.deepEqual(order, [...new Set(input.map((e) => e.name))], "names out of first-seen order");
    for (const name of order) {
      const want = input.filter((e) => e.name === name).map((e) => e.fd).sort((a, b) => a - b);
      assert.deepEqual([...got.get(name)!].sort((a, b) => a - b), want, name);
    }
  }), { numRuns: 10_000 });
  assert.ok(built > 5000, `only ${built} lists built`);
});
