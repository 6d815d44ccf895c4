/**
 * The face of api/: the policy schemas and types (the one source of truth for the CRDs) and the
 * builders of the CustomResourceDefinitions generated from them.
 */
export * from './policy.ts';
export * from './crd.ts';
export * from './decision.ts';
