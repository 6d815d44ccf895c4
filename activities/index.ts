// The face of activities/ for the worker (which hosts them), the workflows (as proxy types only)
// and the CLI's by-hand restore.
export {
  type ActivityDependencies,
  createRemediationActivities,
  type PhaseInput,
  type RemediationActivities,
} from './remediation.ts';
export type { DefaultSinkSummary, SinkChoice } from './notify.ts';
export { metricsRegistry } from './metrics.ts';
export { restoreByHand } from './actions/index.ts';
