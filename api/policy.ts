/**
 * RemediationPolicy and ClusterRemediationPolicy, group remediation.kubemedic.io, v1alpha1.
 * This zod schema is the one source of truth: the CRDs in charts/kubemedic/crds are generated
 * from it (api/crd.ts), TypeScript types are inferred from it, and the watcher parses every
 * policy with it. Cross-field rules are CEL (`x-kubernetes-validations`) so the API server
 * refuses a bad policy itself; what CEL cannot say is checked by the watcher (policy-watcher/policies.ts).
 */
import { z } from 'zod';
import { durationPattern, parseDuration } from '../domain/duration.ts';
import { declarationOf } from '../domain/action-catalogue.ts';

export const group = 'remediation.kubemedic.io';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

const cel = (rule: string, message: string) => ({ rule, message });
const validations = (...rules: { rule: string; message: string }[]) => ({
  'x-kubernetes-validations': rules,
});

/**
 * Every name a tenant writes that KubeMedic puts in a request path or an object: a DNS-1123
 * subdomain (an object's name) or label (a namespace, a container), as the API server itself
 * requires, so `../other-namespace/…` or `%2F` never reach a request.
 */
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const objectName = () =>
  z.string().min(1).max(253).regex(dns1123Subdomain, 'a Kubernetes object name (DNS-1123 subdomain)');
const labelName = (what: string) =>
  z.string().min(1).max(63).regex(dns1123Label, `a ${what} name (DNS-1123 label)`);

/**
 * A duration, within `bounds` when given: checked by zod (the watcher) and by CEL (the API
 * server), so `evaluationInterval: 0s`, a zero timeout or a cooldown of years is refused at
 * admission with the bound named. Kept short, so CEL's cost estimate stays small.
 */
const duration = (description: string, bounds: { min?: string; max?: string } = {}) => {
  const within = (text: string, bound: string, ok: (ms: number, limit: number) => boolean) => {
    try {
      return ok(parseDuration(text), parseDuration(bound));
    } catch {
      return true; // the pattern reports what is wrong with it
    }
  };
  const { min, max } = bounds;
  let schema = z.string().max(32).regex(durationPattern, 'a duration such as 30s, 5m or 1h30m');
  if (min) schema = schema.refine((t) => within(t, min, (ms, limit) => ms >= limit), `at least ${min}`);
  if (max) schema = schema.refine((t) => within(t, max, (ms, limit) => ms <= limit), `at most ${max}`);
  const rules = [
    ...(min ? [cel(`duration(self) >= duration('${min}')`, `at least ${min}`)] : []),
    ...(max ? [cel(`duration(self) <= duration('${max}')`, `at most ${max}`)] : []),
  ];
  return schema.meta({ description, ...(rules.length > 0 ? validations(...rules) : {}) });
};
/** Timeouts: zero would give up before starting; a week is longer than anyone waits. */
const timeoutBounds = { min: '1s', max: '168h' };

/**
 * A range PromQL itself accepts (`[5m]`): whole numbers of a unit, no fractions (PromQL refuses
 * `1.5m`), and at least a second.
 */
const promqlRange = (description: string) =>
  z
    .string()
    .max(32)
    .regex(/^([0-9]+(ms|s|m|h))+$/, 'a PromQL range such as 5m or 1h30m (whole numbers, no fractions)')
    .meta({ description, ...validations(cel(`duration(self) >= duration('1s')`, 'at least 1s')) });

const labelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z.object({
          key: z.string().min(1),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string()).optional(),
        }),
      )
      .optional(),
  })
  .meta({ description: 'A Kubernetes label selector.' });

const namespacedTargetKind = z.enum(['Deployment', 'StatefulSet', 'Pod']);
const clusterTargetKind = z.enum(['Deployment', 'StatefulSet', 'Pod', 'Node']);
export type TargetKind = z.infer<typeof clusterTargetKind>;

const nameOrSelector = cel(
  'has(self.name) != has(self.selector)',
  'set exactly one of target.name or target.selector',
);

