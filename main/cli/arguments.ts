/** Command-line parsing of the `lupina` command: one command, positional arguments and `--` options. */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArguments {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--connection', '--password-file']);

/** Options each command accepts; `--help` is handled before parsing. */
const COMMAND_FLAGS: Record<string, ReadonlySet<string>> = {
  connect: new Set(['--verbose', '--connection', '--password-file']),
  status: new Set(['--json']),
  import: new Set(['--json', '--replace', '--dry-run', '--connection', '--password-file']),
  list: new Set(),
  delete: new Set(),
};

const KNOWN_FLAGS = new Set(Object.values(COMMAND_FLAGS).flatMap((flags) => [...flags]));

export function parseArguments(argv: string[]): ParsedArguments {
  const [command = '', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const argument = rest[i]!;
    if (!argument.startsWith('--')) {
      positional.push(argument);
      continue;
    }
    if (!KNOWN_FLAGS.has(argument)) {
      throw new UsageError(`unknown option ${argument}`);
    }
    const accepted = COMMAND_FLAGS[command];
    if (accepted && !accepted.has(argument)) {
      throw new UsageError(`option ${argument} does not apply to lupina ${command}`);
    }
    if (VALUE_FLAGS.has(argument)) {
      const value = rest[++i];
      if (value === undefined) {
        throw new UsageError(`${argument} needs a value`);
      }
      flags.set(argument, value);
    } else {
      flags.set(argument, true);
    }
  }
  return { command, positional, flags };
}

/** Returns the command's only positional argument; `name` is its placeholder in the usage text. */
export function oneArgument(parsed: ParsedArguments, name: string): string {
  if (parsed.positional.length !== 1) {
    throw new UsageError(`lupina ${parsed.command} takes exactly one ${name}, not ${parsed.positional.length}`);
  }
  return parsed.positional[0]!;
}

export function noArguments(parsed: ParsedArguments): void {
  if (parsed.positional.length > 0) {
    throw new UsageError(`lupina ${parsed.command} takes no arguments, but got "${parsed.positional[0]}"`);
  }
}

export function stringFlag(parsed: ParsedArguments, name: string): string | undefined {
  const value = parsed.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}
