/**
 * What to do next when the CLI cannot reach Temporal or Kubernetes, for the situation the user is
 * in: from a checkout of the repository against a loopback address, the local stack is the likely
 * fix; with an installed CLI against a loopback address, a port-forward that is not running; with
 * a remote address, the address itself, its credentials, or the kubeconfig context.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Situation {
  /** The CLI runs from a checkout, where `npm run devstack -- up` starts the local stack. */
  checkout: boolean;
}

export const currentSituation = (): Situation => ({
  checkout: existsSync(fileURLToPath(new URL('../devstack/cli.ts', import.meta.url))),
});

const localStack = '`npm run devstack -- up`';

/** Whether `host[:port]` or a URL names this machine. */
export function isLoopback(address: string): boolean {
  const host = /^[a-z]+:\/\//.test(address) ? new URL(address).hostname : address.replace(/:\d+$/, '');
  return /^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$/.test(host);
}

export function temporalFix(address: string, situation: Situation): string {
  const elsewhere = 'or point the CLI at your Temporal with --address or TEMPORAL_ADDRESS';
  if (isLoopback(address)) {
    return situation.checkout
      ? `cannot reach Temporal at ${address}: start the local stack with ${localStack}, ${elsewhere}`
      : `cannot reach Temporal at ${address}: if Temporal runs in a cluster, forward its frontend first ` +
          `(\`kubectl port-forward -n temporal svc/temporal-frontend ${portOf(address, '7233')}:7233\`), ${elsewhere}`;
  }
  return (
    `cannot reach Temporal at ${address}: check that it answers with ` +
    `\`temporal operator cluster health --address ${address}\` (TLS and API key: TEMPORAL_TLS_*, ` +
    `TEMPORAL_API_KEY), ${elsewhere}`
  );
}

/** The API server of `context` (the kubeconfig's current one when undefined) did not answer. */
export function kubernetesFix(server: string, context: string | undefined, situation: Situation): string {
  const choose = 'or choose the cluster with --context, --kubeconfig or KUBECONFIG';
  if (isLoopback(server) && situation.checkout)
    return `cannot reach Kubernetes at ${server}: start the local stack with ${localStack}, ${choose}`;
  const kubectl = context ? `kubectl --context ${context} cluster-info` : 'kubectl cluster-info';
  return `cannot reach Kubernetes at ${server}: check it with \`${kubectl}\`, ${choose} (\`kubectl config get-contexts\` lists them)`;
}

/** The kubeconfig could not be read. */
export function kubeconfigFix(situation: Situation): string {
  return (
    `choose one with --kubeconfig or KUBECONFIG` +
    (situation.checkout
      ? ' (for the local stack: `source .devstack/env`)'
      : ' (`kubectl config view` shows yours)')
  );
}

function portOf(address: string, fallback: string): string {
  return /:(\d+)$/.exec(address)?.[1] ?? fallback;
}

/**
 * No worker answered on `taskQueue`: the commands that show whether one polls it, in the cluster
 * (the chart's labels) and in Temporal.
 */
export function workerFix(taskQueue: string): string {
  return (
    '`kubectl get pods -A -l app.kubernetes.io/name=kubemedic,app.kubernetes.io/component=worker` ' +
    `lists the workers' Pods; \`temporal task-queue describe --task-queue ${taskQueue}\` shows whether any polls`
  );
}
