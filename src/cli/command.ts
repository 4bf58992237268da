/** A CLI command: a name path (e.g. ["crypto", "kcv"]), a one-line summary, usage and a runner. */
export interface Command {
  readonly path: readonly string[];
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<void> | void;
}
