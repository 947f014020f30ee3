// Property tests of socket-activation parsing over arbitrary environments:
//  1. the pure parser (10,000 runs): only ActivationError with a known code, names.length == count,
//     and the result agrees with the input text;
//  2. the full apply path in this process over an injected Env (5,000 runs): the outcome matches
//     a model built from which fds are open, the variables are always removed, no fd is opened
//     or closed;
//  3. ~50 real child processes with garbage environments: no crash, a typed error or a result.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseListenCount, parseListenFds } from "../../src/activation/listen-fds.js";
import { applyActivation } from "../../src/activation/inherit.js";
import { ActivationError, ERROR_CODES, SdError } from "../../src/errors.js";
import { objectEnv } from "../../src/env.js";
import { native } from "../../src/native/binding.js";
import { fdSnapshot, openFds } from "../helpers/fd-leak.js";
import { TSX, fixture, run, spawnWithFds } from "../helpers/spawn.js";

const VARS = ["LISTEN_PID", "LISTEN_PIDFDID", "LISTEN_FDS", "LISTEN_FDNAMES"] as const;
type Vars = Partial<Record<(typeof VARS)[number], string>>;
const PIDFS_MAGIC = 0x50494446;

/** This process's pidfd inode on pidfs, else undefined (the LISTEN_PIDFDID check is skipped). */
function ownInode(): bigint | undefined {
  const r = native().pidfdInode(process.pid);
  return typeof r === "number" || r[1] !== PIDFS_MAGIC ? undefined : r[0];
}

/** Text that is sometimes a valid value and often almost one. */
function numberish(valid: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...valid),
    fc.constantFrom("", "0", "1", "2", "+3", " 3", "3 ", "0x3", "-1", "010", "1e3", "2.0", "NaN", "Infinity", "\u0663", "1048577"),
    fc.nat({ max: 70 }).map(String),
    fc.bigInt({ min: -5n, max: 2n ** 66n }).map(String),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: "binary", maxLength: 6 }),
  );
}
const namesText = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom("web", "", "unknown", "a b"), fc.string({ maxLength: 4 })), { maxLength: 6 }).map((a) => a.join(":")),
  fc.string({ unit: "binary", maxLength: 10 }),
);
function envArb(pid: number, inode: bigint | undefined): fc.Arbitrary<Vars> {
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 4 });
  return fc.record({
    LISTEN_PID: opt(numberish([String(pid), String(pid), String(pid + 1)])),
    LISTEN_PIDFDID: fc.option(numberish(inode === undefined ? ["1"] : [String(inode)]), { nil: undefined, freq: 1 }),
    LISTEN_FDS: opt(numberish(["1", "2", "3", "5", "40"])),
    LISTEN_FDNAMES: opt(namesText),
  }, { requiredKeys: [] });
}
const clean = (v: Vars): Vars => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));

function assertTypedActivationError(e: unknown): asserts e is SdError {
  assert.ok(e instanceof SdError, `threw a non-SdError: ${String(e)}`);
  assert.ok(e.code in ERROR_CODES, `unknown code ${e.code}`);
}

test("parser: arbitrary env -> a consistent result or a typed ActivationError (10,000 runs)", () => {
  const ME = 31337;
  fc.assert(fc.property(envArb(ME, 99n), fc.boolean(), fc.option(fc.constantFrom(99n, 100n), { nil: undefined }), (vars, relaxed, pidfdInode) => {
    const v = clean(vars);
    let r;
    try {
      r = parseListenFds(objectEnv({ ...v }, ME), { relaxed, ...(pidfdInode !== undefined ? { pidfdInode } : {}) });
    } catch (e) {
      assertTypedActivationError(e);
      assert.ok(e instanceof ActivationError);
      assert.match(e.code, /^ERR_SD_LISTEN_(PID|PIDFDID|FDS|FDNAMES)$/);
      return;
    }
    assert.ok(Number.isInteger(r.count) && r.count >= 0);
    assert.equal(r.names.length, r.count);
    if (r.count > 0) {
      // A positive count is exactly what LISTEN_FDS said, and the names are LISTEN_FDNAMES' own.
      assert.equal(v.LISTEN_FDS, String(r.count));
      if (v.LISTEN_FDNAMES !== undefined) assert.equal(r.names.join(":"), v.LISTEN_FDNAMES);
      else assert.ok(r.names.every((n) => n === "unknown"));
      // ... and only for us: our pid, or no pid in relaxed mode.
      assert.ok(v.LISTEN_PID === String(ME) || (relaxed && !v.LISTEN_PID));
    }
  }), { numRuns: 10_000 });
});

/** fd -> FD_CLOEXEC for every open fd of this process. */
function cloexecMap(): Map<number, boolean> {
  const m = new Map<number, boolean>();
  for (const fd of openFds().keys()) {
    const f = native().getFlags(fd, 0);
    if (f >= 0) m.set(fd, (f & 1) === 1);
  }
  return m;
}