const namespacedTarget = z
  .object({
    kind: namespacedTargetKind,
    name: objectName().optional().meta({ description: 'One object by name.' }),
    selector: labelSelector.optional(),
  })
  .meta({
    description: 'What the policy acts on, inside the policy namespace only.',
    ...validations(nameOrSelector),
  });

const clusterTarget = z
  .object({
    kind: clusterTargetKind,
    name: objectName().optional(),
    selector: labelSelector.optional(),
    namespaces: z
      .array(labelName('namespace'))
      .optional()
      .meta({ description: 'Namespaces to look in (not for Node).' }),
    namespaceSelector: labelSelector.optional(),
  })
  .meta({
    description: 'What the policy acts on, in the namespaces named or selected; Nodes are cluster-wide.',
    ...validations(
      nameOrSelector,
      cel(
        "self.kind == 'Node' ? !has(self.namespaces) && !has(self.namespaceSelector) : has(self.namespaces) != has(self.namespaceSelector)",
        'a Node target takes no namespaces; any other kind needs exactly one of namespaces or namespaceSelector',
      ),
    ),
  });

/** An Alertmanager matcher: name, operator, then a double-quoted value (\" \\ \n escapes) or a bare word. */
export const alertMatcherPattern =
  /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^\s"]*)\s*$/;

export const conditionOperator = z.enum(['>', '>=', '<', '<=', '==', '!=']);

export const condition = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label')
      .max(63),
    source: z.enum(['Prometheus', 'Kubernetes', 'Metrics', 'Alertmanager']),
    prometheus: z
      .object({
        query: z.string().min(1).optional().meta({
          description: 'PromQL; its series map to targets by namespace and pod/deployment/node labels.',
        }),
        shorthand: z.enum(['CPU', 'Memory', 'ErrorRate', 'Restarts']).optional(),
        against: z
          .enum(['Requests', 'Limits'])
          .optional()
          .meta({ description: 'For CPU and Memory: the ratio base.' }),
        window: promqlRange('Range for rate() and increase() in shorthands.').optional(),
      })
      .optional()
      .meta(
        validations(cel('has(self.query) != has(self.shorthand)', 'set exactly one of query or shorthand')),
      ),
    kubernetes: z
      .object({
        state: z.enum([
          'Restarts',
          'CrashLoopBackOff',
          'OOMKilled',
          'DeploymentUnavailable',
          'PodPending',
          'NodeNotReady',
        ]),
        window: duration('For Restarts: count restarts within this window.').optional(),
        per: z.enum(['Pod', 'Workload']).default('Pod').meta({
          description:
            "For Restarts: Pod compares the worst Pod's restarts with the threshold (a Pod restarted more than N times); Workload adds up all the target's Pods.",
        }),
      })
      .optional(),
    metrics: z
      .object({
        resource: z.enum(['CPU', 'Memory']),
        against: z.enum(['Requests', 'Limits']).default('Requests'),
      })
      .optional(),
    alertmanager: z
      .object({
        matchers: z
          .array(
            z
              .string()
              .regex(alertMatcherPattern, 'an Alertmanager matcher such as severity=~"crit.*"')
              .max(1024),
          )
          .min(1)
          .max(16)
          .meta({ description: 'Alertmanager matchers (name="v", !=, =~, !~); an alert must meet all.' }),
        targetLabel: z.string().min(1).optional().meta({
          description:
            'The alert label that names the target; by default the target kind in lower case (deployment, statefulset, pod, node). The namespace label must be the target namespace, and a pod label naming one of its Pods also counts.',
        }),
      })
      .optional()
      .meta({
        description:
          "The reading is the number of firing alerts (from Alertmanager's webhook) that match and are about the target; an alert (fingerprint and startsAt) starts one run per target at most. for counts from when the watcher first hears of it, on top of the rule's own for.",
      }),
    operator: conditionOperator.default('>'),
    threshold: z.number(),
    for: duration('How long the condition must hold before it fires.').default('0s'),
  })
  .meta({
    description: 'One signal compared with a threshold for a duration.',
    ...validations(
      cel(
        "self.source != 'Prometheus' || has(self.prometheus)",
        'source Prometheus needs the prometheus block',
      ),
      cel(
        "self.source != 'Kubernetes' || has(self.kubernetes)",
        'source Kubernetes needs the kubernetes block',
      ),
      cel("self.source != 'Metrics' || has(self.metrics)", 'source Metrics needs the metrics block'),
      cel(
        "self.source != 'Alertmanager' || has(self.alertmanager)",
        'source Alertmanager needs the alertmanager block',
      ),
    ),
  });
