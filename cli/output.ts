/**
 * How the CLI prints, as kubectl does: aligned tables for people (`-o wide` adds columns where a
 * command has more to show), one JSON or YAML value with a stable shape for scripts (`-o json`,
 * `-o yaml`; `--json` is `-o json`).
 */
// yaml, not the Kubernetes client's dumpYaml: that would load the whole client before any command runs.
import { stringify as yamlOf } from 'yaml';

export const outputFormats = ['json', 'yaml', 'wide'] as const;
/** `text` is the default: what is printed without -o. */
export type OutputFormat = 'text' | (typeof outputFormats)[number];

export interface Output {
  format: OutputFormat;
  /** json or yaml: one value for scripts, and nothing else on stdout. */
  structured: boolean;
  /** -o wide: the tables' extra columns. */
  wide: boolean;
  line(text?: string): void;
  /** Prints `data` as JSON or YAML with -o json|yaml, otherwise calls `human`. */
  result(data: unknown, human: () => void): void;
}

/** `data` as the structured format prints it; YAML holds the same value as the JSON. */
export function serialize(format: 'json' | 'yaml', data: unknown): string {
  const json = JSON.stringify(data, null, 2);
  return format === 'json' ? `${json}\n` : yamlOf(JSON.parse(json));
}

export function createOutput(
  format: OutputFormat,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Output {
  const structured = format === 'json' || format === 'yaml';
  return {
    format,
    structured,
    wide: format === 'wide',
    line: (text = '') => write(`${text}\n`),
    result(data, human) {
      if (format === 'json' || format === 'yaml') write(serialize(format, data));
      else human();
    },
  };
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(headers), ...rows.map(format)].join('\n');
}

/**
 * A table whose `wide` columns show with -o wide only. Each column is a header and how a row
 * fills it, so a column and its cells cannot drift apart.
 */
export function columns<T>(
  out: Output,
  rows: T[],
  normal: [string, (row: T) => string][],
  wide: [string, (row: T) => string][],
): string {
  const shown = out.wide ? [...normal, ...wide] : normal;
  return table(
    shown.map(([header]) => header),
    rows.map((row) => shown.map(([, cell]) => cell(row))),
  );
}

/** `label  value` lines with the labels aligned. */
export function fields(entries: [string, string | undefined][]): string {
  const shown = entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

export const isoTime = (date: Date | undefined) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

/** A value as short text: strings bare, everything else as compact JSON. */
export const brief = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
