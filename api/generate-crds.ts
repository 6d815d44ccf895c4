/**
 * Renders the CRDs of api/crd.ts as YAML for the Helm chart (written by `npm run generate`).
 * test/unit/crds.test.ts fails when the committed files differ from what this renders.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { customResourceDefinitions } from './crd.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const crdDirectory = join(repoRoot, 'charts', 'kubemedic', 'crds');

const header = '# Generated from api/policy.ts by npm run generate; do not edit.\n';

export interface RenderedFile {
  /** Absolute path. */
  path: string;
  content: string;
}

/** The CRD files as they must be on disk, one per CRD, named after the CRD. */
export function renderCrdFiles(): RenderedFile[] {
  return customResourceDefinitions().map((crd) => ({
    path: join(crdDirectory, `${crd.metadata.name}.yaml`),
    // lineWidth 0: no folding of long descriptions and CEL rules, so the text is stable;
    // single quotes as prettier writes YAML here (the directory is in .prettierignore all the same).
    content: header + stringify(crd, { lineWidth: 0, singleQuote: true }),
  }));
}
