/** The workflow run that called the current activity: remediation activities always have one. */
import { Context } from '@temporalio/activity';

export function callingRun(): { workflowId: string; runId: string; namespace: string } {
  const { workflowExecution, workflowNamespace } = Context.current().info;
  if (!workflowExecution || !workflowNamespace) throw new Error('this activity runs only for a workflow');
  return { ...workflowExecution, namespace: workflowNamespace };
}
