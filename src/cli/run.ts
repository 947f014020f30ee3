/** Placeholder. @module */
export async function runMain(_argv: string[], _print: (s: string) => void): Promise<number> {
  process.stderr.write("sdkit run: not available yet\n");
  return 1;
}
