// parseListenFds against libsystemd's sd_listen_fds_with_names, row by row. Pure: the parser
// reads an injected Env, so no process state is touched (the fd check is still made per row).
// Where sdkit is deliberately stricter than libsystemd (canonical decimal only) the row says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseListenFds, type ParseOptions } from "../../src/activation/listen-fds.js";
import { ActivationError, ERROR_CODES } from "../../src/errors.js";
import { objectEnv } from "../../src/env.js";
import { fdSnapshot } from "../helpers/fd-leak.js";

const ME = 4242; // the pid the injected Env reports
type Vars = Record<string, string | undefined>;
interface Row {
  why: string;
  env: Vars;
  opts?: ParseOptions;
  /** Expected result, or the ActivationError code. */
  want: { count: number; names: string[] } | { code: keyof typeof ERROR_CODES };
}
const forMe = (v: Vars): Vars => ({ LISTEN_PID: String(ME), ...v });
const EMPTY = { count: 0, names: [] };

const rows: Row[] = [
  // ---- success ----
  // The plain systemd case: our pid, two fds, two names.
  { why: "two named fds", env: forMe({ LISTEN_FDS: "2", LISTEN_FDNAMES: "web:admin" }), want: { count: 2, names: ["web", "admin"] } },
  // LISTEN_FDNAMES unset: every fd is called "unknown" (sd_listen_fds_with_names default).
  { why: "names unset -> unknown", env: forMe({ LISTEN_FDS: "3" }), want: { count: 3, names: ["unknown", "unknown", "unknown"] } },
  // Empty entries are kept (EXTRACT_DONT_COALESCE_SEPARATORS), so 'a::b' is three names.
  { why: "empty middle name kept", env: forMe({ LISTEN_FDS: "3", LISTEN_FDNAMES: "a::b" }), want: { count: 3, names: ["a", "", "b"] } },
  // Trailing and leading separators also make empty names.
  { why: "leading and trailing empty names", env: forMe({ LISTEN_FDS: "3", LISTEN_FDNAMES: ":x:" }), want: { count: 3, names: ["", "x", ""] } },
  // An empty LISTEN_FDNAMES is one empty name, as extract_first_word returns "" once for "".
  { why: "empty names string = one empty name", env: forMe({ LISTEN_FDS: "1", LISTEN_FDNAMES: "" }), want: { count: 1, names: [""] } },
  // 100000 parses (the parser does not know which fds are open; applying it fails, see activation tests).
  { why: "huge count parses", env: forMe({ LISTEN_FDS: "100000" }), want: { count: 100000, names: new Array<string>(100000).fill("unknown") } },
  // The largest count sdkit accepts: the kernel's default fs.nr_open (2^20 fds).
  { why: "2^20 accepted", env: forMe({ LISTEN_FDS: String(2 ** 20) }), want: { count: 2 ** 20, names: new Array<string>(2 ** 20).fill("unknown") } },
  // Relaxed mode (systemfd --no-pid, gone's StartProcess): a missing LISTEN_PID is accepted.
  { why: "relaxed accepts missing pid", env: { LISTEN_FDS: "1", LISTEN_FDNAMES: "x" }, opts: { relaxed: true }, want: { count: 1, names: ["x"] } },
  // Relaxed mode treats an empty LISTEN_PID like a missing one (listenfd does the same).
  { why: "relaxed accepts empty pid", env: { LISTEN_PID: "", LISTEN_FDS: "1" }, opts: { relaxed: true }, want: { count: 1, names: ["unknown"] } },
  // Relaxed mode still honours a LISTEN_PID that is present: another pid is not for us.
  { why: "relaxed still checks a present pid", env: { LISTEN_PID: String(ME + 1), LISTEN_FDS: "1" }, opts: { relaxed: true }, want: EMPTY },
  // LISTEN_PIDFDID equal to our pidfd inode: for us.
  { why: "pidfdid match", env: forMe({ LISTEN_PIDFDID: "777", LISTEN_FDS: "1" }), opts: { pidfdInode: 777n }, want: { count: 1, names: ["unknown"] } },
  // LISTEN_PIDFDID present but our inode unknown (no pidfs): the check is skipped, like libsystemd.
  { why: "pidfdid unverifiable -> skipped", env: forMe({ LISTEN_PIDFDID: "777", LISTEN_FDS: "1" }), want: { count: 1, names: ["unknown"] } },
  // The full 64-bit range is valid for a pidfd inode id.
  { why: "pidfdid max u64", env: forMe({ LISTEN_PIDFDID: String(2n ** 64n - 1n), LISTEN_FDS: "1" }), opts: { pidfdInode: 2n ** 64n - 1n }, want: { count: 1, names: ["unknown"] } },

  // ---- not for us: empty, never an error ----
  // No LISTEN_PID: not socket-activated (or the fds may belong to someone else).
  { why: "LISTEN_PID missing", env: { LISTEN_FDS: "2", LISTEN_FDNAMES: "a:b" }, want: EMPTY },
  // Another pid: e.g. our parent's variables leaked into our environment.
  { why: "LISTEN_PID mismatch", env: { LISTEN_PID: String(ME + 1), LISTEN_FDS: "2" }, want: EMPTY },
  // The pid is checked before LISTEN_FDS, so a garbage count for another process is ignored.
  { why: "mismatch wins over garbage count", env: { LISTEN_PID: String(ME + 1), LISTEN_FDS: "garbage" }, want: EMPTY },
  // ... and before LISTEN_PIDFDID.
  { why: "mismatch wins over garbage pidfdid", env: { LISTEN_PID: String(ME + 1), LISTEN_PIDFDID: "x", LISTEN_FDS: "1" }, want: EMPTY },
  // ... and before the names count.
  { why: "mismatch wins over names mismatch", env: { LISTEN_PID: String(ME + 1), LISTEN_FDS: "1", LISTEN_FDNAMES: "a:b" }, want: EMPTY },
  // Our pid but no LISTEN_FDS: nothing passed.
  { why: "LISTEN_FDS missing", env: forMe({ LISTEN_FDNAMES: "a" }), want: EMPTY },
  // LISTEN_PIDFDID names another process (our pid was reused): not for us.
  { why: "pidfdid mismatch", env: forMe({ LISTEN_PIDFDID: "778", LISTEN_FDS: "1" }), opts: { pidfdInode: 777n }, want: EMPTY },
  // Nothing set at all.
  { why: "empty environment", env: {}, want: EMPTY },

  // ---- malformed: ActivationError ----
  // Garbage pid text (libsystemd: parse_pid fails -> -EINVAL).
  { why: "garbage pid", env: { LISTEN_PID: "abc", LISTEN_FDS: "1" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // Strict mode: an empty LISTEN_PID is malformed, not missing (parse_pid("") fails).
  { why: "empty pid (strict)", env: { LISTEN_PID: "", LISTEN_FDS: "1" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // pid 0 is not a process (parse_pid: pid_is_valid).
  { why: "pid 0", env: { LISTEN_PID: "0", LISTEN_FDS: "1" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // Negative pid.
  { why: "negative pid", env: { LISTEN_PID: "-1", LISTEN_FDS: "1" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // 2^31 does not fit pid_t (parse_pid: -ERANGE).
  { why: "pid 2^31", env: { LISTEN_PID: String(2 ** 31), LISTEN_FDS: "1" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // Leading zero: libsystemd would read octal (0100 = 64); sdkit refuses the ambiguity.
  { why: "pid with leading zero", env: { LISTEN_PID: "0" + ME, LISTEN_FDS: "1" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // Whitespace around the pid.
  { why: "pid with trailing space", env: { LISTEN_PID: `${ME} `, LISTEN_FDS: "1" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // LISTEN_FDS=0: libsystemd returns -EINVAL for n <= 0.
  { why: "LISTEN_FDS=0", env: forMe({ LISTEN_FDS: "0" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // Negative count (go-systemd accepted this until 2025).
  { why: "LISTEN_FDS negative", env: forMe({ LISTEN_FDS: "-1" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // Not a number.
  { why: "LISTEN_FDS non-numeric", env: forMe({ LISTEN_FDS: "two" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // Empty count.
  { why: "LISTEN_FDS empty", env: forMe({ LISTEN_FDS: "" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // '+3': libsystemd's strtol accepts it; sdkit wants canonical decimal (API.md) and says so.
  { why: "LISTEN_FDS '+3' (stricter than libsystemd)", env: forMe({ LISTEN_FDS: "+3" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // ' 3': libsystemd skips leading whitespace; sdkit refuses.
  { why: "LISTEN_FDS ' 3' (stricter than libsystemd)", env: forMe({ LISTEN_FDS: " 3" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // '3 ': libsystemd refuses trailing garbage too.
  { why: "LISTEN_FDS '3 '", env: forMe({ LISTEN_FDS: "3 " }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // '0x3': libsystemd (strtol base 0) reads hex; sdkit refuses.
  { why: "LISTEN_FDS '0x3' (stricter than libsystemd)", env: forMe({ LISTEN_FDS: "0x3" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // '010': libsystemd reads octal 8, a naive decimal parser 10; refusing is the only safe answer.
  { why: "LISTEN_FDS '010' (octal ambiguity)", env: forMe({ LISTEN_FDS: "010" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // Fractions and exponents are not counts even though Number() reads them.
  { why: "LISTEN_FDS '1e2'", env: forMe({ LISTEN_FDS: "1e2" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  { why: "LISTEN_FDS '2.0'", env: forMe({ LISTEN_FDS: "2.0" }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // One past 2^20: more fds than any process can hold open. libsystemd would accept up to
  // INT_MAX - 3 and fail on the first closed fd; a 2^31-name array would abort us with OOM.
  { why: "LISTEN_FDS 2^20 + 1", env: forMe({ LISTEN_FDS: String(2 ** 20 + 1) }), want: { code: "ERR_SD_LISTEN_FDS" } },
  { why: "LISTEN_FDS INT_MAX - 3", env: forMe({ LISTEN_FDS: String(2 ** 31 - 4) }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // Absurdly long digit strings are out of range, not Infinity-accepted.
  { why: "LISTEN_FDS 400 digits", env: forMe({ LISTEN_FDS: "9".repeat(400) }), want: { code: "ERR_SD_LISTEN_FDS" } },
  // Fewer names than fds (gone/sd panicked with an index out of range here).
  { why: "names count too small", env: forMe({ LISTEN_FDS: "3", LISTEN_FDNAMES: "a:b" }), want: { code: "ERR_SD_LISTEN_FDNAMES" } },
  // More names than fds.
  { why: "names count too large", env: forMe({ LISTEN_FDS: "1", LISTEN_FDNAMES: "a:b" }), want: { code: "ERR_SD_LISTEN_FDNAMES" } },
  // 'a::b' is three names, so it mismatches two fds.
  { why: "'a::b' is three names", env: forMe({ LISTEN_FDS: "2", LISTEN_FDNAMES: "a::b" }), want: { code: "ERR_SD_LISTEN_FDNAMES" } },
  // LISTEN_PIDFDID garbage (libsystemd: safe_atou64 fails -> error), checked even when our inode is unknown.
  { why: "pidfdid garbage", env: forMe({ LISTEN_PIDFDID: "pidfd", LISTEN_FDS: "1" }), want: { code: "ERR_SD_LISTEN_PIDFDID" } },
  { why: "pidfdid negative", env: forMe({ LISTEN_PIDFDID: "-5", LISTEN_FDS: "1" }), opts: { pidfdInode: 5n }, want: { code: "ERR_SD_LISTEN_PIDFDID" } },
  // 2^64 does not fit a u64.
  { why: "pidfdid 2^64", env: forMe({ LISTEN_PIDFDID: String(2n ** 64n), LISTEN_FDS: "1" }), want: { code: "ERR_SD_LISTEN_PIDFDID" } },
  // The pidfdid is checked before LISTEN_FDS, so it errors even with nothing passed.
  { why: "pidfdid garbage before missing LISTEN_FDS", env: forMe({ LISTEN_PIDFDID: "" }), want: { code: "ERR_SD_LISTEN_PIDFDID" } },
  // The pid is checked before the count: garbage pid + garbage count reports the pid.
  { why: "pid error reported first", env: { LISTEN_PID: "x", LISTEN_FDS: "y" }, want: { code: "ERR_SD_LISTEN_PID" } },
  // Relaxed mode does not excuse a malformed pid that is present.
  { why: "relaxed: garbage pid still an error", env: { LISTEN_PID: "abc", LISTEN_FDS: "1" }, opts: { relaxed: true }, want: { code: "ERR_SD_LISTEN_PID" } },
];

for (const row of rows) {
  test(`parseListenFds: ${row.why}`, () => {
    const done = fdSnapshot();
    const vars = { ...row.env };
    const before = { ...vars };
    const run = () => parseListenFds(objectEnv(vars, ME), row.opts);
    if ("code" in row.want) {
      const code = row.want.code;
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof ActivationError, `expected ActivationError, got ${String(e)}`);
        assert.equal(e.code, code);
        assert.ok(e.message.length > 20, "the message must say what to fix");
        return true;
      });
    } else {
      const got = run();
      assert.deepEqual({ count: got.count, names: [...got.names] }, row.want);
    }
    // The parser is pure: it never changes the environment (the apply step unsets it).
    assert.deepEqual(vars, before);
    done();
  });
}
