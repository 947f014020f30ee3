import type { Ctx, ScenarioResult } from "../lib/types.js";

export async function replacementScenario(_ctx: Ctx): Promise<ScenarioResult> {
  return { id: "replacement", title: "replacement", tables: [], targets: [], notes: ["not written yet"], charts: [], data: null };
}
