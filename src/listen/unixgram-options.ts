/**
 * The option and result shapes of {@link UnixDatagramSocket} (in `unixgram.ts`).
 * @module
 */

/** Options of {@link UnixDatagramSocket}. */
export interface UnixDatagramSocketOptions {
  /**
   * Adopt this AF_UNIX SOCK_DGRAM fd (bound or not); the socket owns it and closes it on close().
   * @default undefined (a socket is created on bind/connect/send)
   */
  fd?: number;
  /**
   * Deliver fds received with SCM_RIGHTS in `rinfo.fds`; the listener then owns and must close
   * them. When false they are closed at once, so a sender cannot make this process leak fds.
   * @default false
   */
  receiveFds?: boolean;
  /**
   * Ask the kernel for the sender's credentials (SO_PASSCRED): `rinfo.pid`, `uid`, `gid`.
   * @default false
   */
  credentials?: boolean;
  /**
   * Receive buffer per datagram; longer datagrams are cut and flagged `rinfo.truncated`.
   * @default 65536
   */
  maxMessageSize?: number;
}

/** Who sent a datagram. */
export interface UnixRemoteInfo {
  /** The sender's bound path, `@name` for abstract, `""` for an unbound sender. */
  path: string;
  /** The datagram's full length (larger than the data when truncated). */
  size: number;
  /** True when the datagram was longer than `maxMessageSize`. */
  truncated: boolean;
  /** Received fds (only with `receiveFds`; the listener owns them). */
  fds: number[];
  /** Sender's pid/uid/gid (only with `credentials`), else -1. */
  pid: number;
  uid: number;
  gid: number;
}

/** Options of {@link UnixDatagramSocket.send}. */
export interface UnixSendOptions {
  /** fds to pass along (SCM_RIGHTS); this process keeps its own copies. */
  fds?: number[];
}
