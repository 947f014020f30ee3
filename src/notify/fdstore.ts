/**
 * FD store messages (`FDSTORE=1`): the fds are grouped by name, one message per name with
 * `FDNAME=` (the manager takes one name per message), `FDPOLL=0` for fds that are not sockets
 * (a pipe or lock file would otherwise be dropped from the store on POLLHUP, or not be pollable
 * at all), and at most 253 fds per message (`SCM_MAX_FD`) — larger groups go out as several
 * messages with the same name, which the manager merges.
 * @module
 */
import { SdError } from "../errors.js";
import { inspectFd } from "../filetest/inspect.js";
import { SCM_MAX_FD, assertFdStoreName, encodeAssignments } from "./message.js";
import type { OutMessage } from "./transport.js";

/** An fd to store under a name. */
export interface FdStoreEntry { name: string; fd: number }

/** Builds the datagrams that store `entries` in the manager's FD store, in first-seen name order. */
export function fdStoreMessages(entries: readonly FdStoreEntry[]): OutMessage[] {
  const groups = new Map<string, { poll: number[]; nopoll: number[] }>();
  for (const e of entries) {
    if (e === null || typeof e !== "object") throw new SdError("ERR_SD_INVALID_ARG", "fds entries are { name, fd } objects.");
    assertFdStoreName(e.name);
    if (!Number.isInteger(e.fd) || e.fd < 0) throw new SdError("ERR_SD_INVALID_ARG", `fd store entry ${JSON.stringify(e.name)} has fd ${String(e.fd)}: expected an open fd number.`);
    const kind = inspectFd(e.fd).kind;
    if (kind === "closed") throw new SdError("ERR_SD_BAD_FD", `fd ${e.fd} (${JSON.stringify(e.name)}) is not open: nothing to store.`, { fd: e.fd });
    let g = groups.get(e.name);
    if (!g) groups.set(e.name, (g = { poll: [], nopoll: [] }));
    (kind === "socket" ? g.poll : g.nopoll).push(e.fd);
  }
  const out: OutMessage[] = [];
  for (const [name, g] of groups) {
    for (const [fds, noPoll] of [[g.poll, false], [g.nopoll, true]] as const) {
      const header = encodeAssignments(noPoll ? [["FDSTORE", "1"], ["FDNAME", name], ["FDPOLL", "0"]] : [["FDSTORE", "1"], ["FDNAME", name]]);
      for (let i = 0; i < fds.length; i += SCM_MAX_FD) out.push({ data: header, fds: fds.slice(i, i + SCM_MAX_FD) });
    }
  }
  return out;
}
