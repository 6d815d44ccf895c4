/**
 * The `kubemedic` command: parses the command line (node:util parseArgs), runs one command, and
 * exits with a code that means something (see errors.ts and `kubemedic help`).
 */
import { NamespaceNotFoundError } from '@temporalio/common';
import { cliConfig } from '../domain/config/cli.ts';
import { ConfigurationError } from '../domain/config/environment.ts';
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { commands } from './commands/index.ts';
import { type Context, createContext, globalFlags, globalOptions } from './context.ts';
import { CliError, type ExitCode, exitCodes, messageOf, notFound, usageError } from './errors.ts';
import { commandHelp, generalHelp } from './help.ts';
import { createOutput } from './output.ts';

export async function main(argv: string[]): Promise<ExitCode> {
  // A first, lenient pass finds the command even after global flags with values (--cluster x list).
  const name = parseArgs({ args: argv, options: globalOptions, strict: false, allowPositionals: true })
    .positionals[0];
  const json = argv.includes('--json');
  const out = createOutput(json);
  let context: Context | undefined;
  try {
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? argv[argv.indexOf('help') + 1] : undefined;
      const command = commands.find((c) => c.name === topic);
      out.line(command ? commandHelp(command) : generalHelp(commands));
      return name === undefined && !argv.includes('--help') && !argv.includes('-h')
        ? exitCodes.usage
        : exitCodes.ok;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) throw usageError(`unknown command ${name}: see \`kubemedic help\``);
    const { values, positionals } = parse(command, argv);
    if (values.help === true) {
      out.line(commandHelp(command));
      return exitCodes.ok;
    }
    context = createContext(globalFlags(values, cliConfig(process.env)), out);
    await command.run(context, positionals.slice(1), values);
    return exitCodes.ok;
  } catch (error) {
    const known = knownError(error);
    const code = known instanceof CliError ? known.code : exitCodes.error;
    const message = messageOf(known);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    process.stderr.write(`kubemedic: ${message}\n`);
    if (code === exitCodes.usage) process.stderr.write('Run `kubemedic help` for usage.\n');
    return code;
  } finally {
    await context?.close();
  }
}

/** Temporal's own errors that have a fix to name, and a bad environment (a usage error). */
function knownError(error: unknown): unknown {
  if (error instanceof ConfigurationError) return usageError(error.message);
  if (error instanceof NamespaceNotFoundError) {
    return notFound(`${error.message}: name an existing one with --temporal-namespace or TEMPORAL_NAMESPACE`);
  }
  return error;
}

function parse(command: Command, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...globalOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError(`${messageOf(error)} (see \`kubemedic ${command.name} --help\`)`);
  }
}

// Explicit exit: the Temporal connection and pending timers must not keep the process alive.
process.exitCode = await main(process.argv.slice(2));
process.exit();
