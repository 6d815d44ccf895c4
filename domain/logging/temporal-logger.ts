/**
 * The Temporal runtime's logger (`Runtime.install({ logger })`) writing through the process's
 * structured logger: the SDK's own lines, the Rust core's (forwarded), activity lines (`log` of
 * @temporalio/activity, labelled by the SDK with workflowId, activityType, attempt…) and
 * workflow lines (`log` of @temporalio/workflow, which reach it through the SDK's logger sink
 * with workflowId, runId…). A remediation run's lines also get its policy.
 */
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import type { Logger } from './logger.ts';
import { policyOfWorkflowId } from './run-fields.ts';

export class StructuredTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    const fields = { ...meta, ...policyOfWorkflowId(meta.workflowId) };
    this.logger[level.toLowerCase() as Lowercase<LogLevel>](fields, message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
