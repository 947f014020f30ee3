import type { Ctx, ScenarioResult } from "../lib/types.js";

export async function fdstoreScenario(_ctx: Ctx): Promise<ScenarioResult> {
  return { id: "fdstore", title: "fdstore", tables: [], targets: [], notes: ["not written yet"], charts: [], data: null };
}
