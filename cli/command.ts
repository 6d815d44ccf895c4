/** The shape of one `kubemedic` command: its flags, its help and what it does. */
import type { ParseArgsConfig } from 'node:util';
import type { Context } from './context.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  /** One line for `kubemedic help`. */
  summary: string;
  /** The usage line after `kubemedic`, e.g. `show <run> [--run-id ID]`. */
  usage: string;
  /** Lines of help shown by `kubemedic <command> --help`, below the usage. */
  help: string[];
  options: Options;
  run(context: Context, args: string[], values: Record<string, unknown>): Promise<void>;
}

/** A command without its code: what help, usage errors and flag parsing need. */
export type CommandSpec = Omit<Command, 'run'>;

/** A string flag's value, or undefined. */
export const flag = (values: Record<string, unknown>, name: string) =>
  typeof values[name] === 'string' ? (values[name] as string) : undefined;

/** Who is acting, for --by: the flag, else the local user name. */
export const actor = (context: Context, values: Record<string, unknown>) =>
  flag(values, 'by') ?? context.flags.user;

export const byAndReason = {
  by: { type: 'string' },
  reason: { type: 'string' },
} as const;
