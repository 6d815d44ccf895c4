/**
 * A RunJob template held to Kubernetes' Pod Security Standard "restricted", before every create:
 * KubeMedic creates the Job with its own rights, so a template that asks for the host (its
 * network, PID or IPC namespace, a hostPath volume, a node by name), for privilege, or for
 * another ServiceAccount's identity would borrow them. Such a template is refused, naming each
 * field. What the standard requires and the template leaves unset (allowPrivilegeEscalation
 * false, capabilities dropped, runAsNonRoot, the RuntimeDefault seccomp profile) is filled in,
 * so a plain template still runs, and restricted.
 *
 * The CRD refuses the host, privilege and ServiceAccount fields at admission too (api/policy.ts);
 * this check is the one that holds for policies admitted before those rules, and for forged runs.
 */
import type { V1Container, V1JobSpec, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import { ActionError } from './actions.ts';

/** Capabilities the restricted standard lets a container add back. */
const addable = new Set(['NET_BIND_SERVICE']);
const allowedSeccomp = new Set(['RuntimeDefault', 'Localhost']);

const containersOf = (pod: V1PodSpec) =>
  [
    ['containers', pod.containers ?? []],
    ['initContainers', pod.initContainers ?? []],
    ['ephemeralContainers', pod.ephemeralContainers ?? []],
  ] as const;

/** Each field of the template that the restricted standard forbids, with why. */
export function restrictedViolations(job: V1JobSpec, serviceAccountName: string | undefined): string[] {
  const pod: V1PodSpec = job.template?.spec ?? { containers: [] };
  const at = (field: string) => `template.spec.${field}`;
  const violations: string[] = [];
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC'] as const)
    if (pod[host] === true) violations.push(`${at(host)} must not be true (host namespaces)`);
  if (pod.nodeName) violations.push(`${at('nodeName')} must not be set (the scheduler places the Job)`);
  (pod.volumes ?? []).forEach((volume, i) => {
    if (volume.hostPath) violations.push(`${at(`volumes[${i}].hostPath`)} is not allowed (host paths)`);
  });
  const account = pod.serviceAccountName ?? pod.serviceAccount;
  if (account !== undefined && account !== serviceAccountName)
    violations.push(
      `${at('serviceAccountName')} ${account} is not the policy's own ServiceAccount` +
        (serviceAccountName ? ` (${serviceAccountName})` : ' (it names none: leave the field unset)'),
    );
  if (pod.securityContext?.runAsNonRoot === false)
    violations.push(`${at('securityContext.runAsNonRoot')} must not be false`);
  if (pod.securityContext?.runAsUser === 0)
    violations.push(`${at('securityContext.runAsUser')} must not be 0`);
  const podSeccomp = pod.securityContext?.seccompProfile?.type;
  if (podSeccomp !== undefined && !allowedSeccomp.has(podSeccomp))
    violations.push(`${at('securityContext.seccompProfile.type')} must be RuntimeDefault or Localhost`);
  for (const [list, containers] of containersOf(pod))
    containers.forEach((container, i) =>
      violations.push(...containerViolations(container.securityContext, at(`${list}[${i}].securityContext`))),
    );
  return violations;
}

function containerViolations(context: V1SecurityContext | undefined, at: string): string[] {
  if (context === undefined) return [];
  const violations: string[] = [];
  if (context.privileged === true) violations.push(`${at}.privileged must not be true`);
  if (context.allowPrivilegeEscalation === true)
    violations.push(`${at}.allowPrivilegeEscalation must not be true`);
  if (context.runAsNonRoot === false) violations.push(`${at}.runAsNonRoot must not be false`);
  if (context.runAsUser === 0) violations.push(`${at}.runAsUser must not be 0`);
  const added = (context.capabilities?.add ?? []).filter((c) => !addable.has(c));
  if (added.length > 0)
    violations.push(`${at}.capabilities.add may hold only NET_BIND_SERVICE, not ${added.join(', ')}`);
  if (context.capabilities?.drop !== undefined && !context.capabilities.drop.includes('ALL'))
    violations.push(`${at}.capabilities.drop must include ALL`);
  const seccomp = context.seccompProfile?.type;
  if (seccomp !== undefined && !allowedSeccomp.has(seccomp))
    violations.push(`${at}.seccompProfile.type must be RuntimeDefault or Localhost`);
  if (context.procMount !== undefined && context.procMount !== 'Default')
    violations.push(`${at}.procMount must be Default`);
  return violations;
}

/** The restricted defaults in every container that leaves them unset; the template is not changed. */
function restrictedContainer<C extends V1Container>(container: C): C {
  const context = container.securityContext ?? {};
  return {
    ...container,
    securityContext: {
      ...context,
      allowPrivilegeEscalation: context.allowPrivilegeEscalation ?? false,
      runAsNonRoot: context.runAsNonRoot ?? true,
      capabilities: { ...context.capabilities, drop: context.capabilities?.drop ?? ['ALL'] },
    },
  };
}

/**
 * The JobSpec to create: refused (Forbidden, every offending field named) when it breaks the
 * restricted standard, otherwise the template with the standard's defaults filled in.
 */
export function restrictedJobSpec(job: V1JobSpec, serviceAccountName: string | undefined): V1JobSpec {
  const violations = restrictedViolations(job, serviceAccountName);
  if (violations.length > 0)
    throw new ActionError(
      'Forbidden',
      `the runJob template breaks the restricted Pod Security Standard: ${violations.join('; ')}`,
    );
  const pod: V1PodSpec = job.template?.spec ?? { containers: [] };
  return {
    ...job,
    template: {
      ...job.template,
      spec: {
        ...pod,
        securityContext: {
          ...pod.securityContext,
          seccompProfile: pod.securityContext?.seccompProfile ?? { type: 'RuntimeDefault' },
        },
        containers: pod.containers.map(restrictedContainer),
        ...(pod.initContainers ? { initContainers: pod.initContainers.map(restrictedContainer) } : {}),
        ...(pod.ephemeralContainers
          ? { ephemeralContainers: pod.ephemeralContainers.map(restrictedContainer) }
          : {}),
      },
    },
  };
}
