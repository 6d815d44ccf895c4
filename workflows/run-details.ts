/**
 * The run's "current details" in the Temporal Web UI: markdown that says where the run stands
 * and, for each rung of the ladder, what the backup holds, what the action wrote, what
 * verification found and what the rollback did. Pure (it runs in the workflow sandbox); it is
 * kept in workflow metadata, not in commands, so it can change without a patch.
 */
import type { RemediationStatus, StepRecord } from '../domain/run.ts';
import { policyLabel, targetDisplay } from '../domain/run.ts';
import { evidenceSummary } from '../domain/evidence.ts';

const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

function fieldList(fields: Record<string, unknown>): string {
  const entries = Object.entries(fields);
  return entries.length === 0
    ? 'nothing'
    : entries.map(([path, value]) => `\`${path}\` = ${code(value)}`).join(', ');
}

function describeStep(step: StepRecord): string[] {
  const lines = [`**Step ${step.index + 1}: ${step.action}**`];
  if (step.backup) {
    lines.push(
      `- backup of ${step.backup.object.kind} ${step.backup.object.name} at ${step.backup.capturedAt} (sha256 ${step.backup.hash.slice(0, 12)}…): ${fieldList(step.backup.fields)}`,
    );
  }
  if (step.backup?.evidence) {
    lines.push(
      `- evidence kept before the pods were removed (\`kubemedic show\` prints their logs): ${evidenceSummary(step.backup.evidence).join('; ')}`,
    );
  }
  if (step.executed)
    lines.push(`- executed: ${step.executed.summary}; wrote ${fieldList(step.executed.written)}`);
  if (step.verdict)
    lines.push(
      `- verification: ${step.verdict.healthy ? 'healthy' : 'still unhealthy'} — ${step.verdict.reason}`,
    );
  if (step.rollback) lines.push(`- rollback: ${step.rollback.outcome} — ${step.rollback.reason}`);
  if (step.revert) lines.push(`- revert: ${step.revert.outcome} — ${step.revert.reason}`);
  return lines;
}

export function runDetails(status: RemediationStatus): string {
  return [
    `**Phase** ${status.phase}${status.dryRun ? ' (dry run: nothing is changed)' : ''}`,
    `**Target** ${targetDisplay(status.target)} · **Policy** \`${policyLabel(status.policy)}\``,
    ...(status.approval
      ? [
          `**Approval** ${status.approval.decision} by ${status.approval.by} via ${status.approval.via}${status.approval.reason ? `: ${status.approval.reason}` : ''}`,
        ]
      : []),
    ...status.steps.flatMap(describeStep),
    ...(status.outcome ? [`**Outcome** ${status.outcome}: ${status.reason ?? ''}`] : []),
  ].join('\n\n');
}
