/**
 * Which sdkit the bench measures: the compiled package entry point, `dist/index.js` (a
 * single-file bundle of `src/`) — what users import — not the TypeScript sources through tsx (whose loader would add ~100 ms to
 * every fixture start-up and make the start-up and replacement numbers unfair to sdkit).
 * Fixtures (plain .mjs child processes) import the same file. When `src/` is newer than
 * `dist/`, the driver rebuilds it first (`npm run build:ts`).
 *
 * Every sdkit row is feature-detected: a missing export gives a "not available" row, never a
 * failed run.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The sdkit exports the bench uses, and the harness it uses for the systemd scenario. */
export const FEATURES = ["notify", "NotifyReceiver", "listenTCP", "replaceProcess", "reexec", "signalParentTermination", "drain", "onShutdown", "userManager"] as const;
export type Feature = (typeof FEATURES)[number];

export interface SdkitInfo {
  /** dist/index.js loaded. */
  loaded: boolean;
  error?: string;
  distEntry: string;
  features: Record<Feature, boolean>;
  version: string;
  /** Whether the driver had to rebuild dist. */
  rebuilt: boolean;
  /** The module itself (for in-driver use, e.g. the user-manager scenario). */
  mod?: Record<string, unknown>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Rebuilds dist when src is newer; returns whether it did. Build errors are reported, not fatal. */
function ensureDist(root: string, log: (m: string) => void): boolean {
  const entry = join(root, "dist", "index.js");
  const srcNewest = newestMtime(join(root, "src"));
  if (existsSync(entry) && statSync(entry).mtimeMs >= srcNewest) return false;
  log("sdkit: dist/ is older than src/ (or missing): npm run build:ts");
  const r = spawnSync("npm", ["run", "--silent", "build:ts"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  // tsc still emits on type errors (noEmitOnError is off); say so, and measure what was emitted.
  if (r.status !== 0) log(`sdkit: build:ts exited ${r.status}; measuring what was emitted.\n${(r.stdout + r.stderr).trim().split("\n").slice(0, 10).join("\n")}`);
  return true;
}

export async function loadSdkit(root: string, log: (m: string) => void): Promise<SdkitInfo> {
  const distEntry = join(root, "dist", "index.js");
  const features = Object.fromEntries(FEATURES.map((f) => [f, false])) as Record<Feature, boolean>;
  const rebuilt = ensureDist(root, log);
  const version = (JSON.parse((await import("node:fs")).readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
  features.userManager = existsSync(join(root, "test", "harness", "user-manager.ts"));
  try {
    const mod = (await import(pathToFileURL(distEntry).href)) as Record<string, unknown>;
    for (const f of FEATURES) if (f !== "userManager") features[f] = typeof mod[f] === "function";
    return { loaded: true, distEntry, features, version, rebuilt, mod };
  } catch (e) {
    return { loaded: false, error: (e as Error).message, distEntry, features, version, rebuilt };
  }
}

/** "not available: sdkit has no X yet" for a table cell. */
export function missing(info: SdkitInfo, ...need: Feature[]): string | undefined {
  if (!info.loaded) return `not available (sdkit did not load: ${info.error ?? "?"})`;
  const absent = need.filter((f) => !info.features[f]);
  return absent.length ? `not available (sdkit has no ${absent.join(", ")})` : undefined;
}
