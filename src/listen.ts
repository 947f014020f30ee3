/**
 * The listeners area: inherit the socket systemd (or a predecessor) passed, otherwise create
 * it; return ordinary Node objects; export the result so it is handed on.
 * @module
 */
export { listenTCP } from "./listen/tcp.js";
export type { ListenTCPOptions } from "./listen/tcp.js";
export { listenUDP } from "./listen/udp.js";
export type { ListenUDPOptions } from "./listen/udp.js";
export { listenUnix, listenUnixgram } from "./listen/unix.js";
export type { ListenUnixOptions, ListenUnixgramOptions, UnixCommonOptions } from "./listen/unix.js";
export { listenFifo } from "./listen/fifo.js";
export type { ListenFifoOptions } from "./listen/fifo.js";
export { listen, listenPacket, inheritNamedListener, inheritNamedPacketConn, parseHostPort } from "./listen/generic.js";
export type { ListenOptions, ListenPacketOptions, StreamNetwork, PacketNetwork } from "./listen/generic.js";
export { UnixDatagramSocket } from "./listen/unixgram.js";
export type { UnixDatagramSocketOptions, UnixRemoteInfo, UnixSendOptions } from "./listen/unixgram.js";
export { setUnixSocketUnlinkPolicy, getUnixSocketUnlinkPolicy } from "./listen/unlink-policy.js";
export type { UnixSocketUnlinkPolicy } from "./listen/unlink-policy.js";
export type { CommonListenOptions, ServerOrHandler } from "./listen/adopt.js";
export type { IpVersion } from "./listen/inet.js";
