/**
 * The CustomResourceDefinitions of RemediationPolicy and ClusterRemediationPolicy, built from the
 * zod schemas in api/policy.ts. zod's JSON Schema output (OpenAPI 3.0 flavour, input side so
 * defaults and optional fields are what a person writes) is turned into a Kubernetes structural
 * schema: every node has a type, no `$schema`, no `additionalProperties: false`, no integer
 * bounds zod adds for safe integers, and the `x-kubernetes-*` extensions kept as they are.
 * Anything with no structural equivalent (unions, `$ref`, `not`) fails loudly instead of
 * producing a CRD the API server would refuse or, worse, accept with other meaning.
 */
import { z } from 'zod';
import { type DecisionKind, decisionKinds } from './decision.ts';
import { group, policyKinds, policyStatus, version, type PolicyKind } from './policy.ts';

/** A Kubernetes JSONSchemaProps node as it travels on the wire (not the client library's model). */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string }[];
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced' | 'Cluster';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

/** The largest and smallest safe integers: zod adds them as bounds to every `.int()`. */
const safeIntegerBounds = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Keys copied as they are, in this order (the order makes the YAML read top-down). */
const plainKeys = [
  'type',
  'description',
  'format',
  'enum',
  'default',
  'nullable',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'required',
] as const;

/** Extensions copied as they are, after the nested schemas. */
const extensionKeys = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/** Keys dropped without a word: they carry nothing the API server uses. */
const droppedKeys = new Set(['$schema', 'title', 'examples', 'id', '$id', 'readOnly', 'writeOnly']);

type JsonNode = Record<string, unknown>;

/**
 * Converts one zod schema into a Kubernetes structural schema. Throws, naming the path, on
 * anything that has no structural form.
 */
export function structuralSchema(schema: z.ZodType): JSONSchemaProps {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' });
  return toStructural(json as JsonNode, '');
}

function toStructural(node: JsonNode, path: string): JSONSchemaProps {
  const where = path || '<root>';
  const known = new Set<string>([
    ...plainKeys,
    ...extensionKeys,
    'const',
    'properties',
    'items',
    'additionalProperties',
  ]);
  for (const key of Object.keys(node)) {
    if (droppedKeys.has(key) || known.has(key)) continue;
    throw new Error(`${where}: JSON Schema keyword ${key} has no Kubernetes structural equivalent`);
  }

  const out: JsonNode = {};
  for (const key of plainKeys) {
    const value = node[key];
    if (value === undefined) continue;
    if ((key === 'minimum' || key === 'maximum') && safeIntegerBounds.has(value as number)) continue;
    out[key] = value;
  }
  if (node.const !== undefined) out.enum = [node.const];

  if (node.properties !== undefined) {
    const properties = node.properties as Record<string, JsonNode>;
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, child]) => [name, toStructural(child, `${path}.${name}`)]),
    );
  }
  if (node.items !== undefined) {
    if (Array.isArray(node.items)) throw new Error(`${where}: tuple items have no structural equivalent`);
    out.items = toStructural(node.items as JsonNode, `${path}[]`);
  }
  const additional = node.additionalProperties;
  if (additional !== undefined && additional !== false) {
    const isAny = additional === true || Object.keys(additional as JsonNode).length === 0;
    if (isAny) {
      // z.record(z.string(), z.unknown()): any value, i.e. keep unknown fields.
      if (node.properties === undefined) out['x-kubernetes-preserve-unknown-fields'] = true;
    } else if (node.properties !== undefined) {
      throw new Error(`${where}: properties and additionalProperties cannot both be set`);
    } else {
      out.additionalProperties = toStructural(additional as JsonNode, `${path}.*`);
    }
  }
  // `additionalProperties: false` (strict objects) is dropped: unknown fields are pruned anyway.
  for (const key of extensionKeys) if (node[key] !== undefined) out[key] = node[key];

  if (out.type === undefined) {
    if (out['x-kubernetes-preserve-unknown-fields'] === true || out['x-kubernetes-int-or-string'] === true) {
      // Allowed untyped: anything goes here.
    } else if (Object.keys(node).every((key) => droppedKeys.has(key) || key === 'description')) {
      // z.unknown() / z.any(): an untyped node must keep unknown fields to be structural.
      out['x-kubernetes-preserve-unknown-fields'] = true;
    } else {
      throw new Error(`${where}: every node of a structural schema needs a type`);
    }
  }
  return out as JSONSchemaProps;
}

const statusDescription =
  'Written by the policy watcher: readiness, matched targets, remediations in flight and the last outcome.';

