/** A run's status in words: shared by `show` and the outcome line of other commands. */
import type { RemediationStatus, StepRecord } from '../domain/run.ts';
import { policyLabel, targetDisplay } from '../domain/run.ts';
import { brief } from './output.ts';

export function describeApproval(status: RemediationStatus): string | undefined {
  const approval = status.approval;
  if (!approval) return status.phase === 'AwaitingApproval' ? 'awaiting a decision' : undefined;
  return `${approval.decision} by ${approval.by} (${approval.channel ?? approval.via})${approval.reason ? `: ${approval.reason}` : ''}`;
}

export const describeTarget = (status: Pick<RemediationStatus, 'target'>) => targetDisplay(status.target);

export const describePolicy = (status: Pick<RemediationStatus, 'policy'>) =>
  `${status.policy.kind} ${policyLabel(status.policy)} (generation ${status.policy.generation})`;

/** The lines of one escalation step: backup, action, verification, rollback or revert. */
export function describeStep(step: StepRecord): string[] {
  const lines = [`${step.index + 1}. ${step.action}`];
  if (step.backup) {
    lines.push(
      `   backup   ${step.backup.object.kind} ${[step.backup.object.namespace, step.backup.object.name].filter(Boolean).join('/')}` +
        ` ${fieldList(step.backup.fields)} (sha256 ${step.backup.hash.slice(0, 12)}, ${step.backup.capturedAt})`,
    );
  }
  if (step.executed) {
    const changes = step.executed.changes
      .map((c) => `${c.path} ${brief(c.before)} → ${brief(c.after)}`)
      .join(', ');
    lines.push(`   executed ${step.executed.summary}${changes ? ` [${changes}]` : ''}`);
  }
  if (step.verdict)
    lines.push(`   verified ${step.verdict.healthy ? 'healthy' : 'NOT healthy'}: ${step.verdict.reason}`);
  for (const kind of ['rollback', 'revert'] as const) {
    const undo = step[kind];
    if (undo) lines.push(`   ${kind.padEnd(8)} ${undo.outcome}: ${undo.reason}`);
  }
  return lines;
}

export const fieldList = (fields: Record<string, unknown>) =>
  Object.entries(fields)
    .map(([path, value]) => `${path}=${brief(value)}`)
    .join(', ');
