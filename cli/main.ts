/**
 * The `kubemedic` command: parses the command line (node:util parseArgs), runs one command, and
 * exits with a code that means something (see errors.ts and `kubemedic help`).
 */
import { parseArgs } from 'node:util';
// Only what `--version` and help need is imported here: the command table (and the Temporal, zod
// and configuration modules under it) is imported once a command runs (in the bundle, help reads
// the table's text the bundler put in: see cli/package/build.ts).
import type { CommandSpec } from './command.ts';
import { commonJs } from './common-js.ts';
import { type Context, createContext, globalFlags, globalOptions } from './context.ts';
import { CliError, type ExitCode, exitCodes, messageOf, notFound, usageError } from './errors.ts';
import { commandHelp, generalHelp } from './help.ts';
import { createOutput, type OutputFormat, outputFormats, serialize } from './output.ts';
import { didYouMean } from './suggest.ts';
import { cliVersion } from './version.ts';

/** Set by the bundler (cli/package/build.ts): the command table without its code, for help. */
declare const KUBEMEDIC_COMMAND_SPECS: CommandSpec[] | undefined;

/** The commands as help and parsing need them: from the bundle, else from the table itself. */
const commandSpecs = async (): Promise<CommandSpec[]> =>
  typeof KUBEMEDIC_COMMAND_SPECS !== 'undefined'
    ? KUBEMEDIC_COMMAND_SPECS
    : (await import('./commands/index.ts')).commands;

export async function main(argv: string[]): Promise<ExitCode> {
  // A first, lenient pass finds the command even after global flags with values (--cluster x list),
  // and the output format, so that even a usage error is printed as the script asked.
  const lenient = parseArgs({ args: argv, options: globalOptions, strict: false, allowPositionals: true });
  const name = lenient.positionals[0];
  let format: OutputFormat = lenient.values.json === true ? 'json' : 'text';
  let context: Context | undefined;
  try {
    format = outputFormatOf(lenient.values.output) ?? format;
    const out = createOutput(format);
    if (lenient.values.version === true) {
      out.result({ version: cliVersion }, () => out.line(`kubemedic ${cliVersion}`));
      return exitCodes.ok;
    }
    const commands = await commandSpecs();
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? lenient.positionals[1] : undefined;
      const command = commands.find((c) => c.name === topic);
      if (topic !== undefined && !command) throw unknownCommand(topic, commands);
      out.line(command ? commandHelp(command) : generalHelp(commands));
      return name === undefined && lenient.values.help !== true ? exitCodes.usage : exitCodes.ok;
    }
    const spec = commands.find((c) => c.name === name);
    if (!spec) throw unknownCommand(name, commands);
    const { values, positionals } = parse(spec, argv);
    if (values.help === true) {
      out.line(commandHelp(spec));
      return exitCodes.ok;
    }
    const command = (await import('./commands/index.ts')).commands.find((c) => c.name === name)!;
    const { cliConfig } = await import('../domain/config/cli.ts');
    context = createContext(globalFlags(values, cliConfig(process.env)), out);
    await command.run(context, positionals.slice(1), values);
    return exitCodes.ok;
  } catch (error) {
    const known = await knownError(error);
    const code = known instanceof CliError ? known.code : exitCodes.error;
    const message = messageOf(known);
    if (format === 'json' || format === 'yaml')
      process.stdout.write(serialize(format, { error: { code, message } }));
    process.stderr.write(`kubemedic: ${message}\n`);
    if (code === exitCodes.usage) process.stderr.write('Run `kubemedic help` for usage.\n');
    return code;
  } finally {
    await context?.close();
  }
}

/** -o's value; undefined without -o. */
function outputFormatOf(value: string | boolean | undefined): OutputFormat | undefined {
  if (value === undefined) return undefined;
  const found = outputFormats.find((f) => f === value);
  if (found) return found;
  const given = typeof value === 'string' ? value : '';
  throw usageError(
    `-o takes ${outputFormats.join(', ')}, not "${given}".${didYouMean(given, outputFormats, (f) => `-o ${f}`)}`,
  );
}

const unknownCommand = (name: string, commands: CommandSpec[]) =>
  usageError(
    `unknown command "${name}".${didYouMean(
      name,
      commands.map((c) => c.name),
      (c) => `\`kubemedic ${c}\``,
    )} See \`kubemedic help\``,
  );

/** Temporal's own errors that have a fix to name, and a bad environment (a usage error). */
async function knownError(error: unknown): Promise<unknown> {
  // Loaded already when one of these was thrown, so importing them here costs nothing then.
  const { ConfigurationError } = await import('../domain/config/environment.ts');
  const { NamespaceNotFoundError } = commonJs(await import('@temporalio/common'));
  if (error instanceof ConfigurationError) return usageError(error.message);
  if (error instanceof NamespaceNotFoundError) {
    return notFound(`${error.message}: name an existing one with --temporal-namespace or TEMPORAL_NAMESPACE`);
  }
  return error;
}

function parse(command: CommandSpec, argv: string[]) {
  const options = { ...globalOptions, ...command.options };
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`${flagProblem(error, options)} (see \`kubemedic ${command.name} --help\`)`);
  }
}

/** parseArgs's error in the CLI's words, with the closest flag the command has for an unknown one. */
function flagProblem(error: unknown, options: Record<string, unknown>): string {
  const code = (error as { code?: string }).code;
  const flag = /Option '([^' ]+)/i.exec(messageOf(error))?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const known = Object.keys(options).map((o) => `--${o}`);
    const suggestion = didYouMean(flag, known, (f) => f);
    return `unknown flag ${flag}${suggestion ? `.${suggestion}` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = flag.replace(/,$/, '');
    return /argument missing/.test(messageOf(error)) ? `${name} needs a value` : `${name} takes no value`;
  }
  return messageOf(error);
}

// Explicit exit: the Temporal connection and pending timers must not keep the process alive.
process.exitCode = await main(process.argv.slice(2));
process.exit();
