/**
 * One structured logger for the worker and the watcher processes: one JSON object per line on
 * stdout, with `level` (as a word), `time` (ISO 8601), `process`, the message as `msg`, and the
 * fields of the call (a run's workflowId and policy, a policy's name and namespace). Log
 * collectors (Loki, Cloud Logging, Elasticsearch) read it as is. The CLI does not use it: its
 * output is for people.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** The levels the configuration offers (domain/config), as Temporal names them. */
export const logLevels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  /** `worker` or `watcher`: every line says which process wrote it. */
  process: string;
  level: LogLevel;
  /** Fields for every line, computed when it is written (the active trace's id, when tracing is on). */
  mixin?: () => Record<string, unknown>;
  /** Where the lines go; stdout unless a test reads them. */
  destination?: DestinationStream;
}

export function createLogger({ process, level, mixin, destination }: LoggerOptions): Logger {
  return pino(
    {
      level: level.toLowerCase(),
      base: { process },
      timestamp: pino.stdTimeFunctions.isoTime,
      // `"level":"warn"` rather than pino's number, so a reader needs no table.
      formatters: { level: (label) => ({ level: label }) },
      // Errors under the names our call sites use keep their message and stack (not `{}`).
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      ...(mixin === undefined ? {} : { mixin }),
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * A logging function in the shape the watcher's modules take (message first, then fields, then
 * the level when it is not info; a `level` field is taken as the level too), so they need no
 * logger object and tests can pass `() => undefined`.
 */
export type LogFn = (message: string, fields?: Record<string, unknown>, level?: LineLevel) => void;
type LineLevel = 'info' | 'warn' | 'error';
const lineLevels: readonly unknown[] = ['info', 'warn', 'error'] satisfies LineLevel[];

export const logFn =
  (logger: Logger): LogFn =>
  (message, fields = {}, level) => {
    const { level: named, ...rest } = fields;
    logger[level ?? (lineLevels.includes(named) ? (named as LineLevel) : 'info')](rest, message);
  };
