/**
 * What a scenario hands back to the driver: Markdown-ready tables, the targets from the issue
 * with their verdict, chart files and the raw numbers for latest.json.
 * @module
 */
import type { SdkitInfo } from "./sdkit.js";

/** A Markdown table. */
export interface Table { title: string; head: string[]; rows: string[][] }

/** A target from the issue; `met` null = could not be measured in this run. */
export interface Target { name: string; goal: string; measured: string; met: boolean | null }

export interface ScenarioResult {
  id: string;
  title: string;
  tables: Table[];
  targets: Target[];
  notes: string[];
  /** Chart files, relative to the results directory. */
  charts: string[];
  /** Raw numbers (latest.json). */
  data: unknown;
  seconds?: number;
  error?: string;
  /** When it ran, and the 1-min load average before and after (set by the driver). */
  ranAt?: string;
  load?: [number, number];
}

/** Everything a scenario may use. */
export interface Ctx {
  quick: boolean;
  /** Where latest.{json,md} go. */
  outDir: string;
  /** Where charts go (inside outDir). */
  chartsDir: string;
  sdkit: SdkitInfo;
  /** The repository root. */
  root: string;
  /** The bench directory. */
  benchDir: string;
  log(msg: string): void;
}

export type Scenario = (ctx: Ctx) => Promise<ScenarioResult>;
