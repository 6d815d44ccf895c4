/** `kubemedic completion bash|zsh|fish`: the shell's completion script, from the command table. */
import type { Command } from '../command.ts';
import { completionScript, shells } from '../completion.ts';
import { usageError } from '../errors.ts';
import { didYouMean } from '../suggest.ts';

export const completion: Command = {
  name: 'completion',
  summary: 'a shell completion script: bash, zsh or fish',
  usage: 'completion bash|zsh|fish',
  help: [
    'Completes commands, their flags and the values of -o, for kubemedic and kubectl-kubemedic.',
    '  bash: source <(kubemedic completion bash)   (or save it under /etc/bash_completion.d/)',
    '  zsh:  source <(kubemedic completion zsh)    (or save it as _kubemedic on your $fpath)',
    '  fish: kubemedic completion fish > ~/.config/fish/completions/kubemedic.fish',
  ],
  options: {},
  async run(context, [shell]) {
    const known = shells.find((s) => s === shell);
    if (!known) {
      const suggestion = shell ? didYouMean(shell, shells, (s) => `\`kubemedic completion ${s}\``) : '';
      throw usageError(
        `completion takes ${shells.join(', ')}${shell ? `, not "${shell}".${suggestion}` : ''}`,
      );
    }
    // The table is read when asked for: it lists this command too, so it cannot be imported above.
    const { commands } = await import('./index.ts');
    process.stdout.write(completionScript(known, commands));
  },
};
