/**
 * Evidence before destruction, end to end: a RestartPod run through the real worker, acting as
 * the tenant's ServiceAccount (requireServiceAccount, the default), keeps the pod's evidence in
 * its backup, and `kubemedic show` and `explain` print it after the pod is gone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CliResult, kubemedic } from '../support/cli.ts';
import { conditions } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';

const { namespace, medic, scenario } = useScenario('kmev', {
  workerOptions: { requireServiceAccount: true },
});

const cli = async (...args: string[]) => {
  const result: CliResult = await kubemedic([...args, '--cluster', medic.cluster]);
  assert.equal(result.code, 0, `${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
};

describe('evidence before destruction', () => {
  it(
    'a RestartPod run keeps the pod it evicts in its backup, and kubemedic show prints it',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      // Given a tenant's ServiceAccount that may restart pods and read what they say
      await givenServiceAccount(namespace.name, 'restarter', [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['events'], verbs: ['list'] },
        { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
      ]);
      // And a Deployment whose pod a policy restarts
      await s.given.availableDeployment('crashy', 1);
      await s.given.policy('restart-crashy', {
        target: { kind: 'Deployment', name: 'crashy' },
        serviceAccountName: 'restarter',
        conditions: [conditions.podPending('pending')],
        actions: [{ type: 'RestartPod' }],
        verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
        cooldown: '1s',
      });
      // When a run restarts it
      await s.when.runStarts();
      const result = await s.then.runEndsAs('Succeeded');
      // (a replay fixture of a run that checks its policy first and keeps evidence)
      await s.then.historyRecordedAs('restart-pod-with-evidence');
      // Then its backup holds the evicted pod's evidence, read as the ServiceAccount
      const backup = result.steps[0]?.backup;
      const pod = backup?.evidence?.pods[0];
      assert.ok(pod, 'the backup has the evidence of one pod');
      assert.equal(pod.uid, backup?.fields['/metadata/uid']);
      assert.equal(pod.phase, 'Running');
      assert.ok(
        pod.events.some((e) => e.reason === 'Scheduled'),
        "the scheduler's Event is there",
      );
      // (KWOK's pods have no kubelet to give logs: said, not hidden; and not for want of rights)
      assert.match(pod.containers[0]?.logUnavailable ?? '', /^logs unavailable: /);
      assert.doesNotMatch(pod.containers[0]?.logUnavailable ?? '', /forbidden/i);

      // And kubemedic show prints it under the step, the pod named
      const shown = await cli('show', s.run.workflowId);
      assert.match(shown, /evidence captured \S+ \(before the pods were removed\)/);
      assert.match(shown, new RegExp(`${namespace.name}/${pod.name} \\(Running on \\S+\\): app running`));
      assert.match(shown, /app: logs unavailable: /);
      // And explain says it was kept with the backup
      const explained = await cli('explain', s.run.workflowId);
      assert.match(
        explained,
        new RegExp(`evidence kept of the pods it removes: ${namespace.name}/${pod.name}`),
      );
    },
  );
});
