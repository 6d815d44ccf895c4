/**
 * Exit codes that mean something to a script, and the one error type every command throws.
 * Messages name the fix, so a person reading them knows what to do next.
 */
export const exitCodes = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  refused: 4,
  unreachable: 5,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

export const exitCodeHelp: [ExitCode, string][] = [
  [exitCodes.ok, 'done'],
  [exitCodes.error, 'an unexpected error (the message says which)'],
  [exitCodes.usage, 'usage error: unknown command, flag or missing argument, or a bad environment variable'],
  [exitCodes.notFound, 'not found: no such run, governor or policy'],
  [
    exitCodes.refused,
    'refused: e.g. the run is not awaiting approval, has ended, or a restore meets a conflict',
  ],
  [exitCodes.unreachable, 'cannot reach Temporal, Kubernetes, or a worker to answer'],
];

export class CliError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(exitCodes.usage, message);
export const notFound = (message: string) => new CliError(exitCodes.notFound, message);
export const refused = (message: string) => new CliError(exitCodes.refused, message);
export const unreachable = (message: string) => new CliError(exitCodes.unreachable, message);

export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
