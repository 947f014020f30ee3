/**
 * `NOTIFY_SOCKET` parsing. libsystemd accepts an absolute path or an `@abstract` name (and, since
 * v253, `vsock:` addresses, which sdkit reports as unsupported). Anything else, in particular a
 * relative path, is refused: it would resolve against whatever the cwd happens to be.
 * @module
 */
import { SdError } from "../errors.js";
import { K, type RawAddr } from "../native/binding.js";
import { encodeUnixPath } from "../util/unix-path.js";

/** A parsed notify address. */
export interface NotifyAddress {
  /** The variable as given (`/run/systemd/notify`, `@name`). */
  raw: string;
  /** Whether it is an abstract-namespace name (exact length, no trailing NUL). */
  abstract: boolean;
  /** The address handed to connect(). */
  addr: RawAddr;
}

const VSOCK = /^vsock(-stream|-dgram|-seqpacket)?:/;

let cached: NotifyAddress | undefined;

/**
 * Parses a `NOTIFY_SOCKET` value. Throws `ERR_SD_NOTIFY_SOCKET` for an unusable value and
 * `ERR_SD_UNSUPPORTED` for `vsock:` addresses. The last result is cached by its raw string, so
 * a changed variable is always re-read.
 */
export function parseNotifySocket(raw: string): NotifyAddress {
  if (cached?.raw === raw) return cached;
  const bad = (why: string) => new SdError("ERR_SD_NOTIFY_SOCKET", `NOTIFY_SOCKET=${JSON.stringify(raw)} ${why}`, { path: raw });
  if (VSOCK.test(raw)) {
    throw new SdError("ERR_SD_UNSUPPORTED", `NOTIFY_SOCKET=${JSON.stringify(raw)} is an AF_VSOCK address (a VM talking to its host's manager); sdkit sends notifications over AF_UNIX only. Point NOTIFY_SOCKET at a Unix socket, or relay with systemd-notify.`, { path: raw });
  }
  if (raw === "") throw bad("is empty: it must be an absolute socket path or an @abstract name.");
  if (raw[0] !== "/" && raw[0] !== "@") throw bad("is not an absolute path or @abstract name; relative paths are refused because they depend on the current directory.");
  if (raw.length === 1) throw bad("names no socket.");
  let path: Buffer;
  try {
    path = encodeUnixPath(raw);
  } catch (cause) {
    throw bad(`cannot be a Unix socket address (${(cause as Error).message})`);
  }
  const parsed: NotifyAddress = { raw, abstract: raw[0] === "@", addr: { family: K().AF_UNIX!, path } };
  cached = parsed;
  return parsed;
}
