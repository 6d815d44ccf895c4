/**
 * Time inside a workflow. Temporal's sandbox replaces Date with the time of the workflow task
 * being processed, so this is the same on every replay: it is not a wall clock. The lint rule
 * against Date.now in workflows/ exists so that every read of time goes through here.
 */
// eslint-disable-next-line no-restricted-properties -- the one sanctioned read of workflow time
export const workflowTime = (): number => Date.now();
