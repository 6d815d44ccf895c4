/**
 * The ValidatingAdmissionPolicy that binds a RemediationDecision or RemediationPause to its
 * creator: `spec.decidedBy` must be the username the API server authenticated
 * (`request.userInfo.username`), so the name the run records is the API server's, not the
 * client's. Admission policies cannot set a field (MutatingAdmissionPolicy is beta and off by
 * default in Kubernetes 1.34), hence "check", and the CLI fills the field from a
 * SelfSubjectReview. Updates to spec are refused here as well as by the CRD's own `self ==
 * oldSelf` rule. Status writes (the /status subresource) are not matched: the watcher writes them.
 *
 * Generated into the chart (charts/kubemedic/templates/decision-admission-policy.yaml) by
 * `npm run generate`; the local stack applies the same objects (devstack/crds.ts).
 */
import { stringify } from 'yaml';
import { decisionKinds } from './decision.ts';
import { group } from './policy.ts';

/** The local stack's name; the chart's is `<release fullname>-decided-by`. */
export const decisionAdmissionPolicyName = 'kubemedic-decided-by';
/** Rendered by Helm before the YAML is parsed, so the chart's template names it per release. */
const chartName = '{{ include "kubemedic.fullname" . }}-decided-by';

const labels = { 'app.kubernetes.io/part-of': 'kubemedic' };

export function decisionAdmissionObjects(name = decisionAdmissionPolicyName) {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, labels },
      spec: {
        // Without the check a decision would carry a self-asserted name: refuse when unsure.
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [group],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE'],
              resources: Object.values(decisionKinds).map((kind) => kind.plural),
            },
          ],
        },
        validations: [
          {
            expression: "request.operation != 'CREATE' || object.spec.decidedBy == request.userInfo.username",
            messageExpression:
              "'spec.decidedBy must be your own username, ' + request.userInfo.username + ', not ' + object.spec.decidedBy",
            reason: 'Forbidden',
          },
          {
            expression: "request.operation != 'UPDATE' || object.spec == oldObject.spec",
            message: 'a decision is immutable: create a new one',
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels },
      spec: { policyName: name, validationActions: ['Deny'] },
    },
  ];
}

/** The chart's template: YAML whose only template expression is the name. */
export function renderDecisionAdmissionPolicy(): string {
  return (
    '# Generated from api/admission-policy.ts by npm run generate; do not edit.\n' +
    decisionAdmissionObjects(chartName)
      .map((object) => stringify(object, { lineWidth: 0, singleQuote: true }))
      .join('---\n')
  );
}
