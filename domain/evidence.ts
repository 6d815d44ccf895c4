/**
 * What an action that removes pods (RestartPod, DrainNode) keeps of them first, for the person
 * who will ask why: each pod's status, its recent Events and its containers' last log lines.
 * It lives in the backup, so in the run's history, its result and `kubemedic show`; pure types
 * and text here (the workflow sandbox and the CLI import them), the capture is
 * activities/actions/evidence.ts.
 *
 * Bounded so a backup stays far below Temporal's payload limits (2 MB per payload by default,
 * a warning from 512 KB): see `evidenceBounds`.
 */

export const evidenceBounds = {
  /** Pods described; a drain of a bigger node names the rest only by count. */
  pods: 10,
  /** Last lines of each container's log... */
  logLines: 50,
  /** ...and at most this many bytes of them (the API server's limitBytes). */
  logBytes: 8 * 1024,
  /** Most recent Events per pod. */
  events: 10,
  /** Characters kept of one Event message or status message. */
  message: 300,
  /** The whole evidence as JSON; past it, logs are dropped from the last pod backwards. */
  totalBytes: 64 * 1024,
} as const;

export interface ContainerEvidence {
  name: string;
  ready: boolean;
  restartCount: number;
  /** `running`, `waiting: CrashLoopBackOff (back-off 5m0s ...)`, `terminated: Error (exit 1)`. */
  state: string;
  /** How its previous instance ended, when it restarted. */
  lastState?: string;
  /** Which log `log` holds: the previous instance's for a container that crashed. */
  logOf: 'current' | 'previous';
  /** The last lines (bounded), or undefined when they could not be read (see `logUnavailable`). */
  log?: string;
  /** `logs unavailable: <reason>`: no kubelet answered, no rights, dropped for size. */
  logUnavailable?: string;
}

export interface EventEvidence {
  type: string;
  reason: string;
  message: string;
  count: number;
  /** When it was last seen (ISO 8601). */
  lastSeen: string;
}

export interface PodEvidence {
  namespace: string;
  name: string;
  uid: string;
  phase: string;
  node?: string;
  /** Pod conditions that are not True, with their reason. */
  conditions: string[];
  containers: ContainerEvidence[];
  events: EventEvidence[];
  /** `events unavailable: <reason>` when they could not be listed. */
  eventsUnavailable?: string;
}

export interface Evidence {
  capturedAt: string;
  pods: PodEvidence[];
  /** Pods that would be removed but are not described (past `evidenceBounds.pods`). */
  omittedPods: number;
  bounds: typeof evidenceBounds;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line per pod: what a notification, the Web UI and `kubemedic explain` say. */
export function evidenceSummary(evidence: Evidence): string[] {
  const lines = evidence.pods.map((pod) => {
    const containers = pod.containers
      .map((c) => `${c.name} ${c.state}${c.restartCount > 0 ? `, ${plural(c.restartCount, 'restart')}` : ''}`)
      .join('; ');
    const logs = pod.containers.filter((c) => c.log !== undefined).length;
    const warning = pod.events.find((e) => e.type === 'Warning');
    return (
      `${pod.namespace}/${pod.name} (${pod.phase}${pod.node ? ` on ${pod.node}` : ''}): ${containers || 'no containers'}; ` +
      `${logs}/${plural(pod.containers.length, 'container')} with logs, ${plural(pod.events.length, 'Event')}` +
      (warning ? `; last warning ${warning.reason}: ${warning.message}` : '')
    );
  });
  if (evidence.omittedPods > 0) lines.push(`and ${plural(evidence.omittedPods, 'more pod')} not described`);
  return lines;
}
