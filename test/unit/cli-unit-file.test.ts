// The unit-file generator behind `sdkit unit`, checked against a model of systemd's parser:
// no flag value may add a line, key or section, and every value must read back unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SdError } from "../../src/errors.js";
import { generateUnits, HARDENING, type UnitSpec } from "../../src/cli/unit-file.js";
import { parseUnit } from "../../src/cli/unit.js";
import { parseListenSpec, formatAddress } from "../../src/cli/listen-spec.js";

type Parsed = { name: string; entries: [string, string][] }[];

/** systemd's config_parse, reduced to what matters here: sections, comments, Key=Value, continuations. */
function parseUnitText(text: string): Parsed {
  const out: Parsed = [];
  for (const raw of text.split("\n")) {
    let escaped = false;
    for (const ch of raw) escaped = escaped ? false : ch === "\\";
    assert.equal(escaped, false, `line continues onto the next one: ${JSON.stringify(raw)}`);
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      assert.ok(line.endsWith("]"), `bad section line ${JSON.stringify(line)}`);
      out.push({ name: line.slice(1, -1), entries: [] });
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(eq > 0 && out.length > 0, `not an assignment inside a section: ${JSON.stringify(line)}`);
    out.at(-1)!.entries.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) for the escapes the generator may emit. */
function splitWords(v: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < v.length) {
    while (v[i] === " ") i++;
    if (i >= v.length) break;
    let w = "";
    let quote = false;
    for (; i < v.length; i++) {
      const c = v[i]!;
      if (!quote && c === " ") break;
      if (c === '"') { quote = !quote; continue; }
      assert.ok(quote || c !== "'", "unexpected single quote outside double quotes");
      if (c === "\\") {
        assert.ok(quote, "backslash outside quotes");
        const n = v[++i];
        assert.ok(n === "\\" || n === '"', `unexpected escape \\${n}`);
        w += n;
        continue;
      }
      w += c;
    }
    assert.equal(quote, false, "unterminated quote");
    words.push(w);
  }
  return words;
}

/** Specifier expansion: only %% may appear; it gives %. */
function specifiers(v: string): string {
  assert.doesNotMatch(v.replace(/%%/g, ""), /%/, `a live specifier in ${JSON.stringify(v)}`);
  return v.replace(/%%/g, "%");
}

/** Variable expansion at exec time: only $$ may appear; it gives $. */
function dollars(v: string): string {
  assert.doesNotMatch(v.replace(/\$\$/g, ""), /\$/, `a live variable in ${JSON.stringify(v)}`);
  return v.replace(/\$\$/g, "$");
}

const get = (p: Parsed, section: string, key: string) => p.find((s) => s.name === section)!.entries.filter(([k]) => k === key).map(([, v]) => v);

test("a typical daemon: notify service, watchdog, fd store, reload, two socket units", () => {
  const files = generateUnits({
    name: "web", exec: ["/usr/bin/node", "/srv/web/server.js"], watchdogSec: "30s", fdstoreMax: 8, reloadSignal: "HUP",
    listen: [{ spec: parseListenSpec("127.0.0.1:8080"), fdname: "http" }, { spec: parseListenSpec("@web-ctl"), fdname: "ctl" }],
  });
  assert.deepEqual(files.map((f) => f.name), ["web.service", "web.socket", "web-ctl.socket"]);
  const svc = parseUnitText(files[0]!.text);
  assert.deepEqual(svc.map((s) => s.name), ["Unit", "Service", "Install"]);
  assert.deepEqual(get(svc, "Service", "Type"), ["notify"]);
  assert.deepEqual(get(svc, "Service", "ExecReload"), ["/bin/kill -s HUP $MAINPID"]);
  assert.deepEqual(get(svc, "Service", "Sockets"), ["web.socket web-ctl.socket"]);
  assert.deepEqual(get(svc, "Service", "NoNewPrivileges"), ["yes"]);
  const ctl = parseUnitText(files[2]!.text);
  assert.deepEqual(get(ctl, "Socket", "ListenStream"), ["@web-ctl"]);
  assert.deepEqual(get(ctl, "Socket", "FileDescriptorName"), ["ctl"]);
  assert.deepEqual(get(ctl, "Socket", "Service"), ["web.service"]);
});

test("injection attempts are refused or neutralised", () => {
  const base: UnitSpec = { name: "x", exec: ["/bin/true"] };
  for (const bad of [{ description: "a\n[Service]\nExecStartPre=/bin/evil" }, { description: "ends with \\" }, { exec: ["/bin/true", "a\nb"] },
    { exec: ["-/bin/true"] }, { exec: ["@/bin/true"] }, { environment: [["A", "x\ny"]] as [string, string][] }, { environment: [["A B", "x"]] as [string, string][] },
    { workingDirectory: "relative" }, { workingDirectory: "/tmp\\" }, { user: "root\nGroup=0" }, { name: "x\n" }, { name: "a/b" },
    { watchdogSec: "30s\nExecStartPre=/bin/evil" }, { reloadSignal: "HUP $X" }, { wantedBy: "multi-user.target\n[Service]" },
    { listen: [{ spec: parseListenSpec("@x"), fdname: "a\\" }] }, { listen: [{ spec: parseListenSpec("@x"), fdname: "a:b" }] }]) {
    assert.throws(() => generateUnits({ ...base, ...bad }), (e: unknown) => e instanceof SdError && e.code === "ERR_SD_CLI_USAGE", JSON.stringify(bad));
  }
  const [svc] = generateUnits({ ...base, description: "100% [Service] $HOME", exec: ["/bin/echo", "$HOME", "%n", ";", 'say "hi"\\'] });
  const p = parseUnitText(svc!.text);
  assert.equal(specifiers(get(p, "Unit", "Description")[0]!), "100% [Service] $HOME");
  assert.deepEqual(splitWords(get(p, "Service", "ExecStart")[0]!).map(specifiers).map(dollars), ["/bin/echo", "$HOME", "%n", ";", 'say "hi"\\']);
});

