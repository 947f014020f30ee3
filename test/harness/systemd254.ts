/**
 * systemd 254 beside the installed 252, extracted (not installed) from Debian's
 * bookworm-backports by scripts/fetch-systemd-254.sh. Tests of 254-only behaviour
 * (Type=notify-reload, FileDescriptorStorePreserve=, systemd-notify --fd) gate on
 * {@link skipUnless254}, so a machine without network access skips them with a reason
 * instead of failing.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/spawn.js";

const FETCH = join(ROOT, "scripts", "fetch-systemd-254.sh");

/** Where the tree is cached: $SDKIT_SYSTEMD254_DIR, else /var/cache (root), else node_modules/.cache. */
function cacheDir(): string {
  if (process.env.SDKIT_SYSTEMD254_DIR) return process.env.SDKIT_SYSTEMD254_DIR;
  return process.getuid?.() === 0 ? "/var/cache/sdkit-systemd254" : join(ROOT, "node_modules", ".cache", "sdkit-systemd254");
}

type Fetched = { root: string } | { error: string };
let fetched: Promise<Fetched> | undefined;

/** Runs the fetch script once per process (it is idempotent and locks across processes). */
function fetch254(): Promise<Fetched> {
  fetched ??= new Promise((resolve) => {
    execFile("/bin/bash", [FETCH, cacheDir()], { timeout: 600_000 }, (err, stdout, stderr) => {
      const root = stdout.trim().split("\n").pop() ?? "";
      if (err || !existsSync(join(root, ".complete"))) {
        resolve({ error: `systemd 254 could not be fetched (${FETCH}): ${(stderr || String(err)).trim().slice(-500)}` });
      } else resolve({ root });
    });
  });
  return fetched;
}

/** The extracted root (…/root), fetching it first if needed; throws with the reason if impossible. */
export async function systemd254Root(): Promise<string> {
  const f = await fetch254();
  if ("error" in f) throw new Error(f.error);
  return f.root;
}

/** Whether a 254 manager can be started here. */
export async function systemd254Available(): Promise<boolean> {
  return !("error" in (await fetch254()));
}

/** For `test(name, { skip: await skipUnless254() }, …)`: false, or the reason to skip. */
export async function skipUnless254(): Promise<false | string> {
  const f = await fetch254();
  return "error" in f ? f.error : false;
}

/** The host's dynamic loader, used instead of LD_LIBRARY_PATH so children get no stray libraries. */
function dynamicLoader(): string {
  for (const f of ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-armhf.so.3"]) if (existsSync(f)) return f;
  throw new Error("no dynamic loader found for running the extracted systemd 254");
}

/**
 * argv prefix that runs one of the 254 binaries (e.g. "systemd-notify", which in 254 has
 * --fd/--fdname/--exec): looked up in bin, usr/bin, lib/systemd.
 */
export async function systemd254Command(binary: string): Promise<string[]> {
  const root = await systemd254Root();
  const lib = join(root, readFileSync(join(root, ".libdir"), "utf8").trim());
  for (const d of ["bin", "usr/bin", "lib/systemd", "usr/lib/systemd"]) {
    const p = join(root, d, binary);
    if (existsSync(p)) return [dynamicLoader(), "--library-path", lib, p];
  }
  throw new Error(`${binary} is not part of the extracted systemd 254 in ${root}`);
}
