// Entry point of the `mizzen` command: dispatches to a subcommand.
import { commands } from './commands.js';
import { UsageError } from './command.js';

function usage(): string {
  const lines = ['usage: mizzen <command> [flags]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(14)} ${c.summary}`);
  lines.push('', 'Run `mizzen <command> --help` for a command’s flags.');
  return lines.join('\n');
}

/** Runs `mizzen` with the given arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`mizzen: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const cmd = (await entry.load()).default;
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`mizzen ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