export type Condition = z.infer<typeof condition>;

const quantities = z.record(z.string(), z.string());

export const actionTypes = [
  'Scale',
  'RestartPod',
  'RolloutRestart',
  'RollbackDeployment',
  'UpdateResources',
  'AdjustHPA',
  'CordonNode',
  'DrainNode',
  'Webhook',
  'RunJob',
] as const;
export type ActionType = (typeof actionTypes)[number];

type CelRule = ReturnType<typeof cel>;

/** An action needs its parameter block (from the action catalogue) and no other. */
function parameterBlockRules(): CelRule[] {
  return actionTypes.flatMap((type) => {
    const block = declarationOf(type).parameters;
    return block === undefined
      ? []
      : [
          cel(
            `(self.type == '${type}') == has(self.${block})`,
            `action ${type} needs the ${block} block, and only it`,
          ),
        ];
  });
}

/**
 * A RunJob's JobSpec, kept as written (every level preserves unknown fields) except for the
 * fields the restricted Pod Security Standard forbids, which are declared so CEL can refuse them
 * at admission. The worker checks the whole standard again before every create, and the watcher
 * marks a policy Invalid by the same check (domain/pod-security.ts), the policy's own
 * ServiceAccount included, which CEL here cannot see.
 */
const keepUnknown = { 'x-kubernetes-preserve-unknown-fields': true } as const;
const flag = z.boolean().optional();
const isTrue = (field: string) => `(has(${field}) && ${field})`;
const jobContainer = z
  .looseObject({
    securityContext: z
      .looseObject({ privileged: flag, allowPrivilegeEscalation: flag })
      .optional()
      .meta(keepUnknown),
  })
  .meta(keepUnknown);
const unprivileged = (list: string) =>
  `!has(self.${list}) || self.${list}.all(c, !has(c.securityContext) || ` +
  `!(${isTrue('c.securityContext.privileged')} || ${isTrue('c.securityContext.allowPrivilegeEscalation')}))`;
const jobPodSpec = z
  .looseObject({
    hostNetwork: flag,
    hostPID: flag,
    hostIPC: flag,
    nodeName: z.string().optional(),
    volumes: z
      .array(z.looseObject({ hostPath: z.looseObject({}).optional().meta(keepUnknown) }).meta(keepUnknown))
      .max(128)
      .optional(),
    containers: z.array(jobContainer).max(64).optional(),
    initContainers: z.array(jobContainer).max(64).optional(),
  })
  .meta({
    ...keepUnknown,
    ...validations(
      cel(
        `!(${isTrue('self.hostNetwork')} || ${isTrue('self.hostPID')} || ${isTrue('self.hostIPC')})`,
        'runJob: hostNetwork, hostPID and hostIPC are not allowed (restricted Pod Security Standard)',
      ),
      cel('!has(self.nodeName)', 'runJob: nodeName is not allowed; the scheduler places the Job'),
      cel(
        '!has(self.volumes) || self.volumes.all(v, !has(v.hostPath))',
        'runJob: hostPath volumes are not allowed (restricted Pod Security Standard)',
      ),
      cel(
        `(${unprivileged('containers')}) && (${unprivileged('initContainers')})`,
        'runJob: privileged containers and allowPrivilegeEscalation are not allowed (restricted Pod Security Standard)',
      ),
    ),
  });
