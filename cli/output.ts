/** How the CLI prints: aligned tables for people, JSON with a stable shape for scripts. */

export interface Output {
  json: boolean;
  line(text?: string): void;
  /** Prints `data` as JSON when --json is set, otherwise calls `human`. */
  result(data: unknown, human: () => void): void;
}

export function createOutput(
  json: boolean,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Output {
  return {
    json,
    line: (text = '') => write(`${text}\n`),
    result(data, human) {
      if (json) write(`${JSON.stringify(data, null, 2)}\n`);
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

/** `label  value` lines with the labels aligned. */
export function fields(entries: [string, string | undefined][]): string {
  const shown = entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

export const isoTime = (date: Date | undefined) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

/** A value as short text: strings bare, everything else as compact JSON. */
export const brief = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
