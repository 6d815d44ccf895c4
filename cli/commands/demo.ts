/** `kubemedic demo`: the demo on the local stack (devstack/demo.ts), step by step. */
import type { Command } from '../command.ts';
import { CliError, exitCodes, messageOf } from '../errors.ts';

/** What devstack/demo.ts offers; typed here so the CLI builds without it. */
interface DemoModule {
  runDemo?: (options: { log: (line: string) => void }) => Promise<unknown>;
  demoCluster?: string;
}
interface DemoRun {
  workflowId: string;
  outcome: string;
  reason: string;
}

export const demo: Command = {
  name: 'demo',
  summary: 'run the demo on the local stack: a workload gets sick, a policy fires, a run remediates',
  usage: 'demo',
  help: [
    'Brings the local stack up if needed, then plays the scenarios of devstack/demo.ts and',
    'prints the Web UI link to watch them. With -o json|yaml, the story goes to stderr and stdout',
    'gets the runs: workflowId, outcome, reason and the command that explains each.',
  ],
  options: {},
  async run(context) {
    // Imported when asked for: the demo pulls in the whole local stack, which other commands do not need.
    const modulePath = '../../devstack/demo.ts';
    let demoModule: DemoModule;
    try {
      demoModule = (await import(modulePath)) as DemoModule;
    } catch (error) {
      // The installed package (cli/package/build.ts) carries no devstack/: the demo needs a checkout.
      throw new CliError(
        exitCodes.error,
        `the demo runs the local stack of a KubeMedic checkout: run \`npm run demo\` in one (${messageOf(error)})`,
      );
    }
    const { runDemo, demoCluster = context.flags.cluster } = demoModule;
    if (typeof runDemo !== 'function') {
      throw new CliError(
        exitCodes.error,
        'devstack/demo.ts does not export runDemo: the demo is not available',
      );
    }
    // With -o json|yaml the story goes to stderr, so stdout holds only the runs, as one value.
    const say = (line: string) =>
      context.out.structured ? process.stderr.write(`${line}\n`) : context.out.line(line);
    const runs = ((await runDemo({ log: say })) ?? []) as DemoRun[];
    const explained = runs.map((run) => ({
      ...run,
      explain: `kubemedic explain ${run.workflowId} --cluster ${demoCluster}`,
    }));
    context.out.result(explained, () => {
      if (explained.length === 0) return;
      context.out.line();
      context.out.line('Read how each run went and why:');
      for (const run of explained) context.out.line(`  ${run.outcome.padEnd(10)} ${run.explain}`);
    });
  },
};
