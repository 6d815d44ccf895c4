/**
 * docs/policy-reference.md, written from the same schema as the CRDs by `npm run generate`: every
 * field of both policy kinds with its type, default, allowed values, description and the CEL rules
 * the API server enforces on it. A test fails when the committed page is not current.
 */
import { commonRefusals, declarationOf, rbacOf } from '../domain/action-catalogue.ts';
import { type JSONSchemaProps, policySchema } from './crd.ts';
import { actionTypes, type PolicyKind, policyKinds } from './policy.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(schema: JSONSchemaProps): string {
  if (schema.type === 'array') return `[]${schema.items ? typeOf(schema.items) : 'any'}`;
  if (schema.type === 'object' && schema.additionalProperties)
    return `map[string]${typeOf(schema.additionalProperties)}`;
  if (schema['x-kubernetes-int-or-string']) return 'int or string';
  return schema.type ?? 'any';
}

function constraints(schema: JSONSchemaProps): string {
  const parts: string[] = [];
  if (schema.enum) parts.push(`one of ${schema.enum.map((v) => `\`${String(v)}\``).join(', ')}`);
  if (schema.default !== undefined) parts.push(`default \`${JSON.stringify(schema.default)}\``);
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.pattern) parts.push(`matches \`${schema.pattern}\``);
  if (schema.minItems !== undefined) parts.push(`at least ${schema.minItems} item(s)`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} item(s)`);
  for (const rule of schema['x-kubernetes-validations'] ?? [])
    parts.push(`rule: ${rule.message ?? rule.rule}`);
  return parts.join('; ');
}

/** One table row per field, depth first, with its dotted path. */
function rows(schema: JSONSchemaProps, path: string, required: boolean): string[] {
  const here = `| \`${path}\` | ${typeOf(schema)} | ${required ? 'yes' : ''} | ${cell(
    [schema.description ?? '', constraints(schema)].filter((t) => t !== '').join(' — '),
  )} |`;
  const object = schema.type === 'array' ? schema.items : schema;
  const below = Object.entries(object?.properties ?? {}).flatMap(([name, child]) =>
    rows(
      child,
      `${path}${schema.type === 'array' ? '[]' : ''}.${name}`,
      object?.required?.includes(name) ?? false,
    ),
  );
  return [here, ...below];
}

function section(kind: PolicyKind): string {
  const schema = policySchema(kind);
  const spec = schema.properties?.spec ?? {};
  return [
    `## ${kind}`,
    '',
    `${schema.description ?? ''} Short name \`${policyKinds[kind].shortNames.join(', ')}\`.`,
    '',
    '| field | type | required | description |',
    '| --- | --- | --- | --- |',
    ...rows(spec, 'spec', true),
    '',
  ].join('\n');
}

const code = (items: readonly string[]) => items.map((item) => `\`${item}\``).join(', ');

/** One row per action, from the action catalogue (domain/action-catalogue.ts). */
function actionsSection(): string {
  const rows = actionTypes.map((type) => {
    const { does, undoes, targetKinds, parameters, refusals, longRunning } = declarationOf(type);
    const rights = rbacOf(type).map(
      (r) => `${r.verbs.join('/')} ${r.resources.map((x) => `${r.apiGroup || 'core'}/${x}`).join(', ')}`,
    );
    return `| \`${type}\` | ${cell(does)} | ${cell(undoes)} | ${targetKinds.join(', ')} | ${parameters ? `\`${parameters}\`` : ''} | ${code(refusals)} | ${longRunning ? 'yes' : ''} | ${cell(rights.join('; '))} |`;
  });
  return [
    '## Actions',
    '',
    `What each \`spec.actions[].type\` does, what its rollback undoes, what it acts on and needs (from`,
    `domain/action-catalogue.ts). Every action may also be refused with ${code(commonRefusals)};`,
    'the API server refuses an action whose target kind or parameter block does not fit. Long-running',
    'actions get patient timeouts and heartbeat. The RBAC is what the acting identity (the worker, or',
    "the policy's ServiceAccount) needs.",
    '',
    '| action | does | rollback undoes | acts on | parameter block | may also refuse with | long-running | RBAC |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

export function renderPolicyReference(): string {
  return [
    '# Policy reference',
    '',
    '<!-- Generated from api/policy.ts and domain/action-catalogue.ts by `npm run generate`; do not edit. -->',
    '',
    'Both kinds live in the API group `remediation.kubemedic.io/v1alpha1`. Durations are written like',
    '`30s`, `5m`, `1h30m`. Rules marked "rule" are CEL validations: the API server refuses a policy',
    'that breaks one, with the message shown. What CEL cannot check, the policy watcher checks and',
    'reports as `Ready=False, reason Invalid` in the policy status and as an `InvalidPolicy` Event.',
    '',
    ...(Object.keys(policyKinds) as PolicyKind[]).map(section),
    actionsSection(),
  ].join('\n');
}
