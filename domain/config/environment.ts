/**
 * How a process reads its configuration: its environment (the chart sets it), parsed once at
 * start by that process's zod schema (worker.ts, watcher.ts, cli.ts) into a typed value that is
 * passed down. Every variable's schema carries its documentation in `variableDocs`, and
 * docs/configuration.md is generated from it (reference.ts), so the table is what the code reads.
 */
import { z } from 'zod';

export interface VariableDoc {
  /** What the variable sets, for the table. */
  description: string;
  /** The values allowed, in words: the table's column and the error for a bad value. */
  allowed: string;
  /** What an unset or empty variable means, written as its value would be. */
  default?: string;
  /** The chart value that sets it (charts/kubemedic/values.yaml), if one does. */
  chart?: string;
}

/** Each variable's documentation, found by its schema. */
export const variableDocs = z.registry<VariableDoc>();

/** A schema that reads one variable's text. */
type FromText<T> = z.ZodType<T>;

/** A variable that may be unset (or empty, which the chart writes for "not set"). */
export const optional = <T>(schema: FromText<T>, doc: Omit<VariableDoc, 'default'>) =>
  schema.optional().register(variableDocs, doc);

/** A variable with a default, given as text and read by the same schema as a set value. */
export const withDefault = <T>(schema: FromText<T>, doc: VariableDoc & { default: string }) =>
  schema.prefault(doc.default).register(variableDocs, doc);

export type Environment = Readonly<Record<string, string | undefined>>;

/** A configuration that cannot be used; the message names each bad variable and what it allows. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigurationError';
  }
}

/** Reads the schema's variables from `env`; throws a ConfigurationError that names every bad one. */
export function parseEnvironment<S extends z.ZodObject>(schema: S, env: Environment): z.output<S> {
  const input = Object.fromEntries(
    Object.keys(schema.shape).map((name) => [name, env[name] === '' ? undefined : env[name]]),
  );
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ConfigurationError(
    parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '');
      const doc = schema.shape[name] && variableDocs.get(schema.shape[name]);
      // Checks across variables (a certificate without its key) say what is wrong themselves.
      return doc ? `${name}=${JSON.stringify(input[name])} is not allowed: ${doc.allowed}` : issue.message;
    }),
  );
}

/**
 * A process's configuration from process.env, or its problems on stderr and exit code 78
 * (EX_CONFIG): a bad value stops the process at start, before it connects to anything.
 */
export function configurationOf<T>(processName: string, read: (env: Environment) => T): T {
  try {
    return read(process.env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    process.stderr.write(`${processName}: ${error.message}\n`);
    process.exit(78);
  }
}