const jobTemplate = z
  .looseObject({
    template: z.looseObject({ spec: jobPodSpec.optional() }).optional().meta(keepUnknown),
  })
  .meta({ ...keepUnknown, description: 'A batch/v1 JobSpec, held to the restricted Pod Security Standard.' });

export const action = z
  .object({
    type: z.enum(actionTypes),
    timeout: duration(
      "This rung's execute, all its retries included, may take this long; past it the step has failed: it is rolled back and the next action is tried (as medik8s' escalating remediations time out each one).",
      timeoutBounds,
    ).optional(),
    scale: z
      .object({
        replicas: z.number().int().min(1).optional(),
        factor: z.number().gt(0).optional(),
        maxReplicas: z.number().int().min(1).optional().meta({ description: 'Never scale above this.' }),
        maxFactor: z
          .number()
          .gt(1)
          .max(10)
          .default(2)
          .meta({ description: 'Never scale up by more than this factor of the current count in one run.' }),
      })
      .optional()
      .meta(
        validations(cel('has(self.replicas) != has(self.factor)', 'set exactly one of replicas or factor')),
      ),
    updateResources: z
      .object({
        container: labelName('container'),
        requests: quantities.optional(),
        limits: quantities.optional(),
      })
      .optional()
      .meta(validations(cel('has(self.requests) || has(self.limits)', 'set requests, limits or both'))),
    adjustHPA: z
      .object({
        name: objectName()
          .optional()
          .meta({ description: 'Defaults to the HPA whose scaleTargetRef is the target.' }),
        minReplicas: z.number().int().min(1).optional(),
        maxReplicas: z.number().int().min(1).optional(),
      })
      .optional()
      .meta(
        validations(
          cel('has(self.minReplicas) || has(self.maxReplicas)', 'set minReplicas, maxReplicas or both'),
        ),
      ),
    drainNode: z
      .object({
        timeout: duration('Give up evicting after this long.', timeoutBounds).default('5m'),
      })
      .optional(),
    webhook: z
      .object({
        url: z.string().regex(/^https?:\/\//, 'an http(s) URL'),
        rollbackUrl: z
          .string()
          .regex(/^https?:\/\//, 'an http(s) URL')
          .optional(),
        timeout: duration('Request timeout.', { min: '100ms', max: '5m' }).default('10s'),
      })
      .optional(),
    runJob: z
      .object({
        template: jobTemplate,
        timeout: duration('Wait this long for the Job to finish.', timeoutBounds).default('10m'),
      })
      .optional(),
  })
  .meta({
    description: 'One step of the escalation ladder.',
    ...validations(...parameterBlockRules()),
  });
export type Action = z.infer<typeof action>;

/** What a notification is about; a sink hears every one unless it lists some. */
export const notificationEvents = [
  'AwaitingApproval',
  'Succeeded',
  'Failed',
  'RolledBack',
  'RollbackConflict',
  'Skipped',
  'NeedsAttention',
] as const;
export type NotificationEvent = (typeof notificationEvents)[number];

/** A key of a Secret: in the policy's namespace (a cluster policy's and a default sink's: KubeMedic's own). */
const secretKeyRef = (description: string) =>
  z
    .object({
      name: objectName(),
      key: z
        .string()
        .min(1)
        .max(253)
        .regex(/^[-._a-zA-Z0-9]+$/, 'a Secret key'),
    })
    .meta({ description });

/** Where PagerDuty's Events API v2 takes events unless a sink names another endpoint. */
export const pagerDutyEventsUrl = 'https://events.pagerduty.com/v2/enqueue';

interface SinkFields {
  type: string;
  urlSecretRef?: unknown;
  routingKeySecretRef?: unknown;
  eventsUrl?: string;
  secretRef?: unknown;
}
/** Which fields each sink type takes: CEL for the API server, `holds` for zod (the watcher, the worker's default sinks). */
const sinkRules: { rule: string; message: string; holds: (sink: SinkFields) => boolean }[] = [
  {
    rule: "self.type == 'PagerDuty' || has(self.urlSecretRef)",
    message: 'a Webhook, Slack or MSTeams sink needs urlSecretRef',
    holds: (s) => s.type === 'PagerDuty' || s.urlSecretRef !== undefined,
  },
  {
    rule: "self.type != 'PagerDuty' || (has(self.routingKeySecretRef) && !has(self.urlSecretRef))",
    message: 'a PagerDuty sink needs routingKeySecretRef (and takes eventsUrl, not urlSecretRef)',
    holds: (s) =>
      s.type !== 'PagerDuty' || (s.routingKeySecretRef !== undefined && s.urlSecretRef === undefined),
  },
  {
    rule: "self.type == 'PagerDuty' || (!has(self.routingKeySecretRef) && !has(self.eventsUrl))",
    message: 'routingKeySecretRef and eventsUrl are for PagerDuty sinks only',
    holds: (s) =>
      s.type === 'PagerDuty' || (s.routingKeySecretRef === undefined && s.eventsUrl === undefined),
  },
  {
    rule: "self.type == 'Webhook' || !has(self.secretRef)",
    message: 'only a Webhook sink is signed (secretRef)',
    holds: (s) => s.type === 'Webhook' || s.secretRef === undefined,
  },
  {
    rule: "!has(self.eventsUrl) || (isURL(self.eventsUrl) && url(self.eventsUrl).getScheme() in ['http', 'https'])",
    message: 'eventsUrl must be an http(s) URL',
    holds: (s) => s.eventsUrl === undefined || /^https?:\/\//.test(s.eventsUrl),
  },
];

/**
 * One place notifications go. What gives access (a Slack or Teams webhook URL, a webhook URL that
 * may carry a token, a PagerDuty routing key, a signing key) is never written in the policy: it is
 * a Secret's key, read by the notify activity, so it never reaches a workflow's input or history.
 */
export const notificationSink = z
  .object({
    type: z.enum(['Webhook', 'Slack', 'MSTeams', 'PagerDuty']).meta({
      description:
        "Webhook: KubeMedic's JSON payload; Slack: an incoming-webhook message; MSTeams: an Adaptive Card for a Teams incoming webhook or Workflows webhook; PagerDuty: an Events API v2 event.",
    }),
    urlSecretRef: secretKeyRef(
      'Webhook, Slack, MSTeams: the key of a Secret holding the URL to POST to (a Slack or Teams webhook URL is itself the credential).',
    ).optional(),
    routingKeySecretRef: secretKeyRef(
      "PagerDuty: the key of a Secret holding the integration's routing key.",
    ).optional(),
    eventsUrl: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s/?#]+([/?#]\S*)?$/, 'an http(s) URL')
      .optional()
      .meta({
        description: `PagerDuty: the Events API v2 endpoint (not a credential); ${pagerDutyEventsUrl} unless set.`,
      }),
    secretRef: secretKeyRef(
      'Webhook: the key of a Secret holding an HMAC-SHA256 key that signs every request.',
    ).optional(),
    events: z
      .array(z.enum(notificationEvents))
      .min(1)
      .max(notificationEvents.length)
      .optional()
      .meta({ description: 'Send only these; all when absent.' }),
  })
  .superRefine((sink, context) => {
    for (const { holds, message } of sinkRules)
      if (!holds(sink)) context.addIssue({ code: 'custom', message });
  })
  .meta({
    description:
      "One place notifications go. Secrets are read from the policy's namespace as spec.serviceAccountName; a cluster policy's from KubeMedic's own namespace.",
    ...validations(...sinkRules.map(({ rule, message }) => cel(rule, message))),
  });
export type NotificationSink = z.infer<typeof notificationSink>;

const specFields = {
  suspend: z
    .boolean()
    .default(false)
    .meta({ description: 'Stop starting remediations; runs in flight go on.' }),
  dryRun: z.boolean().default(false).meta({ description: 'Run everything with the API server dryRun=All.' }),
  serviceAccountName: objectName().optional().meta({ description: 'Act impersonating this ServiceAccount.' }),
  evaluationInterval: duration(
    'How often conditions are evaluated. Kubernetes-state conditions are also evaluated as soon as a target or one of its Pods changes (the watch event), so for them this is the fallback.',
    { min: '1s', max: '24h' },
  ).default('30s'),
  conditions: z.array(condition).min(1).max(16),
  match: z.enum(['All', 'Any']).default('All').meta({ description: 'How the conditions combine.' }),
  actions: z.array(action).min(1).max(8).meta({ description: 'Tried in order while verification fails.' }),
  approval: z
    .object({
      required: z.boolean().default(false),
      timeout: duration('How long to wait for approve or reject.', timeoutBounds).default('1h'),
      onTimeout: z.enum(['Reject', 'Approve']).default('Reject'),
    })
    .optional(),
  verification: z
    .object({
      settle: duration('Wait this long after acting before verifying.').default('1m'),
      conditions: z
        .array(condition)
        .max(16)
        .optional()
        .meta({ description: 'Healthy when none of these holds; defaults to the trigger conditions.' }),
      onNoData: z.enum(['Fail', 'Pass', 'Inconclusive']).default('Fail').meta({
        description:
          'What a reading without data (or one that could not be taken: Prometheus unreachable) counts as. Inconclusive: the run rolls back and ends Failed, saying the verification was inconclusive, without escalating.',
      }),
      readings: z.number().int().min(1).max(60).default(1).meta({
        description: 'How many readings to take, `interval` apart (as Argo Rollouts analysis counts).',
      }),
      interval: duration('Between two readings.', { min: '1s', max: '24h' }).default('30s'),
      failureLimit: z
        .number()
        .int()
        .min(0)
        .max(59)
        .default(0)
        .meta({ description: 'Unhealthy readings tolerated: one more fails the verification.' }),
    })
    .meta(validations(cel('self.failureLimit < self.readings', 'failureLimit must be below readings')))
    .optional(),
  revertAfter: z
    .object({
      after: duration('Undo the action after this long.'),
      mode: z.enum(['Immediate', 'Gradual']).default('Immediate'),
      steps: z
        .number()
        .int()
        .min(2)
        .max(10)
        .default(3)
        .meta({ description: 'Gradual: revert in this many steps.' }),
      interval: duration('Gradual: wait this long between steps.').default('1m'),
    })
    .optional(),
  cooldown: duration('After a remediation, ignore new triggers for the target this long.', {
    max: '720h',
  }).default('10m'),
  limits: z
    .object({
      maxConcurrent: z
        .number()
        .int()
        .min(1)
        .optional()
        .meta({ description: 'Runs of this policy acting at once.' }),
      maxPerHour: z
        .number()
        .int()
        .min(1)
        .optional()
        .meta({ description: 'Permits granted in any sliding hour.' }),
      maxAttemptsPerTarget: z
        .number()
        .int()
        .min(1)
        .optional()
        .meta({ description: 'Then the target is left to a person (needs-attention).' }),
      attemptsWindow: duration('The window of maxAttemptsPerTarget.', { min: '1s', max: '720h' }).default(
        '1h',
      ),
    })
    .optional()
    .meta({ description: 'Limits the policy governor enforces across all its runs.' }),
  notifications: z
    .array(notificationSink)
    .max(10)
    .optional()
    .meta({ description: 'Where to tell people what runs of this policy do (docs/notifications.md).' }),
  defaultNotifications: z.boolean().optional().meta({
    description:
      "false: the cluster's default sinks (the worker's KUBEMEDIC_DEFAULT_NOTIFICATIONS, the chart's notifications.defaults) do not hear of this policy's runs. They do unless it says false.",
  }),
  blastRadius: z
    .object({
      maxUnhealthy: z
        .number()
        .int()
        .min(0)
        .optional()
        .meta({ description: 'Remediate none when more targets fire.' }),
      maxUnhealthyPercent: z
        .number()
        .int()
        .min(0)
        .max(100)
        .optional()
        .meta({ description: 'Remediate none when a larger share of the targets fire.' }),
      stormCooldown: duration('After such a storm, start nothing for this long.', { max: '720h' }).default(
        '10m',
      ),
    })
    .optional()
    .meta({
      description:
        "Like Cluster API's MachineHealthCheck unhealthyLessThanOrEqualTo: a storm is a person's job.",
    }),
};

const noDuplicateConditionNames = cel(
  'self.conditions.all(c, self.conditions.exists_one(d, d.name == c.name))',
  'condition names must be unique',
);

/** KubeMedic has no right to tenants' Secrets: a namespaced policy's sink Secrets are read as its ServiceAccount. */
export const signingNeedsServiceAccountMessage =
  "notifications need spec.serviceAccountName: a sink's Secrets are read as that ServiceAccount";
const signingNeedsServiceAccount = cel(
  '!has(self.notifications) || size(self.notifications) == 0 || has(self.serviceAccountName)',
  signingNeedsServiceAccountMessage,
);

/**
 * One rule per action that cannot act on every kind this policy kind may target, from the action
 * catalogue: the API server refuses the pair at admission, before any run could meet it.
 */
function actionsFitTarget(policyTargetKinds: readonly TargetKind[]): CelRule[] {
  return actionTypes.flatMap((type) => {
    const kinds = declarationOf(type).targetKinds;
    if (policyTargetKinds.every((kind) => kinds.includes(kind))) return [];
    const onlyCluster = !policyTargetKinds.some((kind) => kinds.includes(kind));
    return [
      cel(
        `!self.actions.exists(a, a.type == '${type}') || self.target.kind in [${kinds.map((k) => `'${k}'`).join(', ')}]`,
        `action ${type} acts only on ${kinds.join(' or ')} targets` +
          (onlyCluster ? ', which only a ClusterRemediationPolicy has' : ''),
      ),
    ];
  });
}

export const remediationPolicySpec = z
  .object({ target: namespacedTarget, ...specFields })
  .meta(
    validations(
      noDuplicateConditionNames,
      signingNeedsServiceAccount,
      ...actionsFitTarget(namespacedTargetKind.options),
    ),
  );
export const clusterRemediationPolicySpec = z
  .object({ target: clusterTarget, ...specFields })
  .meta(validations(noDuplicateConditionNames, ...actionsFitTarget(clusterTargetKind.options)));
export type PolicySpec = z.infer<typeof clusterRemediationPolicySpec>;

const statusCondition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});

