/**
 * The process area: zero-downtime replacement (successor + handover, or in-place re-exec),
 * draining, shutdown wiring and workers. Re-exports only.
 * @module
 */
export { startProcess, replaceProcess, replacementStatus } from "./process/parent.js";
export type { StartProcessOptions, ReplaceOptions, ReplacePhase } from "./process/parent.js";
export { signalParentTermination, isPendingSuccessor } from "./process/child.js";
export { ReplaceError } from "./process/replace-error.js";
export type { ReplaceFailure, ReplaceErrorDetails } from "./process/replace-error.js";
export { reexec, checkReexec } from "./process/reexec.js";
export type { ReexecOptions } from "./process/reexec.js";
export { drain, DEFAULT_GRACE_MS, DEFAULT_IDLE_MS } from "./process/drain.js";
export type { DrainOptions } from "./process/drain.js";
export { onShutdown } from "./process/shutdown.js";
export type { ShutdownOptions, ShutdownReason } from "./process/shutdown.js";
export { startWorkers, workerSlot, Workers } from "./process/workers.js";
export type { WorkersOptions } from "./process/workers.js";
export { currentProgram, ORIGINAL_CWD } from "./process/program.js";
