// Entry point of the `mizzen` command: dispatches to a subcommand, answers help and version, suggests near misses.
import { commands } from './commands.js';
import { UsageError } from './command.js';
import { suggestions } from './suggest.js';

function usage(): string {
  const lines = ['usage: mizzen <command> [flags]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(14)} ${c.summary}`);
  lines.push('', 'Run `mizzen help <command>` (or `mizzen <command> --help`) for a command’s flags.');
  return lines.join('\n');
}

/** kubectl's answer to a mistyped command: the near misses, else the list of commands. */
function unknownCommand(name: string): number {
  const near = suggestions(name, Object.keys(commands));
  const hint = near.length
    ? `\n\nDid you mean this?\n${near.map((n) => `\t${n}`).join('\n')}\n\nRun \`mizzen help\` for usage.`
    : `\n\n${usage()}`;
  console.error(`mizzen: unknown command "${name}"${hint}`);
  return 2;
}

/** Runs `mizzen` with the given arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (name === '--version') name = 'version';
  if (name === 'help' && rest.length > 0) {
    if (rest.length > 1) {
      console.error(`mizzen help: expected one command, got ${rest.length}\nusage: mizzen help [COMMAND]`);
      return 2;
    }
    [name, rest] = [rest[0], ['--help']];
  }
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) return unknownCommand(name);
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
