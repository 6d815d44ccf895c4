/**
 * `npm run generate`: writes every file derived from api/ and domain/config/ — the chart's CRDs and decision admission policy,
 * its Grafana dashboard, the policy reference page and the configuration table. Tests fail when a committed copy is not current.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderConfigurationReference } from '../domain/config/reference.ts';
import { renderDecisionAdmissionPolicy } from './admission-policy.ts';
import { renderDashboard } from './dashboard.ts';
import { type RenderedFile, renderCrdFiles, repoRoot } from './generate-crds.ts';
import { renderPolicyReference } from './policy-reference.ts';

export const dashboardFile = join(repoRoot, 'charts', 'kubemedic', 'files', 'dashboard.json');
export const policyReferenceFile = join(repoRoot, 'docs', 'policy-reference.md');
export const decisionAdmissionPolicyFile = join(
  repoRoot,
  'charts',
  'kubemedic',
  'templates',
  'decision-admission-policy.yaml',
);
export const configurationReferenceFile = join(repoRoot, 'docs', 'configuration.md');

export function renderGeneratedFiles(): RenderedFile[] {
  return [
    ...renderCrdFiles(),
    { path: dashboardFile, content: `${JSON.stringify(renderDashboard(), null, 2)}\n` },
    { path: policyReferenceFile, content: renderPolicyReference() },
    { path: decisionAdmissionPolicyFile, content: renderDecisionAdmissionPolicy() },
    { path: configurationReferenceFile, content: renderConfigurationReference() },
  ];
}

function main(): void {
  for (const file of renderGeneratedFiles()) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content);
    console.log(`wrote ${relative(repoRoot, file.path)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
