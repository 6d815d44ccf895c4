/**
 * Shell completion scripts for bash, zsh and fish, generated from the one command table
 * (cli/commands/index.ts) and the global flags, so a new command or flag completes without
 * anyone editing a script: commands, each command's flags, and the values of -o.
 */
import type { Command, Options } from './command.ts';
import { globalOptions } from './context.ts';
import { outputFormats } from './output.ts';

export const shells = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof shells)[number];

/** The names the CLI is installed as: kubectl finds plugins by the second. */
const programs = ['kubemedic', 'kubectl-kubemedic'];

interface Flag {
  long: string;
  short?: string;
  takesValue: boolean;
}

const flagsOf = (options: Options): Flag[] =>
  Object.entries(options).map(([name, option]) => ({
    long: `--${name}`,
    short: option.short ? `-${option.short}` : undefined,
    takesValue: option.type === 'string',
  }));

/** Each command's flags with the global ones, and `help`, which main.ts handles. */
function table(commands: Command[]) {
  const global = flagsOf(globalOptions);
  return {
    global,
    commands: [
      ...commands.map((c) => ({
        name: c.name,
        summary: c.summary,
        flags: [...global, ...flagsOf(c.options)],
      })),
      { name: 'help', summary: 'help for a command', flags: global },
    ],
  };
}

const words = (flags: Flag[]) => flags.flatMap((f) => (f.short ? [f.short, f.long] : [f.long])).join(' ');

export function completionScript(shell: Shell, commands: Command[]): string {
  const generate = { bash, zsh, fish }[shell];
  return generate(table(commands));
}

type Table = ReturnType<typeof table>;

function bash({ global, commands }: Table): string {
  const valued = [
    ...new Set(
      words([...global, ...commands.flatMap((c) => c.flags)].filter((f) => f.takesValue)).split(' '),
    ),
  ];
  return `# kubemedic completion for bash: source <(kubemedic completion bash)
_kubemedic() {
  local cur prev command i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "${outputFormats.join(' ')}" -- "$cur")); return ;;
  esac
  # The command is the first word that is neither a flag nor a flag's value.
  command=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${valued.join('|')}) ((i++)) ;;
      -*) ;;
      *) command="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$command" in
${commands.map((c) => `    ${c.name}) COMPREPLY=($(compgen -W "${words(c.flags)}" -- "$cur")) ;;`).join('\n')}
    "") COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} ${words(global)}" -- "$cur")) ;;
  esac
}
complete -F _kubemedic ${programs.join(' ')}
`;
}

function zsh({ global, commands }: Table): string {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const specs = (flags: Flag[]) =>
    flags
      .map((f) => {
        const value =
          f.long === '--output' ? `:format:(${outputFormats.join(' ')})` : f.takesValue ? ':value: ' : '';
        const names = f.short ? `{${f.short},${f.long}}` : f.long;
        const exclusive = f.short ? `'(${f.short} ${f.long})'` : '';
        return f.short ? `${exclusive}${names}${quote(value)}` : quote(`${names}${value}`);
      })
      .join(' ');
  return `#compdef ${programs.join(' ')}
# kubemedic completion for zsh: source <(kubemedic completion zsh)
_kubemedic() {
  local line state
  _arguments -C ${specs(global)} '1: :->command' '*:: :->args'
  case $state in
    command)
      local -a commands
      commands=(${commands.map((c) => quote(`${c.name}:${c.summary}`)).join(' ')})
      _describe command commands ;;
    args)
      case $line[1] in
${commands.map((c) => `        ${c.name}) _arguments ${specs(c.flags)} ;;`).join('\n')}
      esac ;;
  esac
}
if [ "$funcstack[1]" = "_kubemedic" ]; then _kubemedic "$@"; else compdef _kubemedic ${programs.join(' ')}; fi
`;
}

function fish({ global, commands }: Table): string {
  const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const flag = (program: string, condition: string, f: Flag) =>
    [
      `complete -c ${program} -n ${quote(condition)}`,
      f.short ? `-s ${f.short.slice(1)}` : '',
      `-l ${f.long.slice(2)}`,
      f.long === '--output' ? `-x -a ${quote(outputFormats.join(' '))}` : f.takesValue ? '-r' : '',
    ]
      .filter(Boolean)
      .join(' ');
  const lines = programs.flatMap((program) => [
    `complete -c ${program} -f`,
    ...commands.map(
      (c) => `complete -c ${program} -n __fish_use_subcommand -a ${c.name} -d ${quote(c.summary)}`,
    ),
    ...global.map((f) => flag(program, '__fish_use_subcommand', f)),
    ...commands.flatMap((c) => c.flags.map((f) => flag(program, `__fish_seen_subcommand_from ${c.name}`, f))),
  ]);
  return `# kubemedic completion for fish: kubemedic completion fish | source\n${lines.join('\n')}\n`;
}
