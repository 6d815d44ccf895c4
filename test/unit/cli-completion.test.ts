/**
 * Shell completion, generated from the command table: every command and flag is in each shell's
 * script, and bash's script completes as a person would see it (run by a real bash).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Options } from '../../cli/command.ts';
import { commands } from '../../cli/commands/index.ts';
import { completionScript, shells } from '../../cli/completion.ts';
import { globalOptions } from '../../cli/context.ts';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('kubemedic completion', () => {
  for (const shell of shells) {
    it(`${shell}: names every command, every flag (long and short) and each -o value`, () => {
      const script = completionScript(shell, commands);
      for (const command of commands) {
        assert.match(script, new RegExp(`\\b${escape(command.name)}\\b`), `${shell} lacks ${command.name}`);
        const options: Options = { ...globalOptions, ...command.options };
        for (const [name, option] of Object.entries(options)) {
          // fish writes flags as -l name / -s x; bash and zsh as --name / -x
          const long = shell === 'fish' ? `-l ${name}(\\s|$)` : `--${name}\\b`;
          assert.match(script, new RegExp(long, 'm'), `${shell}: ${command.name} lacks --${name}`);
          if (option.short) {
            const short = shell === 'fish' ? `-s ${option.short} ` : `-${option.short}\\b`;
            assert.match(script, new RegExp(short), `${shell}: ${command.name} lacks -${option.short}`);
          }
        }
      }
      for (const format of ['json', 'yaml', 'wide']) assert.match(script, new RegExp(`\\b${format}\\b`));
    });
  }

  /** What bash's completion offers for the words typed so far (the last one being completed). */
  const bashCompletes = (...typed: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `${completionScript('bash', commands)}
COMP_WORDS=(kubemedic "$@"); COMP_CWORD=$#; _kubemedic; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        ...typed,
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);

  it('bash: completes commands, a command’s own flags after global flags with values, and -o', () => {
    assert.deepEqual(bashCompletes('li'), ['list']);
    assert.deepEqual(bashCompletes('list', '--wa'), ['--watch']);
    // --cluster's value is not taken for the command
    assert.deepEqual(bashCompletes('--cluster', 'prod', 'show', '--run'), ['--run-id']);
    assert.deepEqual(bashCompletes('show', 'x', '-o', ''), ['json', 'yaml', 'wide']);
    assert.deepEqual(bashCompletes('completion', '--he'), ['--help']);
  });

  for (const [shell, check] of [
    ['zsh', ['-n']],
    ['fish', ['--no-execute']],
  ] as const) {
    const installed = spawnSync(shell, ['--version']).status === 0;
    it(`${shell}: the script parses`, { skip: installed ? false : `${shell} is not installed here` }, () => {
      // From a file: fish run by Node does not read a script from its stdin (a socket here).
      const script = join(mkdtempSync(join(tmpdir(), 'kubemedic-completion-')), `kubemedic.${shell}`);
      writeFileSync(script, completionScript(shell, commands));
      const result = spawnSync(shell, [...check, script], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
    });
  }
});