/**
 * status.conditions is a map list keyed by type, as metav1.Condition lists are (+listType=map):
 * server-side apply then merges one condition per writer instead of replacing the whole list, and
 * tools that read conditions (kubectl wait --for=condition, kstatus) find them by type.
 */
function withConditionsByType(status: JSONSchemaProps): JSONSchemaProps {
  const conditions = status.properties?.conditions;
  if (!conditions) throw new Error('the policy status has no conditions to key by type');
  return {
    ...status,
    properties: {
      ...status.properties,
      conditions: {
        ...conditions,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      },
    },
  };
}

export function policySchema(kind: PolicyKind): JSONSchemaProps {
  const spec = structuralSchema(policyKinds[kind].spec);
  const status = withConditionsByType(structuralSchema(policyStatus));
  return {
    type: 'object',
    description:
      kind === 'RemediationPolicy'
        ? 'RemediationPolicy remediates targets in its own namespace when its conditions hold.'
        : 'ClusterRemediationPolicy remediates targets in the namespaces it names or selects, and Nodes.',
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description: 'The versioned schema of this representation of an object.',
      },
      kind: { type: 'string', description: 'The REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: { type: 'object', description: 'What to watch, when to act and how.', ...spec },
      status: { type: 'object', description: statusDescription, ...status },
    },
  };
}

export const printerColumns: PrinterColumn[] = [
  { name: 'Target kind', type: 'string', jsonPath: '.spec.target.kind' },
  { name: 'Target', type: 'string', jsonPath: '.spec.target.name' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  {
    name: 'Matched',
    type: 'integer',
    jsonPath: '.status.matchedTargets',
    description: 'How many targets the policy matched at the last evaluation.',
  },
  {
    // The API server prints only the first value of a printer column's JSONPath, and JSONPath
    // cannot count: this shows the first target under remediation, all are in the status.
    name: 'Active',
    type: 'string',
    jsonPath: '.status.activeRemediations[*].target',
    description: 'A target under remediation now (the first; status.activeRemediations lists all).',
  },
  { name: 'Last outcome', type: 'string', jsonPath: '.status.lastOutcome.outcome' },
  { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspend' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function crdName(kind: PolicyKind): string {
  return `${policyKinds[kind].plural}.${group}`;
}

/** The names block every KubeMedic CRD has: its kind's names, in the `kubemedic` category. */
function crdNames(names: {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
}): CustomResourceDefinition['spec']['names'] {
  return {
    kind: names.kind,
    listKind: `${names.kind}List`,
    plural: names.plural,
    singular: names.singular,
    shortNames: [...names.shortNames],
    categories: ['kubemedic'],
  };
}

export function customResourceDefinition(kind: PolicyKind): CustomResourceDefinition {
  const names = policyKinds[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind), labels: { 'app.kubernetes.io/part-of': 'kubemedic' } },
    spec: {
      group,
      names: crdNames(names),
      scope: names.scope,
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: { openAPIV3Schema: policySchema(kind) },
        },
      ],
    },
  };
}

/** The CRD of RemediationDecision or RemediationPause (api/decision.ts): the same envelope, its own columns. */
export function decisionCustomResourceDefinition(kind: DecisionKind): CustomResourceDefinition {
  const names = decisionKinds[kind];
  const policyShaped = customResourceDefinition('RemediationPolicy');
  const [served] = policyShaped.spec.versions;
  if (!served) throw new Error('the policy CRD has no version');
  return {
    ...policyShaped,
    metadata: { ...policyShaped.metadata, name: `${names.plural}.${group}` },
    spec: {
      ...policyShaped.spec,
      names: crdNames(names),
      scope: names.scope,
      versions: [
        {
          ...served,
          additionalPrinterColumns: [...names.printerColumns],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: names.description,
              required: ['spec'],
              properties: {
                ...policySchema('RemediationPolicy').properties,
                spec: { type: 'object', ...structuralSchema(names.spec) },
                status: {
                  type: 'object',
                  description: 'Written by the policy watcher: what became of it.',
                  ...structuralSchema(names.status),
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** Every CRD: the two policies (RemediationPolicy first), then RemediationDecision and RemediationPause. */
export function customResourceDefinitions(): CustomResourceDefinition[] {
  return [
    ...(Object.keys(policyKinds) as PolicyKind[]).map(customResourceDefinition),
    ...(Object.keys(decisionKinds) as DecisionKind[]).map(decisionCustomResourceDefinition),
  ];
}
