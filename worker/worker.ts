/**
 * Builds the KubeMedic worker: the remediation workflow and its activities on one task queue
 * per cluster. Used by worker/main.ts and by tests that need a real worker.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createRemediationActivities } from '../activities/index.ts';
import type { Limits } from '../workflows/governor.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  kubeconfig: KubeConfig;
  prometheusUrl: string | undefined;
  /** Alertmanager's address, for verifying runs whose conditions are alerts. */
  alertmanagerUrl?: string;
  /** Limits the cluster's governor enforces across every policy. */
  globalLimits?: Limits;
  /** Runs acting at once in one namespace, across every policy. */
  maxConcurrentPerNamespace?: number;
  /** Namespaces never touched, besides the Kubernetes system namespaces (the chart adds its own). */
  protectedNamespaces?: string[];
  /** Refuse, at every backup and execute, namespaced policies that name no ServiceAccount. */
  requireServiceAccount?: boolean;
  /** KubeMedic's own namespace: where a cluster policy's notification Secrets live. */
  ownNamespace?: string;
  /** The Temporal Web UI's address, for links in notifications. */
  webUiUrl?: string;
  /** How long in-flight activities may finish on shutdown before they are cancelled. */
  shutdownGraceTime?: string;
}

export function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath,
    activities: createRemediationActivities({
      kubeconfig: options.kubeconfig,
      prometheusUrl: options.prometheusUrl,
      alertmanagerUrl: options.alertmanagerUrl,
      globalLimits: options.globalLimits,
      maxConcurrentPerNamespace: options.maxConcurrentPerNamespace,
      protectedNamespaces: options.protectedNamespaces,
      requireServiceAccount: options.requireServiceAccount,
      ownNamespace: options.ownNamespace,
      webUiUrl: options.webUiUrl,
    }),
    // The SDK default is 0: in-flight activities would be cancelled at once on SIGTERM.
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
    // Bounded, so memory stays flat however many remediations run (sdk-typescript#2227).
    maxCachedWorkflows: 200,
  });
}
