// The shape every `mizzen` subcommand implements, and defineCommand: the one place that parses flags, answers --help and reports bad usage.
import { parseArgs } from 'node:util';
import { isAlive, readState, resolveRunDir, runPaths, type RunPaths } from '../local/run-state.js';
import { IN_MESH_NS_ENV, reenterMeshNamespace } from '../local/rootless.js';
import { suggestionLine } from './suggest.js';

/** One subcommand: parses its own flags from argv and returns an exit code. */
export interface Command {
  /** Name as typed after `mizzen`. */
  readonly name: string;
  /** One line for `mizzen help`. */
  readonly summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Thrown for bad command-line usage; the command prints the message and its usage, and exits 2. */
export class UsageError extends Error {}

/** One flag: `--name VALUE` (string) or `--name` (boolean), optionally `-x` and repeatable. */
export interface Flag {
  readonly type: 'string' | 'boolean';
  /** One-letter alias, e.g. `n` for `-n`. */
  readonly short?: string;
  /** Repeatable; the values arrive as an array in order. */
  readonly multiple?: boolean;
}

type FlagValue<F extends Flag> = F['type'] extends 'boolean'
  ? boolean
  : F['multiple'] extends true
    ? string[]
    : string;

/** Parsed flags by long name; absent flags are undefined. */
export type FlagValues<O extends Record<string, Flag>> = { readonly [K in keyof O]?: FlagValue<O[K]> };

/** What a command's body receives. */
export interface CommandArgs<O extends Record<string, Flag>> {
  readonly flags: FlagValues<O>;
  /** Positional arguments (before `--`). */
  readonly args: string[];
  /** Everything after `--` (only with `afterDashDash`). */
  readonly rest: string[];
  /** The run directory: --run-dir, else $MIZZEN_RUN_DIR, else .mizzen/ (meaningful with `runDir`). */
  readonly paths: RunPaths;
  /** The arguments as given after the command name. */
  readonly argv: string[];
}

/** A subcommand described once: flags, arguments, help text and body. */
export interface CommandSpec<O extends Record<string, Flag>> {
  readonly name: string;
  readonly summary: string;
  /** Full `--help` text; its first paragraph (up to the first blank line) is the usage shown on errors. */
  readonly help: string;
  /** Flags besides -h/--help (and --run-dir with `runDir`). */
  readonly flags: O;
  /** How many positional arguments are allowed, and what to say when the count is wrong (default none). */
  readonly args?: { readonly min: number; readonly max?: number; readonly expected: string };
  /** Adds `--run-dir PATH` and resolves `paths` from it. */
  readonly runDir?: boolean;
  /**
   * Reaches pods or the control plane by their mesh addresses: against a rootless run (whose network
   * is a namespace of its own) the command runs again inside it (with `runDir`).
   */
  readonly meshNetwork?: boolean;
  /** `CMD -- ARGS…`: what follows the first `--` is passed through untouched (and required). */
  readonly afterDashDash?: string;
  run(a: CommandArgs<O>): Promise<number>;
}

const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;
const RUN_DIR_FLAG = { 'run-dir': { type: 'string' } } as const;

/** The first paragraph of a help text. */
export function usageOf(help: string): string {
  const i = help.indexOf('\n\n');
  return i < 0 ? help : help.slice(0, i);
}

/** Unknown flags as one line, with the nearest known flag when one is close. */
function checkUnknownFlags(argv: string[], options: Record<string, Flag>): void {
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option' || Object.hasOwn(options, t.name)) continue;
    const known = Object.keys(options).map((n) => `--${n}`);
    throw new UsageError(
      `unknown flag ${t.rawName}${suggestionLine(t.rawName, known, ' (did you mean %s?)')}`,
    );
  }
}

/** node:util's parse errors, reworded as one line about the flag. */
function parseError(err: unknown): UsageError {
  const e = err as { code?: string; message?: string };
  const m = /^Option '([^']+)' argument missing/.exec(e.message ?? '');
  if (m) return new UsageError(`flag ${m[1].replace(/ <value>$/, '')} needs a value`);
  return new UsageError(String(e.message ?? err).split('. ')[0]);
}

function parse<O extends Record<string, Flag>>(
  spec: CommandSpec<O>,
  argv: string[],
): { flags: FlagValues<O> & { help?: boolean }; args: string[] } {
  const options: Record<string, Flag> = { ...spec.flags, ...HELP_FLAG, ...(spec.runDir ? RUN_DIR_FLAG : {}) };
  checkUnknownFlags(argv, options);
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
    return { flags: values as FlagValues<O> & { help?: boolean }, args: positionals };
  } catch (err) {
    throw parseError(err);
  }
}

function checkArgs<O extends Record<string, Flag>>(spec: CommandSpec<O>, args: string[]): void {
  const want = spec.args ?? { min: 0, max: 0, expected: 'no arguments' };
  const max = want.max ?? Infinity;
  if (args.length < want.min) throw new UsageError(`expected ${want.expected}`);
  if (args.length > max)
    throw new UsageError(
      max === 0 ? `unexpected argument "${args[0]}"` : `unexpected argument "${args[max]}"`,
    );
}

/** Turns a spec into a Command: flags parsed strictly, -h/--help, and usage errors as one line plus usage (exit 2). */
export function defineCommand<const O extends Record<string, Flag>>(spec: CommandSpec<O>): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    async run(argv) {
      try {
        const dash = spec.afterDashDash ? argv.indexOf('--') : -1;
        const head = dash < 0 ? argv : argv.slice(0, dash);
        const rest = dash < 0 ? [] : argv.slice(dash + 1);
        const { flags, args } = parse(spec, head);
        if (flags.help) {
          console.log(spec.help);
          return 0;
        }
        checkArgs(spec, args);
        if (spec.afterDashDash && rest.length === 0)
          throw new UsageError(`expected -- ${spec.afterDashDash}`);
        const runDir = (flags as { 'run-dir'?: string })['run-dir'];
        const paths = runPaths(resolveRunDir(runDir));
        if (spec.meshNetwork && process.env[IN_MESH_NS_ENV] === undefined) {
          const nsPid = readState(paths)?.network?.nsPid;
          if (nsPid !== undefined && isAlive(nsPid)) return reenterMeshNamespace(nsPid, [spec.name, ...argv]);
        }
        return await spec.run({ flags, args, rest, paths, argv });
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(
          `mizzen ${spec.name}: ${err.message}\n${usageOf(spec.help)}\nRun \`mizzen ${spec.name} --help\` for more.`,
        );
        return 2;
      }
    },
  };
}
