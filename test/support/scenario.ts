/**
 * End-to-end tests written as Given / When / Then, in the spirit of Argo Rollouts' e2e fixtures:
 *
 *   const { scenario } = useScenario('kme');
 *   it('scales on load', async (t) => {
 *     const { given, when, then } = scenario(t);
 *     await given.deployment('web', 2);
 *     await given.policy('scale-web', deploymentPolicy('web', { ... }));
 *     await when.loadIs(0.95);
 *     await then.replicasBecome(4);
 *     await then.runEndsAs('Succeeded', /scaled/);
 *   });
 *
 * Each step is a named method that says what it does in the test's diagnostics (t.diagnostic),
 * so a failing test's output reads as its scenario up to the step that failed. A scenario
 * remembers the last Deployment and policy it was given, and the run it started or that the
 * watcher starts for them; the steps act on those. Steps are built on the helpers beside this
 * file (stack.ts, kubemedic.ts, workloads.ts, scale-runs.ts), which stay usable on their own.
 */
import { AppsV1Api, type V1PodSpec } from '@kubernetes/client-node';
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import assert from 'node:assert/strict';
import type { PolicyKind } from '../../api/policy.ts';
import type { TestContext } from 'node:test';
import { remoteWrite } from '../../devstack/remote-write.ts';
import { approveUpdate, cancelSignal, rejectSignal } from '../../domain/messages.ts';
import {
  type Outcome,
  type Phase,
  type RemediationInput,
  type RemediationResult,
  remediationWorkflowId,
  type TargetRef,
} from '../../domain/run.ts';
import { saveHistory } from './histories.ts';
import {
  createPolicy,
  createUncheckedPolicy,
  type KubeMedic,
  type PolicyMetadata,
  readPolicy,
  startRunNow,
  useKubeMedic,
} from './kubemedic.ts';
import { conditions, type PolicySpecInput } from './policy-builder.ts';
import { inPhase, type RunHandle, scalePolicySpec } from './scale-runs.ts';
import { eventually, kubeconfig, useTestNamespace } from './stack.ts';
import { createAvailableDeployment, createDeployment, readDeployment } from './workloads.ts';

/** The series `loadAbove` reads and `when.loadIs` writes, per namespace and Deployment. */
const loadSeries = 'kubemedic_e2e_load';

/** A condition on the load `when.loadIs` writes for the Deployment: it holds above `threshold`. */
export const loadAbove = (namespace: string, threshold: number) =>
  conditions.prometheus('load', `${loadSeries}{namespace="${namespace}"}`, threshold);

/** What one test's scenario has been given so far, and the run it is about. */
class State {
  target: TargetRef | undefined;
  policy: (PolicyMetadata & { kind: PolicyKind }) | undefined;
  handle: RunHandle | undefined;

  constructor(
    readonly t: TestContext,
    readonly namespace: string,
    readonly medic: KubeMedic,
  ) {}

  /** Runs a step, saying what it does first. */
  async step<T>(phase: 'Given' | 'When' | 'Then', what: string, act: () => Promise<T>): Promise<T> {
    this.t.diagnostic(`${phase} ${what}`);
    return act();
  }

  /** The scenario's Deployment. */
  get deployment(): { name: string; namespace: string } {
    assert.ok(this.target?.namespace, 'the scenario needs a Deployment: given.deployment(...) first');
    return { name: this.target.name, namespace: this.target.namespace };
  }

  /** The run for the scenario's target and policy: the one started by hand, or the watcher's. */
  get run(): RunHandle {
    if (this.handle) return this.handle;
    assert.ok(this.target && this.policy, 'the scenario needs a target and a policy to have a run');
    const id = remediationWorkflowId(this.medic.cluster, this.target, this.policy);
    return this.medic.client.workflow.getHandle(id);
  }
}

class Given {
  constructor(private readonly s: State) {}

  /**
   * A Deployment of `replicas` (not yet Available: KWOK makes it so in a moment), in the
   * scenario's namespace unless another is named; `podSpec` replaces parts of the default Pod spec.
   */
  deployment(
    name: string,
    replicas: number,
    { namespace = this.s.namespace, podSpec = {} }: { namespace?: string; podSpec?: Partial<V1PodSpec> } = {},
  ): Promise<void> {
    return this.s.step('Given', `a Deployment ${namespace}/${name} of ${replicas} replicas`, async () => {
      await createDeployment(namespace, name, replicas, podSpec);
      this.s.target = { kind: 'Deployment', namespace, name };
    });
  }

  /** A Deployment whose `replicas` Pods run and which the controllers report Available. */
  availableDeployment(name: string, replicas: number): Promise<void> {
    return this.s.step('Given', `an Available Deployment ${name} of ${replicas} replicas`, async () => {
      await createAvailableDeployment(this.s.namespace, name, replicas);
      this.s.target = { kind: 'Deployment', namespace: this.s.namespace, name };
    });
  }

