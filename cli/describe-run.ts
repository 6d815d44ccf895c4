/** A run's status in words: shared by `show` and the outcome line of other commands. */
import type { RemediationStatus, StepRecord } from '../domain/run.ts';
import { policyLabel, targetDisplay } from '../domain/run.ts';
import { brief } from './output.ts';
import { type Evidence, evidenceSummary } from '../domain/evidence.ts';

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
  if (step.backup?.evidence) lines.push(...describeEvidence(step.backup.evidence));
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

/** Log lines `show` prints per container; `-o json` (the run's result) holds all that was kept. */
const shownLogLines = 10;

/**
 * The evidence kept before the action removed pods: one line per pod, then each container's last
 * log lines (or why there are none) and the pod's warnings.
 */
export function describeEvidence(evidence: Evidence): string[] {
  const lines = [`   evidence captured ${evidence.capturedAt} (before the pods were removed)`];
  for (const [i, summary] of evidenceSummary(evidence).entries()) {
    lines.push(`     ${summary}`);
    const pod = evidence.pods[i];
    if (!pod) continue;
    for (const container of pod.containers) {
      if (container.log === undefined) {
        lines.push(`       ${container.name}: ${container.logUnavailable ?? 'logs unavailable'}`);
        continue;
      }
      const log = container.log.trimEnd().split('\n').slice(-shownLogLines);
      lines.push(`       ${container.name} (${container.logOf} log, last ${log.length} lines):`);
      lines.push(...log.map((line) => `         | ${line}`));
    }
    if (pod.eventsUnavailable) lines.push(`       ${pod.eventsUnavailable}`);
    for (const event of pod.events.filter((e) => e.type === 'Warning').slice(0, 3))
      lines.push(`       ${event.type} ${event.reason} ×${event.count}: ${event.message}`);
  }
  return lines;
}
