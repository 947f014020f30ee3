/**
 * `listenFifo`: the FIFO systemd passed (`ListenFIFO=`), otherwise the FIFO at `path` (made
 * with mkfifo when missing), as a readable `net.Socket`. Opened O_RDWR|O_NONBLOCK, as systemd
 * does: opening never blocks waiting for a writer, and because this process also holds a write
 * end, the stream never sees end-of-file when writers come and go. libuv watches the fd with
 * epoll (no thread blocks on a read).
 * @module
 */
import { lstatSync, chmodSync, openSync } from "node:fs";
import { constants as fsc } from "node:fs";
import { constants as osc } from "node:os";
import net from "node:net";
import { SdError, errnoError } from "../errors.js";
import { isFifo } from "../filetest/socket.js";
import { K, native } from "../native/binding.js";
import { checkName, exportTracked, takeInherited, type CommonListenOptions } from "./adopt.js";

/** Options of {@link listenFifo}. */
export interface ListenFifoOptions extends CommonListenOptions {
  /**
   * Path of the FIFO. Needed unless an fd with `name` is inherited.
   * @default undefined
   */
  path?: string;
  /**
   * Exact permission bits for a FIFO sdkit creates (an existing one is left as it is).
   * @default 0o666 minus the process umask (like mkfifo(1) and systemd's SocketMode=)
   */
  mode?: number;
}

/**
 * Returns the FIFO as a readable `net.Socket` (data arrives as `'data'` events; it never ends
 * on its own). Exported under `name`, the inherited name, or `"fifo"`. `socket.destroy()`
 * closes this process's fd and never removes the FIFO.
 * @throws SdError ERR_SD_NO_SUCH_FD_NAME (neither an inherited name nor a path), ERR_SD_WRONG_KIND
 * (the name or the path is something else), ERR_SD_PERMISSION
 */
export async function listenFifo(opts: ListenFifoOptions): Promise<net.Socket> {
  const name = checkName(opts.name);
  const path = opts.path === "" ? undefined : opts.path;
  const inherited = takeInherited(name, [isFifo(path)], `a FIFO${path ? ` at ${path}` : ""}`);
  let fd: number;
  let exportName: string;
  let lockFd: number | undefined;
  if (inherited) {
    lockFd = inherited.lockFd;
    fd = inherited.fd;
    exportName = name ?? inherited.name;
  } else {
    if (path === undefined) {
      throw new SdError("ERR_SD_NO_SUCH_FD_NAME", name
        ? `listenFifo: no inherited fd is named "${name}" and no path was given to open a FIFO: check FileDescriptorName= in the socket unit, or pass a path as a fallback.`
        : "listenFifo: give a name (an inherited ListenFIFO= fd) or a path.");
    }
    fd = openFifo(path, opts.mode);
    exportName = name ?? "fifo";
  }
  let sock: net.Socket;
  try {
    sock = new net.Socket({ fd, readable: true, writable: false });
  } catch (e) {
    native().close(fd);
    if (lockFd !== undefined) native().close(lockFd);
    throw new SdError("ERR_SD_SYSCALL", `Node could not open the FIFO ${path ?? `fd ${fd}`} as a stream: ${(e as Error).message}`, { cause: e, fd });
  }
  return exportTracked(exportName, sock, lockFd, opts.forgetOnClose);
}

/** mkfifo when missing, check the kind (never following a symlink), open O_RDWR|O_NONBLOCK. */
function openFifo(path: string, mode: number | undefined): number {
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
    throw new SdError("ERR_SD_INVALID_ARG", `mode must be a permission number such as 0o660, got ${JSON.stringify(mode)}.`);
  }
  let st = lstatOrUndefined(path);
  if (!st) {
    const r = native().mkfifo(path, mode ?? 0o666);
    if (r < 0 && r !== -osc.errno.EEXIST) throw errnoError(r, "mkfifo", path, "", { path });
    if (r === 0 && mode !== undefined) {
      try { chmodSync(path, mode); } catch (e) { throw errnoError((e as NodeJS.ErrnoException).errno ?? -1, "chmod", path, "", { path, cause: e }); }
    }
    st = lstatOrUndefined(path);
  }
  if (!st || !st.isFIFO()) {
    const what = !st ? "missing" : st.isSymbolicLink() ? "a symbolic link" : st.isSocket() ? "a socket" : st.isDirectory() ? "a directory" : "a regular file";
    throw new SdError("ERR_SD_WRONG_KIND", `${path} is ${what}, not a FIFO: remove it or choose another path.`, { path });
  }
  try {
    return openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK | fsc.O_NOFOLLOW | K().O_CLOEXEC!);
  } catch (e) {
    throw errnoError((e as NodeJS.ErrnoException).errno ?? -1, "open", path, "", { path, cause: e });
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw errnoError((e as NodeJS.ErrnoException).errno ?? -1, "lstat", path, "", { path, cause: e });
  }
}
