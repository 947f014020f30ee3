// The published package, end to end: build a copy of the repo the way `npm run build` would
// (tsc + `prebuildify --napi --strip`), `npm pack` it, install the tarball into an empty
// project with no compiler reachable, and use it there from a socket-activated child.
// The copy keeps this test from touching the working tree's build/ (prebuildify runs
// `node-gyp rebuild` in place and moves the .node out of build/Release).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { native } from "../../src/native/binding.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { ROOT, run, spawnWithFds } from "../helpers/spawn.js";

const work = mkdtempSync(join(tmpdir(), "sdkit-pkg-"));
const copy = join(work, "repo"), out = join(work, "out"), bin = join(work, "bin"), proj = join(work, "proj");
after(() => rmSync(work, { recursive: true, force: true }));

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 300_000, ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (${r.error?.message ?? r.signal ?? r.status}):\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}
const npm = (args: string[], cwd: string, env?: NodeJS.ProcessEnv) => sh("npm", args, { cwd, ...(env ? { env } : {}) });

let tarball = "";
let packed: string[] = [];

test("build a copy and npm pack it: prebuild, dist and types are in the tarball", () => {
  mkdirSync(join(copy, "native"), { recursive: true });
  for (const f of ["package.json", ".npmrc", "binding.gyp", "tsconfig.json", "tsconfig.build.json", "README.md", "LICENSE", "src"]) {
    if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(copy, f), { recursive: true });
  }
  cpSync(join(ROOT, "native", "src"), join(copy, "native", "src"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
  npm(["run", "build:ts"], copy);
  npm(["run", "prebuildify"], copy); // through npm, so the project .npmrc (nodedir=/usr) keeps node-gyp offline
  assert.deepEqual(readdirSync(join(copy, "prebuilds", "linux-x64")), ["sdkit.node"], "prebuildify names the file after the package");
  mkdirSync(out);
  const json = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", out], copy);
  const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  tarball = join(out, info!.filename);
  packed = info!.files.map((f) => f.path);
  for (const want of ["prebuilds/linux-x64/sdkit.node", "dist/index.js", "dist/index.d.ts", "package.json"]) {
    assert.ok(packed.includes(want), `${want} missing from the tarball: ${packed.join(" ")}`);
  }
  assert.deepEqual(packed.filter((p) => /^(build|test|src|node_modules)\//.test(p)), [], "no build output, tests or sources");
});

test("the tarball can fall back to compiling: binding.gyp and native/src are included", () => {
  assert.ok(packed.includes("native/src/sys.c"));
  assert.ok(packed.includes("binding.gyp"), `binding.gyp missing: ${packed.filter((p) => !p.startsWith("dist/")).join(" ")}`);
});

test("install into an empty project with no compiler on PATH: the prebuild loads", () => {
  assert.ok(tarball, "the pack step must have run");
  mkdirSync(bin);
  // Only node, npm and sh: no gcc/g++/make/python3, so a source build could only fail.
  symlinkSync(process.execPath, join(bin, "node"));
  symlinkSync(realpathSync(sh("sh", ["-c", "command -v npm"]).trim()), join(bin, "npm"));
  symlinkSync("/bin/sh", join(bin, "sh"));
  const noCompiler = { HOME: process.env.HOME ?? "/root", PATH: bin, CC: "/bin/false", CXX: "/bin/false", npm_config_nodedir: "/nonexistent" };
  assert.notEqual(spawnSync("gcc", ["--version"], { env: noCompiler }).status, 0, "gcc must not be reachable");
  mkdirSync(proj);
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
  sh(join(bin, "npm"), ["install", "--prefer-offline", "--no-audit", "--no-fund", "--foreground-scripts", tarball], { cwd: proj, env: noCompiler });
  const pkg = join(proj, "node_modules", "sdkit");
  assert.equal(existsSync(join(pkg, "build")), false, "nothing was compiled at install time");
  const resolved = sh(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(join(proj, "node_modules", "node-gyp-build"))}).path(${JSON.stringify(pkg)}))`]);
  assert.equal(resolved, join(pkg, "prebuilds", "linux-x64", "sdkit.node"));
});

test("the installed package works: listenFdsWithNames() in a socket-activated child", () => assertNoFdLeak(async () => {
  const entry = pathToFileURL(join(proj, "node_modules", "sdkit", "dist", "index.js")).href;
  const code = `const sd = await import(${JSON.stringify(entry)});
    const r = sd.listenFdsWithNames();
    console.log(JSON.stringify({ ...r, what: sd.describeFd(3), env: process.env.LISTEN_FDS ?? null }));`;
  const p = native().pipe2(native().constants.O_CLOEXEC!);
  assert.ok(Array.isArray(p));
  try {
    const res = await run(spawnWithFds([process.execPath, "--input-type=module", "-e", code], { fds: [p[0]], names: ["from-tarball"] }));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout.trim()), { count: 1, names: ["from-tarball"], what: "a FIFO", env: null });
  } finally {
    native().close(p[0]);
    native().close(p[1]);
  }
}));
