/** Placeholder. @module */
export async function notifyMain(_argv: string[], _print: (s: string) => void): Promise<number> {
  process.stderr.write("sdkit notify: not available yet\n");
  return 1;
}
