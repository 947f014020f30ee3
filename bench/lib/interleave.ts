/**
 * Interleaved measurement: every competitor gets the same warm-up and the same number of
 * rounds, and the rounds alternate A B C A B C … so that drift on the shared 2-core machine
 * (other processes, thermal state, page cache) hits every competitor alike instead of whoever
 * happened to run last.
 * @module
 */

export interface Competitor<S> {
  name: string;
  /** Undefined when the competitor can run; otherwise why it cannot (shown in the table). */
  unavailable?: string;
  /** Optional once-per-competitor setup (start a sender process, …); its value is passed to `round`. */
  setup?: () => Promise<S>;
  teardown?: (state: S) => Promise<void>;
}

export interface InterleaveOptions<S, R> {
  competitors: Competitor<S>[];
  /** Rounds per competitor that are measured. */
  rounds: number;
  /** Rounds per competitor run first and discarded. */
  warmup: number;
  /** One round of one competitor. */
  round: (c: Competitor<S>, state: S, index: number) => Promise<R>;
  log?: (m: string) => void;
  /**
   * Reverse the order on every other round (A B C, C B A, …), so that a drift within a round
   * does not always favour the same competitor. For paired comparisons round by round.
   */
  alternate?: boolean;
}

/** Results per competitor name (empty array for unavailable ones); errors mark a competitor failed. */
export async function interleave<S, R>(o: InterleaveOptions<S, R>): Promise<{ results: Map<string, R[]>; errors: Map<string, string> }> {
  const results = new Map<string, R[]>();
  const errors = new Map<string, string>();
  const states = new Map<string, S>();
  const live = o.competitors.filter((c) => !c.unavailable);
  for (const c of o.competitors) results.set(c.name, []);
  try {
    for (const c of live) {
      try {
        states.set(c.name, c.setup ? await c.setup() : (undefined as S));
      } catch (e) {
        errors.set(c.name, `setup failed: ${(e as Error).message}`);
      }
    }
    for (let i = -o.warmup; i < o.rounds; i++) {
      const order = o.alternate && ((i % 2) + 2) % 2 === 1 ? [...live].reverse() : live;
      for (const c of order) {
        if (errors.has(c.name)) continue;
        try {
          const r = await o.round(c, states.get(c.name) as S, i);
          if (i >= 0) results.get(c.name)!.push(r);
        } catch (e) {
          errors.set(c.name, (e as Error).message);
          o.log?.(`  ${c.name}: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    for (const c of live) {
      if (c.teardown && states.has(c.name)) await c.teardown(states.get(c.name) as S).catch(() => undefined);
    }
  }
  return { results, errors };
}
