/**
 * sdkit: systemd integration for Node.js daemons. Re-exports only; see the modules for docs.
 * @module
 */
export { ERROR_CODES, SdError, ActivationError, NoNotifySocketError } from "./errors.js";
export type { SdErrorCode, SdErrorDetails } from "./errors.js";
export { listenFdsWithNames, configureActivation } from "./activation/inherit.js";
export type { ActivationOptions } from "./activation/inherit.js";
export { LISTEN_FDS_START, parseListenFds } from "./activation/listen-fds.js";
export type { ListenFds, ParseOptions } from "./activation/listen-fds.js";
export { fileWith, exportFd, forget, cleanup, reset, activeFds, defaultPool } from "./registry/default.js";
export { FdPool, LOCK_FD_NAME } from "./registry/pool.js";
export type { FileTest, PoolEntry } from "./registry/pool.js";
export type { FdTarget } from "./registry/targets.js";
export { isFifo, isSpecial, isSocket, isSocketInet, isSocketUnix, isListening, isSoReusePort } from "./filetest/socket.js";
export type { SocketTestOptions, InetTestOptions, UnixTestOptions } from "./filetest/socket.js";
export { isTCPListener, isUDPListener, isUnixListener } from "./filetest/address.js";
export type { InetAddr } from "./filetest/address.js";
export { inspectFd, describeFd } from "./filetest/inspect.js";
export type { FdInfo } from "./filetest/inspect.js";
export { objectEnv } from "./env.js";
export type { RawAddr, RecvResult } from "./native/binding.js";
export type { Env } from "./env.js";
export * from "./listen.js";
export * from "./notify.js";
export * from "./process.js";
