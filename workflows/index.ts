// The workflows the worker registers. Nothing here may do I/O: Temporal replays this code.
export { remediation } from './remediation.ts';
export { governor } from './governor.ts';
