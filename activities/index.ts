// The face of activities/ for the worker, the watcher and tests.
export {
  type ActivityDependencies,
  createRemediationActivities,
  type RemediationActivities,
} from './remediation.ts';
export { readConditions, targetKey, type TargetState } from './conditions/readings.ts';
export { combined, describeReadings } from './conditions/compare.ts';
export { labelSelectorText } from './conditions/targets.ts';
export { recordEvent } from './kube/events.ts';
export { parseDuration } from './duration.ts';
export { metricsRegistry } from './metrics.ts';
