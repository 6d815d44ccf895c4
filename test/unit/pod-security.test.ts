/**
 * RunJob templates and the restricted Pod Security Standard (domain/pod-security.ts),
 * row by row: each forbidden field is named, the policy's own ServiceAccount is allowed, and a
 * plain template gets the standard's defaults; the watcher marks such a policy Invalid.
 * actions-cluster.test.ts shows the refusal and the defaults on the real API server.
 */
import type { V1JobSpec, V1PodSpec } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restrictedJobSpec, restrictedViolations } from '../../domain/pod-security.ts';
import { checkPolicy } from '../../policy-watcher/policies.ts';

const job = (pod: Partial<V1PodSpec>): V1JobSpec => ({
  template: { spec: { containers: [{ name: 'fix', image: 'busybox:1.36' }], ...pod } },
});
const container = (securityContext: object): Partial<V1PodSpec> => ({
  containers: [{ name: 'fix', image: 'busybox:1.36', securityContext }],
});

const rows: { name: string; pod: Partial<V1PodSpec>; account?: string; violation: string | undefined }[] = [
  { name: 'a plain template', pod: {}, violation: undefined },
  { name: 'hostIPC', pod: { hostIPC: true }, violation: 'template.spec.hostIPC must not be true' },
  { name: 'nodeName', pod: { nodeName: 'cp-1' }, violation: 'template.spec.nodeName must not be set' },
  {
    name: 'a foreign ServiceAccount',
    pod: { serviceAccountName: 'admin' },
    account: 'fixer',
    violation: "template.spec.serviceAccountName admin is not the policy's own ServiceAccount (fixer)",
  },
  {
    name: "the policy's own ServiceAccount",
    pod: { serviceAccountName: 'fixer' },
    account: 'fixer',
    violation: undefined,
  },
  {
    name: 'any ServiceAccount when the policy names none',
    pod: { serviceAccount: 'default' },
    violation: 'it names none',
  },
  {
    name: 'root at pod level',
    pod: { securityContext: { runAsUser: 0 } },
    violation: 'securityContext.runAsUser must not be 0',
  },
  {
    name: 'an unconfined seccomp profile',
    pod: { securityContext: { seccompProfile: { type: 'Unconfined' } } },
    violation: 'seccompProfile.type must be RuntimeDefault or Localhost',
  },
  {
    name: 'an added capability',
    pod: container({ capabilities: { add: ['NET_ADMIN', 'NET_BIND_SERVICE'] } }),
    violation: 'containers[0].securityContext.capabilities.add may hold only NET_BIND_SERVICE, not NET_ADMIN',
  },
  {
    name: 'NET_BIND_SERVICE',
    pod: container({ capabilities: { add: ['NET_BIND_SERVICE'] } }),
    violation: undefined,
  },
  {
    name: 'capabilities kept',
    pod: container({ capabilities: { drop: ['NET_RAW'] } }),
    violation: 'capabilities.drop must include ALL',
  },
  {
    name: 'runAsNonRoot false in an init container',
    pod: { initContainers: [{ name: 'init', securityContext: { runAsNonRoot: false } }] },
    violation: 'template.spec.initContainers[0].securityContext.runAsNonRoot must not be false',
  },
  {
    name: 'escalation',
    pod: container({ allowPrivilegeEscalation: true }),
    violation: 'containers[0].securityContext.allowPrivilegeEscalation must not be true',
  },
  {
    name: 'procMount Unmasked',
    pod: container({ procMount: 'Unmasked' }),
    violation: 'procMount must be Default',
  },
];

describe('restrictedViolations', () => {
  for (const row of rows)
    it(`${row.name}: ${row.violation === undefined ? 'allowed' : 'refused'}`, () => {
      const violations = restrictedViolations(job(row.pod), row.account);
      if (row.violation === undefined) assert.deepEqual(violations, []);
      else
        assert.ok(
          violations.some((v) => v.includes(row.violation ?? '')),
          `${JSON.stringify(violations)} names ${row.violation}`,
        );
    });
});

describe('restrictedJobSpec', () => {
  it('fills in what the standard requires and the template leaves unset, keeping what it sets', () => {
    const spec = restrictedJobSpec(job(container({ runAsUser: 1000 })), undefined);
    assert.deepEqual(spec.template.spec?.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(spec.template.spec?.containers[0]?.securityContext, {
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
  });
});

describe("the watcher's check of a RunJob policy", () => {
  const policy = (template: unknown, serviceAccountName?: string) =>
    checkPolicy('RemediationPolicy', {
      metadata: { name: 'p', namespace: 'shop', uid: 'u', generation: 1 },
      spec: {
        target: { kind: 'Deployment', name: 'web' },
        ...(serviceAccountName ? { serviceAccountName } : {}),
        conditions: [{ name: 'c', source: 'Kubernetes', kubernetes: { state: 'PodPending' }, threshold: 1 }],
        actions: [{ type: 'RunJob', runJob: { template } }],
      },
    });
  const reasonOf = (check: ReturnType<typeof policy>) => (check.valid ? 'valid' : check.reason);

  it('marks Invalid what CEL cannot see (a foreign ServiceAccount, root, capabilities), naming each field', () => {
    const hostile = job({
      serviceAccountName: 'admin',
      ...container({ runAsUser: 0, capabilities: { add: ['SYS_ADMIN'] } }),
    });
    const reason = reasonOf(policy(hostile, 'fixer'));
    assert.match(
      reason,
      /^spec\.actions\.0\.runJob: the template breaks the restricted Pod Security Standard/,
    );
    for (const field of ['serviceAccountName admin', 'runAsUser must not be 0', 'not SYS_ADMIN'])
      assert.ok(reason.includes(field), `${field} in: ${reason}`);
  });

  it("keeps a template that runs as the policy's own ServiceAccount valid", () => {
    assert.equal(reasonOf(policy(job({ serviceAccountName: 'fixer' }), 'fixer')), 'valid');
  });

  it('marks Invalid a template no Job could be made of, instead of failing the evaluation', () => {
    const reason = reasonOf(policy(job(container({ capabilities: { add: 'SYS_ADMIN' } }))));
    assert.match(reason, /^spec\.actions\.0\.runJob: the template is not a Job spec: /);
  });
});
