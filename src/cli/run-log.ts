/**
 * The event log of `sdkit run`: one line per event on stderr, human-readable by default, JSON
 * lines with `--json`. Every state change also yields the status line (state, pid, restarts,
 * status text) that `systemctl status` would show.
 * @module
 */
import { writeSync } from "node:fs";

/** Supervisor states, as `systemctl` names them where one exists. */
export type RunState = "starting" | "running" | "reloading" | "replacing" | "stopping" | "auto-restart" | "exited";

/** What every event carries besides its own fields: the service's state, main pid, restart count and status text. */
export interface Snapshot { state: RunState; pid: number | null; restarts: number; status: string | null }

/** One event: its name plus free-form fields. */
export type EventFields = Record<string, string | number | boolean | null | string[] | undefined>;

/** Writes events; `fd` is 2 (stderr) unless a test wants otherwise. */
export class EventLog {
  constructor(private readonly json: boolean, private readonly fd = 2) {}

  /** Logs `event` with `fields` and the current snapshot. */
  event(event: string, fields: EventFields, snap: Snapshot): void {
    const line = this.json
      ? JSON.stringify({ time: new Date().toISOString(), event, ...fields, state: snap.state, mainPid: snap.pid, restarts: snap.restarts, statusText: snap.status })
      : `sdkit run: ${event}${formatFields(fields)}`;
    this.write(line);
  }

  /** The status line: `● running  pid 123  restarts 0  "Serving on :8080"` (human mode only). */
  status(snap: Snapshot): void {
    if (this.json) return;
    const parts = [`● ${snap.state}`, `pid ${snap.pid ?? "-"}`, `restarts ${snap.restarts}`];
    if (snap.status !== null) parts.push(JSON.stringify(snap.status));
    this.write(`sdkit run: ${parts.join("  ")}`);
  }

  private write(line: string): void {
    try {
      writeSync(this.fd, line + "\n");
    } catch { /* stderr gone: nothing sensible to do */ }
  }
}

function formatFields(f: EventFields): string {
  const parts = Object.entries(f).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === "string" ? (/^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v)) : Array.isArray(v) ? v.join(",") : String(v)}`);
  return parts.length ? " " + parts.join(" ") : "";
}