  /** A target the test made itself (a Pod with a status of its own, say): the runs are about it. */
  existing(target: TargetRef): Promise<void> {
    return this.s.step('Given', `the ${target.kind} ${target.name}`, async () => {
      this.s.target = target;
    });
  }

  /** A RemediationPolicy in the scenario's namespace. */
  policy(name: string, spec: PolicySpecInput): Promise<void> {
    return this.s.step('Given', `a RemediationPolicy ${name}`, async () => {
      await createPolicy('RemediationPolicy', { name, namespace: this.s.namespace }, spec);
      this.s.policy = { kind: 'RemediationPolicy', name, namespace: this.s.namespace };
    });
  }

  /**
   * A policy as a manifest (YAML the compiler never saw) gives it, created as it is: the typed
   * `policy` and `clusterPolicy` are for policies written in tests.
   */
  policyManifest(kind: PolicyKind, metadata: PolicyMetadata, spec: unknown): Promise<void> {
    return this.s.step('Given', `the ${kind} ${metadata.name} of a manifest`, async () => {
      await createUncheckedPolicy(kind, metadata, spec);
      this.s.policy = { kind, ...metadata };
    });
  }

  /** A ClusterRemediationPolicy (deleted when the test file ends). */
  clusterPolicy(name: string, spec: PolicySpecInput<'ClusterRemediationPolicy'>): Promise<void> {
    return this.s.step('Given', `a ClusterRemediationPolicy ${name}`, async () => {
      await createPolicy('ClusterRemediationPolicy', { name }, spec);
      this.s.policy = { kind: 'ClusterRemediationPolicy', name };
    });
  }

  /**
   * The run most tests start from: an Available Deployment `name` of 2 replicas, and a policy
   * `name` that scales it to 3 while it is unavailable (so verification passes once KWOK runs
   * the new Pods). `spec` adds to or replaces any part of the policy.
   */
  scalePolicy(name: string, spec: Partial<PolicySpecInput> = {}): Promise<void> {
    return this.s.step('Given', `the scale policy ${name} (2 → 3 replicas)`, async () => {
      await this.availableDeployment(name, 2);
      await this.policy(name, scalePolicySpec(name, spec));
    });
  }

  /** A policy watcher of this test file's own (it evaluates only this file's policies). */
  watcher(options?: Parameters<KubeMedic['startWatcher']>[0]) {
    const port = options?.alertWebhookPort;
    const what = port === undefined ? '' : `, receiving alerts on port ${port || 'any free one'}`;
    return this.s.step('Given', `a policy watcher${what}`, () => this.s.medic.startWatcher(options));
  }
}

class When {
  constructor(private readonly s: State) {}

  /** A run starts now for the scenario's target and policy, as the watcher would start it. */
  runStarts(): Promise<RunHandle> {
    return this.s.step('When', 'a run starts', async () => {
      assert.ok(this.s.target && this.s.policy, 'a run needs a target and a policy');
      this.s.handle = await startRunNow(this.s.medic, this.s.policy, this.s.target);
      return this.s.handle;
    });
  }

  /** The Deployment's load (the series `loadAbove` reads) is `value`, through remote write. */
  loadIs(value: number): Promise<void> {
    const { name, namespace } = this.s.deployment;
    return this.s.step('When', `the load of ${name} is ${value}`, () =>
      remoteWrite([{ labels: { __name__: loadSeries, namespace, deployment: name }, value }]),
    );
  }

  /** A person approves the run through the update; returns the workflow's answer. */
  approvedByUpdate(by: string, reason?: string) {
    return this.s.step('When', `${by} approves by update`, () =>
      this.s.run.executeUpdate(approveUpdate, { args: [{ by, reason }] }),
    );
  }

  rejectedBySignal(by: string, reason: string): Promise<void> {
    return this.s.step('When', `${by} rejects by signal (${reason})`, () =>
      this.s.run.signal(rejectSignal, { by, reason }),
    );
  }

  cancelledBy(by: string, reason: string): Promise<void> {
    return this.s.step('When', `${by} cancels (${reason})`, () =>
      this.s.run.signal(cancelSignal, { by, reason }),
    );
  }

  /** Someone other than KubeMedic sets the replicas (a person, a GitOps sync). */
  someoneSetsReplicas(replicas: number): Promise<void> {
    const { name, namespace } = this.s.deployment;
    return this.s.step('When', `someone else sets the replicas of ${name} to ${replicas}`, () =>
      kubeconfig()
        .makeApiClient(AppsV1Api)
        .patchNamespacedDeploymentScale({
          name,
          namespace,
          body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
        })
        .then(() => undefined),
    );
  }

  deploymentDeleted(): Promise<void> {
    const { name, namespace } = this.s.deployment;
    return this.s.step('When', `the Deployment ${name} is deleted`, () =>
      kubeconfig()
        .makeApiClient(AppsV1Api)
        .deleteNamespacedDeployment({ name, namespace })
        .then(() => undefined),
    );
  }
}

