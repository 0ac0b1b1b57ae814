import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in the usage ("TEXT", "N"). */
  value?: string;
  help: string;
}

export interface Parsed {
  /** The options given, by name; booleans not given are false. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CommandSpec<Context> {
  group: string;
  name: string;
  /** Positional arguments as the usage shows them, e.g. "<id>" or "[<id|file>]"; the brackets say which are required. */
  args?: string;
  summary: string;
  options?: Record<string, OptionSpec>;
  /** The instance the command runs as: a worker takes jobs from the shared queue; the default, cli, only its own. */
  role?: 'worker';
  run(context: Context, parsed: Parsed): Promise<number>;
}

/** Taken by every command. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec & { short?: string }> = {
  json: { type: 'boolean', help: 'machine-readable output on stdout (errors too)' },
  init: { type: 'boolean', help: 'create the embedded PostgreSQL in DATA_DIR if it has none' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const PROGRAM = 'pnpm cli';

const title = (spec: CommandSpec<unknown>) => `${spec.group} ${spec.name}`;

function optionUsage(name: string, option: OptionSpec): string {
  return `--${name}${option.value ? ` ${option.value}` : ''}`;
}

/** At most this many options are shown in a command's line; more are left to its --help. */
const INLINE_OPTIONS = 3;

/** One line per command: what `pnpm cli` and `pnpm cli <group>` list. */
function commandLine(spec: CommandSpec<unknown>): string {
  const entries = Object.entries(spec.options ?? {});
  const options =
    entries.length > INLINE_OPTIONS ? ['[options]'] : entries.map(([name, option]) => `[${optionUsage(name, option)}]`);
  return [title(spec), spec.args, ...options].filter(Boolean).join(' ');
}

function commandList(specs: readonly CommandSpec<unknown>[]): string {
  return specs.map((spec) => `  ${commandLine(spec)}\n      ${spec.summary}`).join('\n');
}

export function programUsage(specs: readonly CommandSpec<unknown>[]): string {
  return `Usage: ${PROGRAM} <command> [options]

${commandList(specs)}

Every command takes --json (machine-readable output), --init and --help.
${PROGRAM} <command> --help shows a command's options.
`;
}

export function groupUsage(specs: readonly CommandSpec<unknown>[], group: string): string {
  return `Usage: ${PROGRAM} ${group} <command> [options]

${commandList(specs.filter((spec) => spec.group === group))}

${PROGRAM} ${group} <command> --help shows a command's options.
`;
}

export function commandUsage(spec: CommandSpec<unknown>): string {
  const rows = [...Object.entries(spec.options ?? {}), ...Object.entries(GLOBAL_OPTIONS)].map(
    ([name, option]) => [optionUsage(name, option), option.help] as const,
  );
  const width = Math.max(...rows.map(([usage]) => usage.length));
  return `Usage: ${PROGRAM} ${title(spec)}${spec.args ? ` ${spec.args}` : ''} [options]

${spec.summary}

Options:
${rows.map(([usage, help]) => `  ${usage.padEnd(width)}  ${help}`).join('\n')}
`;
}

/** Parses a command's arguments with its own option table: another command's option is refused. */
export function parseCommand(spec: CommandSpec<unknown>, argv: string[], all: readonly CommandSpec<unknown>[]): Parsed {
  const table = { ...GLOBAL_OPTIONS, ...spec.options };
  const usageError = (message: string) => new CliError('cli/usage', message, commandUsage(spec));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: Object.fromEntries(
        Object.entries(table).map(([name, option]) => [
          name,
          { type: option.type, ...('short' in option && option.short ? { short: option.short } : {}) },
        ]),
      ),
    });
  } catch (error) {
    throw usageError(describeParseError(error, spec, all));
  }
  const [required, optional] = countArgs(spec.args);
  const positionals = parsed.positionals;
  if (positionals.length < required) throw usageError(`"${title(spec)}" needs ${spec.args}.`);
  if (positionals.length > required + optional) {
    throw usageError(`"${title(spec)}" takes ${spec.args ?? 'no arguments'}, not "${positionals.join(' ')}".`);
  }
  const values: Parsed['values'] = {};
  for (const [name, option] of Object.entries(table)) {
    const value = parsed.values[name];
    values[name] = option.type === 'boolean' ? value === true : (value as string | undefined);
  }
  return { values, positionals };
}

function countArgs(args: string | undefined): [required: number, optional: number] {
  const parts = args ? args.split(' ') : [];
  const optional = parts.filter((part) => part.startsWith('[')).length;
  return [parts.length - optional, optional];
}

function describeParseError(error: unknown, spec: CommandSpec<unknown>, all: readonly CommandSpec<unknown>[]): string {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const name = option.replace(/^-+/, '');
    const owners = all.filter((other) => other.options && name in other.options).map(title);
    return `"${title(spec)}" has no option ${option}${owners.length ? ` (it belongs to: ${owners.join(', ')})` : ''}.`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    const name = option.replace(/^-+/, '');
    const value = spec.options?.[name]?.value;
    return value ? `${option} needs a value (${option} ${value}).` : `${option} takes no value.`;
  }
  return message;
}
