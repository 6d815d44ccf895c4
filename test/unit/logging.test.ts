/** The processes' structured logger (domain/logging): one JSON object per line, with level, time and the run's policy. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { remediationWorkflowId } from '../../domain/run.ts';
import { createLogger, type LogLevel, logFn } from '../../domain/logging/logger.ts';
import { policyOfWorkflowId } from '../../domain/logging/run-fields.ts';
import { StructuredTemporalLogger } from '../../domain/logging/temporal-logger.ts';

/** A logger whose lines are kept, parsed, instead of written to stdout. */
function capture(level: LogLevel = 'INFO') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ process: 'worker', level, destination }) };
}

const target = { kind: 'Deployment', namespace: 'shop', name: 'web' } as const;

describe('the structured logger', () => {
  it('writes level as a word, an ISO time, the process, the message and the fields', () => {
    const { lines, logger } = capture();
    logger.warn({ workflowId: 'w1' }, 'something odd');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.level, 'warn');
    assert.equal(line?.process, 'worker');
    assert.equal(line?.msg, 'something odd');
    assert.equal(line?.workflowId, 'w1');
    assert.ok(
      !Number.isNaN(Date.parse(String(line?.time))) && String(line?.time).endsWith('Z'),
      String(line?.time),
    );
  });

  it('drops lines below the configured level', () => {
    const { lines, logger } = capture('WARN');
    logger.info('not this');
    logger.error('this');
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['this'],
    );
  });

  it("keeps an error's message and stack", () => {
    const { lines, logger } = capture();
    logFn(logger)('evaluation failed', { error: new Error('boom') }, 'error');
    const error = lines[0]?.error as { message?: string; stack?: string };
    assert.equal(lines[0]?.level, 'error');
    assert.equal(error.message, 'boom');
    assert.match(String(error.stack), /boom/);
  });
  it('takes a level given as a field as the level, not as a second level field', () => {
    const { lines, logger } = capture();
    logFn(logger)('receiver open', { level: 'warn', port: 8091 });
    assert.deepEqual(
      lines.map(({ level, port, msg }) => ({ level, port, msg })),
      [{ level: 'warn', port: 8091, msg: 'receiver open' }],
    );
  });
});

describe("the Temporal runtime's logger", () => {
  it("labels a remediation run's activity and workflow lines with its policy", () => {
    const { lines, logger } = capture();
    const temporal = new StructuredTemporalLogger(logger);
    const namespaced = remediationWorkflowId('c1', target, {
      kind: 'RemediationPolicy',
      namespace: 'shop',
      name: 'hot',
    });
    temporal.info('Activity completed', { workflowId: namespaced, activityType: 'executeAction' });
    temporal.log('WARN', 'action failed; escalating', { workflowId: namespaced, sdkComponent: 'workflow' });
    assert.deepEqual(
      lines.map(({ level, policy, policyNamespace, activityType }) => ({
        level,
        policy,
        policyNamespace,
        activityType,
      })),
      [
        { level: 'info', policy: 'hot', policyNamespace: 'shop', activityType: 'executeAction' },
        { level: 'warn', policy: 'hot', policyNamespace: 'shop', activityType: undefined },
      ],
    );
  });

  it('names a cluster policy without a namespace, and leaves other workflows alone', () => {
    const cluster = remediationWorkflowId(
      'c1',
      { kind: 'Node', name: 'n1' },
      {
        kind: 'ClusterRemediationPolicy',
        name: 'nodes',
      },
    );
    assert.deepEqual(policyOfWorkflowId(cluster), { policy: 'nodes' });
    assert.equal(policyOfWorkflowId('governor/c1/global'), undefined);
    assert.equal(policyOfWorkflowId(undefined), undefined);
  });
});
