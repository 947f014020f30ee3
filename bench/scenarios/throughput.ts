import type { Ctx, ScenarioResult } from "../lib/types.js";

export async function throughputScenario(_ctx: Ctx): Promise<ScenarioResult> {
  return { id: "throughput", title: "throughput", tables: [], targets: [], notes: ["not written yet"], charts: [], data: null };
}
