/**
 * Unix socket addresses as users write them (`/run/app.sock`, `@abstract`) and as the kernel
 * stores them (sun_path bytes). Abstract names are exact-length, with no NUL padding, which is
 * what systemd and Go use (libuv pads to 108 bytes, so Node's own names never match them).
 * @module
 */
import { SdError } from "../errors.js";

/** sizeof(sun_path) on Linux. */
export const SUN_PATH_MAX = 108;

/** Encodes `/path` or `@abstract` into the sun_path bytes the addon binds or connects to. */
export function encodeUnixPath(path: string): Buffer {
  if (path.length === 0) throw new SdError("ERR_SD_INVALID_ARG", "A Unix socket path must not be empty: give a filesystem path or an @abstract name.");
  const abstract = path.startsWith("@");
  const body = Buffer.from(abstract ? path.slice(1) : path, "utf8");
  if (!abstract && body.includes(0)) throw new SdError("ERR_SD_INVALID_ARG", `Unix socket path ${JSON.stringify(path)} contains a NUL byte.`);
  const bytes = abstract ? Buffer.concat([Buffer.of(0), body]) : Buffer.concat([body, Buffer.of(0)]);
  if (bytes.length > SUN_PATH_MAX) {
    throw new SdError("ERR_SD_INVALID_ARG", `Unix socket path ${JSON.stringify(path)} is ${bytes.length} bytes; the limit is ${SUN_PATH_MAX} including the terminator: use a shorter path (e.g. under /run).`, { path });
  }
  return bytes;
}

/** Decodes sun_path bytes: `""` for an unnamed socket, `@name` for abstract, else the path. */
export function decodeUnixPath(bytes: Buffer): string {
  if (bytes.length === 0) return "";
  if (bytes[0] === 0) return "@" + bytes.subarray(1).toString("utf8");
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString("utf8");
}
