/** `kubemedic help` and `kubemedic <command> --help`. */
import type { CommandSpec } from './command.ts';
import { exitCodeHelp } from './errors.ts';

const globalHelp = [
  'Global flags:',
  '  -o, --output FORMAT         json or yaml: one value with a stable shape per command, for scripts;',
  '                              wide: the tables with more columns (`--json` is `-o json`)',
  '  --cluster NAME              the KubeMedic cluster name (default $KUBEMEDIC_CLUSTER or "local")',
  '  --address HOST:PORT         Temporal frontend (default $TEMPORAL_ADDRESS or 127.0.0.1:7233;',
  '                              TLS and API key from TEMPORAL_TLS_* / TEMPORAL_API_KEY)',
  '  --temporal-namespace NAME   Temporal namespace (default $TEMPORAL_NAMESPACE or "default")',
  '  --kubeconfig PATH           kubeconfig for `list policies` and `restore` (default $KUBECONFIG)',
  "  --context NAME              the kubeconfig's context to use (default its current-context)",
  '  --version                   the CLI version',
  '  --help, -h                  help for a command',
];

export function generalHelp(commands: CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'kubemedic: talk to KubeMedic remediation runs on Temporal.',
    '',
    'Usage: kubemedic <command> [arguments] [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  this help; \`kubemedic <command> --help\` for one command`,
    '',
    ...globalHelp,
    '',
    'Exit codes:',
    ...exitCodeHelp.map(([code, meaning]) => `  ${code}  ${meaning}`),
  ].join('\n');
}

export function commandHelp(command: CommandSpec): string {
  return [
    `Usage: kubemedic ${command.usage}`,
    '',
    command.summary,
    '',
    ...command.help,
    '',
    ...globalHelp,
  ].join('\n');
}