const nasty = fc.array(fc.oneof(
  fc.constantFrom("a", "Z", "0", " ", "=", "%", "%n", "$", "$HOME", "${X}", "\\", "\\n", '"', "'", ";", "#", "[Service]", "\n", "\r", "\n[Install]\nX=1", "\t", "é", "\u2028", ":", "@", "-", "/"),
  fc.string({ maxLength: 4 })), { maxLength: 8 }).map((a) => a.join(""));
const hasControl = (s: string) => /[\x00-\x1f\x7f]/.test(s);

const specArb = fc.record({
  description: fc.option(nasty, { nil: undefined }),
  args: fc.array(nasty, { maxLength: 4 }),
  env: fc.array(fc.tuple(fc.constantFrom("A", "NODE_ENV", "X_1"), nasty), { maxLength: 3 }),
  workingDirectory: fc.option(nasty.map((s) => "/" + s), { nil: undefined }),
  paths: fc.array(nasty.map((s) => "/" + s), { maxLength: 2 }),
  fdname: fc.option(nasty, { nil: undefined }),
});

test("property: accepted specs parse back to exactly the expected keys and values; control characters always refused (4,000 cases)", () => {
  fc.assert(fc.property(specArb, (r) => {
    const spec: UnitSpec = {
      name: "prop", exec: ["/usr/bin/node", ...r.args], environment: r.env, hardening: false,
      listen: [{ spec: parseListenSpec("127.0.0.1:80") }, ...r.paths.map((p) => ({ spec: { ...parseListenSpec("/x"), path: p } }))]
        .map((l) => (r.fdname === undefined ? l : { ...l, fdname: r.fdname })),
      ...(r.description !== undefined ? { description: r.description } : {}),
      ...(r.workingDirectory !== undefined ? { workingDirectory: r.workingDirectory } : {}),
    };
    const all = [r.description ?? "", ...r.args, ...r.env.map(([, v]) => v), r.workingDirectory ?? "", ...r.paths, r.fdname ?? ""];
    let files;
    try {
      files = generateUnits(spec);
    } catch (e) {
      assert.ok(e instanceof SdError && e.code === "ERR_SD_CLI_USAGE", String(e));
      return;
    }
    assert.ok(!all.some(hasControl), "a value with a control character was accepted");
    const svc = parseUnitText(files[0]!.text);
    assert.deepEqual(svc.map((s) => s.name), ["Unit", "Service", "Install"]);
    const keys = new Set(svc[1]!.entries.map(([k]) => k));
    const want = new Set(["Type", "ExecStart", "Restart", ...(r.env.length ? ["Environment"] : []), ...(r.workingDirectory !== undefined ? ["WorkingDirectory"] : [])]);
    assert.deepEqual(keys, want);
    assert.deepEqual(new Set(svc[0]!.entries.map(([k]) => k)), new Set(["Description", "Requires", "After"]));
    assert.deepEqual(svc[2]!.entries.map(([k]) => k), ["WantedBy"]);
    assert.deepEqual(splitWords(get(svc, "Service", "ExecStart")[0]!).map(specifiers).map(dollars), spec.exec);
    assert.deepEqual(get(svc, "Service", "Environment").flatMap(splitWords).map(specifiers), r.env.map(([k, v]) => `${k}=${v}`));
    if (r.description !== undefined) assert.equal(specifiers(get(svc, "Unit", "Description")[0]!), r.description.trim());
    if (r.workingDirectory !== undefined) assert.equal(specifiers(get(svc, "Service", "WorkingDirectory")[0]!), r.workingDirectory);
    const socks = files.slice(1).map((f) => parseUnitText(f.text));
    for (const s of socks) assert.deepEqual(s.map((x) => x.name), ["Unit", "Socket", "Install"]);
    const listens = socks.flatMap((s) => get(s, "Socket", "ListenStream")).map(specifiers);
    assert.deepEqual(listens, spec.listen!.map((l) => formatAddress(l.spec)));
    for (const s of socks) assert.deepEqual(get(s, "Socket", "FileDescriptorName").map(specifiers), r.fdname === undefined ? [] : [r.fdname]);
  }), { numRuns: 4000 });
});

test("property: flags with newlines are refused by `sdkit unit` argument parsing + generation (1,000 cases)", () => {
  const flag = fc.constantFrom("--description", "--working-directory", "--watchdog-sec", "--user", "--restart-sec", "--fdname", "--reload-signal", "--wanted-by", "-E");
  fc.assert(fc.property(flag, nasty, nasty, (f, a, b) => {
    const value = f === "-E" ? `A=${a}\n${b}` : f === "--working-directory" ? `/${a}\n${b}` : `${a}\n${b}`;
    assert.throws(() => {
      const r = parseUnit(["-n", "x", "-l", "@s", f, value, "/bin/true"]);
      if (typeof r !== "string") generateUnits(r.spec);
    }, (e: unknown) => e instanceof SdError && e.code === "ERR_SD_CLI_USAGE");
  }), { numRuns: 1000 });
});

test("hardening defaults can be switched off", () => {
  const on = generateUnits({ name: "h", exec: ["/bin/true"] })[0]!.text;
  const off = generateUnits({ name: "h", exec: ["/bin/true"], hardening: false })[0]!.text;
  for (const [k] of HARDENING) { assert.match(on, new RegExp(`^${k}=`, "m")); assert.doesNotMatch(off, new RegExp(`^${k}=`, "m")); }
});