class Then {
  constructor(private readonly s: State) {}

  /** Waits until the run reports `phase` (it may not have started yet). */
  runReaches(phase: Phase): Promise<void> {
    return this.s.step('Then', `the run reaches ${phase}`, async () => {
      await inPhase(this.s.run, phase);
    });
  }

  /**
   * Waits for the watcher to start the run, and pins the scenario to that execution (a later
   * run under the same workflow ID is another one); returns when it started.
   */
  watcherStartsRun(timeoutMs = 60_000): Promise<{ runId: string; startTime: Date }> {
    return this.s.step('Then', 'the watcher starts a run', async () => {
      const { workflowId } = this.s.run;
      const { runId, startTime } = await eventually(
        `the watcher to start ${workflowId}`,
        () => this.s.medic.client.workflow.getHandle(workflowId).describe(),
        timeoutMs,
      );
      this.s.handle = this.s.medic.client.workflow.getHandle(workflowId, runId);
      return { runId, startTime };
    });
  }

  /** The trigger the run was started with (the readings that fired), from its first history event. */
  triggeredBy(): Promise<RemediationInput['trigger']> {
    return this.s.step('Then', 'the run says what triggered it', async () => {
      const started = (await this.s.run.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      const payload = started?.input?.payloads?.[0];
      assert.ok(payload, 'the run was started with an input');
      return defaultPayloadConverter.fromPayload<RemediationInput>(payload).trigger;
    });
  }

  /** No run exists for the target and policy. */
  noRun(why = 'no run'): Promise<void> {
    return this.s.step('Then', `there is no run (${why})`, () =>
      assert.rejects(this.s.run.describe(), WorkflowNotFoundError, why),
    );
  }

  /** Waits for the run to exist and end, asserts its outcome (and reason), and returns its result. */
  runEndsAs(outcome: Outcome, reason?: RegExp): Promise<RemediationResult> {
    return this.s.step('Then', `the run ends ${outcome}${reason ? ` (${reason})` : ''}`, async () => {
      const run = this.s.run;
      await eventually('the run to start', () => run.describe(), 120_000);
      const result = await run.result();
      assert.equal(result.outcome, outcome, result.reason);
      if (reason) assert.match(result.reason, reason);
      return result;
    });
  }

  /** Waits until the Deployment's spec asks for `replicas`. */
  replicasBecome(replicas: number): Promise<void> {
    return this.s.step('Then', `${this.s.deployment.name} is scaled to ${replicas}`, async () => {
      await eventually(`replicas=${replicas}`, async () =>
        (await this.replicas()) === replicas ? true : undefined,
      );
    });
  }

  /** The Deployment's spec asks for `replicas` now. */
  replicasAre(replicas: number, message?: string): Promise<void> {
    return this.s.step('Then', `${this.s.deployment.name} has ${replicas} replicas`, async () => {
      assert.equal(await this.replicas(), replicas, message);
    });
  }

  /** The policy's status records `outcome` as its last. */
  policyRecords(outcome: Outcome): Promise<void> {
    return this.s.step('Then', `the policy status records ${outcome}`, async () => {
      assert.ok(this.s.policy, 'the scenario has no policy');
      const policy = await readPolicy(this.s.policy.kind, this.s.policy);
      assert.equal((policy.status?.lastOutcome as { outcome: string }).outcome, outcome);
    });
  }

  /** With KUBEMEDIC_RECORD_HISTORIES=1, the run's history becomes the replay fixture `name`. */
  historyRecordedAs(name: string): Promise<void> {
    return this.s.step('Then', `the history is kept as the replay fixture ${name}`, () =>
      saveHistory(this.s.medic.client, this.s.run.workflowId, name),
    );
  }

  private async replicas() {
    const { name, namespace } = this.s.deployment;
    return (await readDeployment(namespace, name)).spec?.replicas;
  }
}

export interface Scenario {
  given: Given;
  when: When;
  then: Then;
  /** The run the scenario is about (started by `when.runStarts` or by the watcher). */
  readonly run: RunHandle;
}

/**
 * Registers this test file's namespace and KubeMedic (worker, watchers, client), and returns a
 * `scenario(t)` per test. Each test's scenario starts empty.
 */
export function useScenario(prefix: string, options?: Parameters<typeof useKubeMedic>[0]) {
  // KubeMedic's hooks first: its after hook (stopping the worker and the watchers) then runs
  // before the namespace is deleted, and even when that deletion fails.
  const medic = useKubeMedic(options);
  const namespace = useTestNamespace(prefix);
  const scenario = (t: TestContext): Scenario => {
    const state = new State(t, namespace.name, medic);
    return {
      given: new Given(state),
      when: new When(state),
      then: new Then(state),
      get run() {
        return state.run;
      },
    };
  };
  return { namespace, medic, scenario };
}
