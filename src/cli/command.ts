// The shape every `mizzen` subcommand implements.

/** One subcommand: parses its own flags from argv and returns an exit code. */
export interface Command {
  /** Name as typed after `mizzen`. */
  readonly name: string;
  /** One line for `mizzen help`. */
  readonly summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Thrown for bad command-line usage; main prints the message and exits 2. */
export class UsageError extends Error {}
