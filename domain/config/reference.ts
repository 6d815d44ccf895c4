/**
 * docs/configuration.md, written by `npm run generate` from the processes' schemas: every
 * variable the worker, the watcher and the CLI read, with its default, the values allowed and the
 * chart value that sets it. A test fails when the committed page is not current.
 */
import type { z } from 'zod';
import { cliEnvironment } from './cli.ts';
import { variableDocs } from './environment.ts';
import { watcherEnvironment } from './watcher.ts';
import { workerEnvironment } from './worker.ts';

const processes: [string, z.ZodObject][] = [
  ['worker', workerEnvironment],
  ['watcher', watcherEnvironment],
  ['CLI', cliEnvironment],
];

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** One row per variable and meaning: a variable whose default differs per process has a row for each. */
function rows(): string[] {
  const byMeaning = new Map<string, { name: string; readers: string[]; schema: z.ZodType }>();
  for (const [reader, schema] of processes) {
    for (const [name, variable] of Object.entries(schema.shape)) {
      const key = `${name} ${JSON.stringify(variableDocs.get(variable))}`;
      const row = byMeaning.get(key) ?? { name, readers: [] as string[], schema: variable };
      row.readers.push(reader);
      byMeaning.set(key, row);
    }
  }
  return [...byMeaning.values()].map(({ name, readers, schema }) => {
    const doc = variableDocs.get(schema);
    if (!doc) throw new Error(`${name} has no documentation: declare it with optional() or withDefault()`);
    const code = (text: string | undefined) => (text === undefined ? '' : `\`${text}\``);
    return `| \`${name}\` | ${readers.join(', ')} | ${code(doc.default)} | ${cell(doc.allowed)} | ${cell(
      doc.chart === undefined ? '' : doc.chart.replace(/^([\w.]+)/, '`$1`'),
    )} | ${cell(doc.description)} |`;
  });
}

export function renderConfigurationReference(): string {
  return [
    '# Configuration',
    '',
    '<!-- Generated from domain/config/ by `npm run generate`; do not edit. -->',
    '',
    'Each process reads its environment once at start (the worker: `domain/config/worker.ts`, the',
    'policy watcher: `domain/config/watcher.ts`, the CLI: `domain/config/cli.ts`). A value that is not',
    'allowed stops the worker or the watcher at start with exit code 78, and the CLI with exit code 2,',
    'naming the variable and what it allows. An empty variable counts as unset. The Helm chart sets',
    'them from its values (the chart value column); the CLI’s flags (`--cluster`, `--address`,',
    '`--temporal-namespace`, `--kubeconfig`, `--by`) override its variables.',
    '',
    '| variable | read by | default | allowed | chart value | what it sets |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows(),
    '',
  ].join('\n');
}