export const policyStatus = z.object({
  conditions: z.array(statusCondition).optional(),
  observedGeneration: z.number().int().optional(),
  lastEvaluationTime: z.string().optional(),
  matchedTargets: z.number().int().optional(),
  activeRemediations: z
    .array(z.object({ workflowId: z.string(), target: z.string(), phase: z.string() }))
    .optional(),
  lastOutcome: z
    .object({
      workflowId: z.string(),
      target: z.string(),
      outcome: z.string(),
      reason: z.string(),
      finishedAt: z.string(),
      changes: z
        .array(z.object({ path: z.string(), before: z.string(), after: z.string() }))
        .optional()
        .meta({ description: 'A dry run: what would have changed (values as JSON).' }),
    })
    .optional(),
});
export type PolicyStatus = z.infer<typeof policyStatus>;

export const policyKinds = {
  RemediationPolicy: {
    kind: 'RemediationPolicy',
    plural: 'remediationpolicies',
    singular: 'remediationpolicy',
    shortNames: ['rp'],
    scope: 'Namespaced',
    spec: remediationPolicySpec,
  },
  ClusterRemediationPolicy: {
    kind: 'ClusterRemediationPolicy',
    plural: 'clusterremediationpolicies',
    singular: 'clusterremediationpolicy',
    shortNames: ['crp'],
    scope: 'Cluster',
    spec: clusterRemediationPolicySpec,
  },
} as const;
export type PolicyKind = keyof typeof policyKinds;
