/**
 * What "the same program" means when sdkit starts a successor or re-execs: the Node binary, its
 * own flags (`--import tsx`, `--max-old-space-size`, …), the script and its arguments, run from
 * the directory the process started in.
 * @module
 */

/**
 * The working directory when sdkit was first loaded: as close to the start directory as a
 * library can see. Relative paths in argv, in `--import` loaders and in the app refer to it even
 * if the app `chdir`s later.
 */
export const ORIGINAL_CWD: string = process.cwd();

/** `[process.execPath, ...process.execArgv, ...process.argv.slice(1)]`: this program, rerun. */
export function currentProgram(): string[] {
  return [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
}
