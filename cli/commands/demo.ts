/** `kubemedic demo`: the demo on the local stack (devstack/demo.ts), step by step. */
import type { Command } from '../command.ts';
import { CliError, exitCodes, messageOf } from '../errors.ts';

type RunDemo = (options: { log: (line: string) => void }) => Promise<void>;

export const demo: Command = {
  name: 'demo',
  summary: 'run the demo on the local stack: a workload gets sick, a policy fires, a run remediates',
  usage: 'demo',
  help: [
    'Brings the local stack up if needed, then plays the scenarios of devstack/demo.ts and',
    'prints the Web UI link to watch them.',
  ],
  options: {},
  async run(context) {
    // Imported when asked for: the demo pulls in the whole local stack, which other commands do not need.
    const modulePath = '../../devstack/demo.ts';
    let runDemo: RunDemo | undefined;
    try {
      runDemo = ((await import(modulePath)) as { runDemo?: RunDemo }).runDemo;
    } catch (error) {
      throw new CliError(exitCodes.error, `the demo is not available in this checkout (${messageOf(error)})`);
    }
    if (typeof runDemo !== 'function') {
      throw new CliError(
        exitCodes.error,
        'devstack/demo.ts does not export runDemo: the demo is not available',
      );
    }
    await runDemo({ log: (line) => context.out.line(line) });
  },
};
