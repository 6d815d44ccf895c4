/**
 * An action is not done until every place it needs exists. For each type of the action
 * catalogue (domain/action-catalogue.ts) this fails, naming what to add, when the type lacks:
 * its module in activities/actions/ (registered, raising only the refusals it declares), an
 * integration test, an e2e case, the chart RBAC for what it declares, or its row in the docs.
 * docs/adding-an-action.md is the walk through all of them.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { actionTypes } from '../../api/policy.ts';
import { repoRoot } from '../../api/generate-crds.ts';
import { actionModule } from '../../activities/actions/index.ts';
import { commonRefusals, declarationOf, type RbacRule, rbacOf } from '../../domain/action-catalogue.ts';
import { checkPolicy } from '../../policy-watcher/policies.ts';

const read = (...path: string[]) => readFileSync(join(repoRoot, ...path), 'utf8');
const testFiles = (folder: string) =>
  readdirSync(join(repoRoot, 'test', folder))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => ({ name, text: read('test', folder, name) }));

/** AdjustHPA → adjust-hpa, RunJob → run-job: the module's file name. */
const fileNameOf = (type: string) => type.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

/**
 * The rules of the worker's ClusterRole in the chart, read from the template with its Helm
 * expressions blanked: unit tests run without the helm binary (test/support/chart.ts renders).
 */
function workerRules(): RbacRule[] {
  const template = read('charts', 'kubemedic', 'templates', 'rbac.yaml')
    .split('\n')
    .filter((line) => !/^\s*\{\{-?[^}]*\}\}\s*$/.test(line))
    .join('\n')
    .replace(/\{\{[^}]*\}\}/g, 'x');
  const role = parseAllDocuments(template)
    .map((document) => document.toJS() as { kind?: string; metadata?: { name?: string }; rules?: unknown[] })
    .find((object) => object?.kind === 'ClusterRole' && object.metadata?.name?.endsWith('-worker'));
  assert.ok(role, 'the chart has the worker ClusterRole');
  return (role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]).flatMap((rule) =>
    rule.apiGroups.map((apiGroup) => ({ apiGroup, resources: rule.resources, verbs: rule.verbs })),
  );
}

const integrationTests = testFiles('integration');
const e2eActions = read('test', 'e2e', 'actions.test.ts');
const reference = read('docs', 'policy-reference.md');
const granted = workerRules();

for (const type of actionTypes) {
  describe(`action ${type}`, () => {
    const file = fileNameOf(type);

    it(`has its module activities/actions/${file}.ts, registered for it`, () => {
      assert.ok(
        existsSync(join(repoRoot, 'activities', 'actions', `${file}.ts`)),
        `write activities/actions/${file}.ts`,
      );
      assert.equal(actionModule(type)?.type, type, `register the module in activities/actions/index.ts`);
    });

    it('raises only the refusals it declares (besides the common ones)', () => {
      const source = read('activities', 'actions', `${file}.ts`);
      const allowed = [...commonRefusals, ...declarationOf(type).refusals];
      const raised = [...source.matchAll(/new ActionError\(\s*'(\w+)'/g)].map((match) => match[1]);
      const undeclared = raised.filter((refusal) => !allowed.includes(refusal as (typeof allowed)[number]));
      assert.deepEqual(undeclared, [], `declare these refusals of ${type} in domain/action-catalogue.ts`);
    });

    it('has an integration test that drives its module against the real API server', () => {
      const tests = integrationTests.filter(
        ({ text }) => text.includes(`activities/actions/${file}.ts'`) && text.includes(`describe('${type}'`),
      );
      assert.ok(
        tests.length > 0,
        `add describe('${type}', …) to a test/integration file that imports activities/actions/${file}.ts`,
      );
    });

    it('has a case in the e2e matrix (test/e2e/actions.test.ts)', () => {
      assert.ok(
        e2eActions.includes(`type: '${type}',`),
        `add a { type: '${type}', … } case to test/e2e/actions.test.ts`,
      );
    });

    it("is granted what it needs by the chart's worker ClusterRole", () => {
      const missing = rbacOf(type).flatMap(({ apiGroup, resources, verbs }) =>
        resources.flatMap((resource) =>
          verbs
            .filter(
              (verb) =>
                !granted.some(
                  (rule) =>
                    rule.apiGroup === apiGroup &&
                    rule.resources.includes(resource) &&
                    rule.verbs.includes(verb),
                ),
            )
            .map((verb) => `${verb} ${apiGroup || 'core'}/${resource}`),
        ),
      );
      assert.deepEqual(
        missing,
        [],
        'grant these in charts/kubemedic/templates/rbac.yaml (worker ClusterRole)',
      );
    });

    it('has its row in the policy reference', () => {
      assert.ok(
        reference.split('\n').some((line) => line.startsWith(`| \`${type}\` |`)),
        'run `npm run generate` (docs/policy-reference.md)',
      );
    });
  });
}

describe('a policy admitted before the CRD refused its action/kind pair', () => {
  it('is Invalid in the watcher, from the same catalogue', () => {
    const check = checkPolicy('RemediationPolicy', {
      metadata: { name: 'p', namespace: 'shop', uid: 'u', generation: 1 },
      spec: {
        target: { kind: 'Deployment', name: 'web' },
        conditions: [
          { name: 'pending', source: 'Kubernetes', kubernetes: { state: 'PodPending' }, threshold: 5 },
        ],
        actions: [{ type: 'CordonNode' }],
      },
    });
    assert.equal(check.valid, false);
    assert.equal(
      !check.valid && check.reason,
      'spec.actions.0: CordonNode acts on Node, not on the target kind Deployment',
    );
  });
});
