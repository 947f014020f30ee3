/**
 * The notify and watchdog area: sd_notify messages (with FD store and barrier), the watchdog,
 * and the receiving side. Re-exports only.
 * @module
 */
export { notify, DEFAULT_WAIT_MS } from "./notify/notify.js";
export type { NotifyOptions } from "./notify/notify.js";
export { ready, reloading, stopping, status, mainPid, extendTimeout, errno, watchdogTrigger, fdStoreRemove, notifyStatus, monotonicUsec } from "./notify/helpers.js";
export type { NotifyStatusKind } from "./notify/helpers.js";
export { barrier, DEFAULT_BARRIER_TIMEOUT_MS } from "./notify/barrier.js";
export type { BarrierOptions } from "./notify/barrier.js";
export { buildNotifyMessage, parseNotifyMessage, toAssignments, assertFdStoreName, NOTIFY_BUFFER_MAX, SCM_MAX_FD, FDNAME_MAX } from "./notify/message.js";
export type { NotifyState, NotifyValue, ParsedNotifyMessage } from "./notify/message.js";
export { parseNotifySocket } from "./notify/address.js";
export type { NotifyAddress } from "./notify/address.js";
export { fdStoreMessages } from "./notify/fdstore.js";
export type { OutMessage } from "./notify/transport.js";
export type { FdStoreEntry } from "./notify/fdstore.js";
export { NotifyReceiver } from "./notify/receiver.js";
export type { NotifyReceiverOptions, ReceivedNotifyMessage } from "./notify/receiver.js";
export { watchdogEnabled, parseWatchdog } from "./watchdog/enabled.js";
export type { WatchdogSettings, WatchdogEnabledOptions } from "./watchdog/enabled.js";
export { startWatchdog, stopWatchdog } from "./watchdog/pinger.js";
export type { StartWatchdogOptions } from "./watchdog/pinger.js";
