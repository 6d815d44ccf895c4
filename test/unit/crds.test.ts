/**
 * The CRD YAML in charts/kubemedic/crds, the chart's dashboard and docs/policy-reference.md are
 * generated from api/; this fails when the committed files are not what `npm run generate` writes
 * now, and checks that the generated schemas are structural in the ways zod's JSON Schema output
 * is not by itself.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { customResourceDefinitions, structuralSchema, type JSONSchemaProps } from '../../api/index.ts';
import { crdDirectory, renderCrdFiles, repoRoot } from '../../api/generate-crds.ts';
import { renderGeneratedFiles } from '../../api/generate.ts';

const regenerate = 'run `npm run generate` and commit the result';

describe('the committed generated files (CRDs, dashboard, policy reference, configuration table)', () => {
  for (const file of renderGeneratedFiles()) {
    it(`${basename(file.path)} is what api/ generates`, () => {
      const where = relative(repoRoot, file.path);
      assert.ok(existsSync(file.path), `${where} is missing: ${regenerate}`);
      const committed = readFileSync(file.path, 'utf8');
      if (committed === file.content) return;
      assert.fail(
        `${where} differs from what api/ generates (${firstDifference(committed, file.content)}): ${regenerate}`,
      );
    });
  }

  it('has no CRD file that the generator no longer writes', () => {
    const expected = renderCrdFiles().map((file) => basename(file.path));
    const present = readdirSync(crdDirectory).filter((name) => name.endsWith('.yaml'));
    assert.deepEqual(
      present.sort(),
      expected.sort(),
      `stale CRD files in ${relative(repoRoot, crdDirectory)}: ${regenerate}`,
    );
  });
});

describe('the generated schemas', () => {
  for (const crd of customResourceDefinitions()) {
    it(`${crd.spec.names.kind} is structural: typed nodes, no zod noise`, () => {
      const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;
      assert.ok(schema);
      for (const [path, node] of nodes(schema, crd.spec.names.kind)) {
        const raw = node as Record<string, unknown>;
        assert.ok(
          node.type !== undefined || node['x-kubernetes-preserve-unknown-fields'] === true,
          `${path} has a type`,
        );
        assert.equal(raw.$schema, undefined, `${path} has no $schema`);
        assert.ok(
          !(node.properties && node.additionalProperties),
          `${path} has not both properties and additionalProperties`,
        );
        assert.notEqual(Math.abs(node.maximum ?? 0), Number.MAX_SAFE_INTEGER, `${path} maximum`);
        assert.notEqual(Math.abs(node.minimum ?? 0), Number.MAX_SAFE_INTEGER, `${path} minimum`);
        for (const key of ['anyOf', 'oneOf', 'allOf', 'not', '$ref'])
          assert.equal(raw[key], undefined, `${path} has no ${key}`);
      }
    });
  }

  it('keeps CEL rules, defaults and free-form fields', () => {
    const [namespaced] = customResourceDefinitions();
    const spec = namespaced?.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec;
    assert.ok(spec?.properties);
    assert.deepEqual(spec['x-kubernetes-validations']?.[0]?.message, 'condition names must be unique');
    assert.equal(spec.properties.cooldown?.default, '10m');
    assert.equal(spec.properties.match?.default, 'All');
    const template = spec.properties.actions?.items?.properties?.runJob?.properties?.template;
    // A JobSpec kept as written at every level; only the fields CEL refuses are declared
    const pod = template?.properties?.template?.properties?.spec;
    for (const level of [template, template?.properties?.template, pod])
      assert.equal(level?.['x-kubernetes-preserve-unknown-fields'], true);
    assert.equal(pod?.properties?.hostPID?.type, 'boolean');
  });

  it('refuses a zod schema that has no structural form, naming where', () => {
    assert.throws(
      () => structuralSchema(z.object({ either: z.union([z.string(), z.number()]) })),
      /\.either: JSON Schema keyword anyOf has no Kubernetes structural equivalent/,
    );
  });
});

function* nodes(node: JSONSchemaProps, path: string): Generator<[string, JSONSchemaProps]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {})) yield* nodes(child, `${path}.${name}`);
  if (node.items) yield* nodes(node.items, `${path}[]`);
  if (node.additionalProperties) yield* nodes(node.additionalProperties, `${path}.*`);
}

function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `line ${i + 1}: committed ${JSON.stringify(a[i] ?? '<end>')}, generated ${JSON.stringify(b[i] ?? '<end>')}`;
  }
  return 'same lines, different bytes';
}