test("apply in-process: outcome matches the open fds, env always removed, no fd leak (5,000 runs)", () => {
  const inode = ownInode();
  const flagsBefore = cloexecMap();
  // The first fd at or above 3 that is not open, or is Node's own event loop fd (epoll/eventfd,
  // which no supervisor passes): applying a count that reaches it must fail there.
  const targets = openFds();
  let firstClosed = 3;
  while (flagsBefore.has(firstClosed) && !/^anon_inode:\[(eventpoll|eventfd)\]$/.test(targets.get(firstClosed) ?? "")) firstClosed++;
  try {
    fc.assert(fc.property(envArb(process.pid, inode), fc.boolean(), (vars, relaxed) => {
      const v = clean(vars);
      const env: Record<string, string | undefined> = { ...v, UNRELATED: "kept" };
      const done = fdSnapshot();
      // The model: the pure count (or its error), then the first closed fd, then the names.
      let want: { code: string; fd?: number } | { count: number; names?: string[] };
      try {
        const n = parseListenCount(objectEnv({ ...v }), { relaxed, ...(inode !== undefined ? { pidfdInode: inode } : {}) });
        if (n >= firstClosed - 2) want = { code: "ERR_SD_ACTIVATION", fd: firstClosed };
        else {
          try { want = parseListenFds(objectEnv({ ...v }), { relaxed, ...(inode !== undefined ? { pidfdInode: inode } : {}) }); }
          catch (e) { want = { code: (e as SdError).code }; }
        }
      } catch (e) { want = { code: (e as SdError).code }; }

      let got: typeof want;
      try {
        const r = applyActivation(objectEnv(env), { relaxed, unsetEnv: true });
        got = { count: r.count, names: [...r.names] };
      } catch (e) {
        assertTypedActivationError(e);
        got = e.fd !== undefined ? { code: e.code, fd: e.fd } : { code: e.code };
      }
      assert.deepEqual(got, "count" in want ? { count: want.count, names: [...(want.names ?? [])] } : want);
      // libsystemd unsets even on failure; unrelated variables stay.
      for (const k of VARS) assert.equal(k in env, false, `${k} still set`);
      assert.equal(env.UNRELATED, "kept");
      done();
      // Every fd we touched was already CLOEXEC (a test runner's fds are), so nothing changed.
      for (const [fd, was] of flagsBefore) {
        const now = (native().getFlags(fd, 0) & 1) === 1;
        if (now !== was) { native().setCloexec(fd, was); assert.fail(`fd ${fd}: FD_CLOEXEC changed ${was} -> ${now}`); }
      }
    }), { numRuns: 5_000 });
  } finally {
    for (const [fd, was] of flagsBefore) if (!was) native().setCloexec(fd, false);
  }
});

test("real processes: garbage activation env never crashes sdkit (50 children)", async () => {
  const done = fdSnapshot();
  const [r, w] = pipeFds();
  try {
    // pidMode: the child's own pid (nested shim: exec keeps the pid), text of our choosing, or none.
    const arb = fc.record({
      pidMode: fc.constantFrom("self", "self", "garbage", "none", "parent"),
      pidText: numberish(["1", "0", "abc"]),
      vars: envArb(1, undefined),
      names: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(arb, async ({ pidMode, pidText, vars, names }) => {
      const v = clean(vars);
      const env: Record<string, string | undefined> = {
        LISTEN_PID: pidMode === "garbage" ? pidText : pidMode === "parent" ? String(process.pid) : undefined,
        LISTEN_PIDFDID: v.LISTEN_PIDFDID, LISTEN_FDS: v.LISTEN_FDS, LISTEN_FDNAMES: names ? v.LISTEN_FDNAMES : undefined,
      };
      const shim = pidMode === "self" ? ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'] : [];
      // activation: false keeps our LISTEN_FDS; the two fds still land at 3 and 4.
      const child = spawnWithFds([...shim, ...TSX, fixture("show-activation.ts")], { fds: [r, w], activation: false, env });
      const res = await run(child);
      assert.equal(res.code, 0, `child crashed: ${res.stderr}`);
      const out = JSON.parse(res.stdout.trim()) as { error?: { name: string; code: string }; count?: number; names?: string[]; env: Record<string, string | null> };
      if (out.error) {
        assert.equal(out.error.name, "ActivationError", JSON.stringify(out.error));
        assert.ok(out.error.code in ERROR_CODES);
      } else {
        assert.ok(Number.isInteger(out.count) && out.count! >= 0);
        assert.equal(out.names!.length, out.count);
        if (pidMode !== "self") assert.equal(out.count, 0, "the fds were not for this child");
      }
      assert.deepEqual(out.env, { LISTEN_PID: null, LISTEN_FDS: null, LISTEN_FDNAMES: null, LISTEN_PIDFDID: null });
    }), { numRuns: 50 });
  } finally {
    native().close(r);
    native().close(w);
  }
  done();
});

function pipeFds(): [number, number] {
  const p = native().pipe2(native().constants.O_CLOEXEC!);
  assert.ok(Array.isArray(p), `pipe2 failed: ${String(p)}`);
  return p;
}
