/**
 * `startWorkers(n)`: n copies of this program sharing the active listeners. Every worker gets
 * the same listening sockets at 3, 4, … (like a socket-activated service) and accepts on them
 * itself; the kernel spreads connections among the processes accepting, with no primary in the
 * data path (unlike Node's cluster module, which passes connections around).
 *
 * Rolling replacement starts a new worker, waits until it is ready (`signalParentTermination()`),
 * then stops one old worker (SIGTERM: its `onShutdown()` drains), one slot at a time, so at least
 * n workers accept at every moment. A new worker that fails is stopped and the old one stays.
 * @module
 */
import { EventEmitter } from "node:events";
import { SdError } from "../errors.js";
import { WORKER_VAR } from "./child-env.js";
import { ReplaceError } from "./replace-error.js";
import { DEFAULT_KILL_GRACE_MS, startSuccessor, type Successor, type SuccessorOptions } from "./successor.js";

/** Options of {@link startWorkers}. */
export interface WorkersOptions {
  /**
   * Extra environment for every worker. `SDKIT_WORKER=<slot>` is always set; `NOTIFY_SOCKET` and
   * `WATCHDOG_USEC` are removed (the primary is the service's main process) unless given here.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Run this instead of the same program: `[file, ...args]`. @default currentProgram() */
  argv?: readonly string[];
  /** How long a worker may take to signal readiness. @default 60_000 */
  timeoutMs?: number;
  /** Time an old worker gets to drain after SIGTERM before SIGKILL. @default 30_000 */
  stopGraceMs?: number;
  /** Start a new worker when one exits unexpectedly (after `respawnDelayMs`). @default true */
  respawn?: boolean;
  /** Delay before such a restart, so a crash loop does not spin. @default 1_000 */
  respawnDelayMs?: number;
}

/** The worker slot of this process (1..n) when it was started by {@link startWorkers}, else undefined. */
export function workerSlot(): number | undefined {
  const v = process.env[WORKER_VAR];
  return v !== undefined && /^[1-9][0-9]*$/.test(v) ? Number(v) : undefined;
}

interface Slot { index: number; current?: Successor | undefined; timer?: NodeJS.Timeout | undefined }

/**
 * A running set of workers. Events: `"ready"` (slot, pid), `"exit"` (slot, pid, code, signal)
 * for workers that exit unexpectedly, `"error"`-free by design: failures arrive as rejections.
 */
export class Workers extends EventEmitter {
  private readonly slots: Slot[];
  private stopped = false;
  private rolling: Promise<void> | undefined;

  /** @internal use {@link startWorkers} */
  constructor(n: number, private readonly opts: WorkersOptions) {
    super();
    this.slots = Array.from({ length: n }, (_, i) => ({ index: i + 1 }));
  }

  /** The pids of the current workers, by slot (undefined while a slot is restarting). */
  get pids(): (number | undefined)[] {
    return this.slots.map((s) => s.current?.pid);
  }

  private spawn(slot: Slot): Successor {
    const so: SuccessorOptions = {
      // Workers are never the service's main process: no notify socket, no watchdog, so a
      // worker's shutdown cannot send STOPPING=1 for the service (NotifyAccess=all would obey).
      env: { NOTIFY_SOCKET: undefined, WATCHDOG_USEC: undefined, ...this.opts.env, [WORKER_VAR]: String(slot.index) },
      argv: this.opts.argv,
      timeoutMs: this.opts.timeoutMs,
      label: `worker ${slot.index}`,
    };
    return startSuccessor(so);
  }

  /** Starts a worker for `slot`; resolves once it is ready (the caller makes it current). */
  private async start(slot: Slot): Promise<Successor> {
    const w = this.spawn(slot);
    await w.ready;
    if (this.stopped) { await w.stop(); throw new ReplaceError("cancelled", "the workers were stopped meanwhile."); }
    this.emit("ready", slot.index, w.pid);
    void w.exited.then(({ code, signal }) => this.onExit(slot, w, code, signal));
    return w;
  }

  private onExit(slot: Slot, w: Successor, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.current !== w || this.stopped) return; // replaced or stopped on purpose
    slot.current = undefined;
    this.emit("exit", slot.index, w.pid, code, signal);
    if (this.opts.respawn !== false) this.respawnLater(slot);
  }

  private respawnLater(slot: Slot): void {
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.stopped || slot.current) return;
      this.start(slot).then((nw) => { slot.current = nw; }, () => { if (!this.stopped) this.respawnLater(slot); });
    }, this.opts.respawnDelayMs ?? 1_000);
  }

  /** @internal Starts every slot; rejects (after stopping the ones started) if any fails. Used by {@link startWorkers}. */
  async startAll(): Promise<void> {
    try {
      await Promise.all(this.slots.map(async (s) => { s.current = await this.start(s); }));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /**
   * Rolling replacement: for each slot in turn, a new worker starts and becomes ready, then the
   * old one is stopped (SIGTERM, SIGKILL after `stopGraceMs`) and awaited. Rejects with the
   * {@link ReplaceError} of the first new worker that fails; the remaining old workers stay.
   * One rolling replacement at a time (`ERR_SD_REPLACE_IN_PROGRESS`).
   */
  replace(): Promise<void> {
    if (this.stopped) return Promise.reject(new ReplaceError("cancelled", "the workers were stopped."));
    if (this.rolling) return Promise.reject(new ReplaceError("in-progress", "a rolling replacement is already running."));
    this.rolling = (async () => {
      try {
        for (const slot of this.slots) {
          const fresh = await this.start(slot);
          const old = slot.current;
          slot.current = fresh;
          if (old) await old.stop("SIGTERM", this.opts.stopGraceMs ?? 30_000);
        }
      } finally {
        this.rolling = undefined;
      }
    })();
    return this.rolling;
  }

  /** Stops every worker (SIGTERM, SIGKILL after `graceMs`) and resolves when all have exited. */
  async stop(graceMs = this.opts.stopGraceMs ?? DEFAULT_KILL_GRACE_MS * 6): Promise<void> {
    this.stopped = true;
    await Promise.all(this.slots.map(async (s) => {
      if (s.timer) clearTimeout(s.timer);
      const w = s.current;
      s.current = undefined;
      if (w) await w.stop("SIGTERM", graceMs);
    }));
  }
}

/**
 * Starts `n` workers: copies of this program with the active fds (as `startProcess()` passes
 * them) and `SDKIT_WORKER=<slot>` (read it with {@link workerSlot}). Each worker must call
 * `signalParentTermination()` when its listeners are up (it only tells the primary it is ready;
 * the primary is not terminated). Resolves when all are ready.
 *
 * The calling process (the primary) should hold the listeners in the registry without
 * accepting on them: create or inherit them, `exportFd()` them, close its own server handles.
 * @throws ReplaceError when a worker fails to start (the others are stopped).
 */
export async function startWorkers(n: number, opts: WorkersOptions = {}): Promise<Workers> {
  if (!Number.isSafeInteger(n) || n < 1) throw new SdError("ERR_SD_INVALID_ARG", `startWorkers(): n must be a positive integer, got ${String(n)}.`);
  const w = new Workers(n, opts);
  await w.startAll();
  return w;
}
