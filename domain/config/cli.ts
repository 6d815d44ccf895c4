/**
 * The `kubemedic` command's configuration from its environment; its flags (--cluster,
 * --address, --temporal-namespace, --kubeconfig, --by) override what is read here.
 */
import { z } from 'zod';
import { type Environment, optional, parseEnvironment } from './environment.ts';
import { processConfig, type ProcessConfig, processEnvironment } from './variables.ts';

const user = (system: string) =>
  optional(z.string(), {
    description: `Who acts, for approve, reject, cancel, pause and resume without --by (${system}).`,
    allowed: 'a name',
  });

export const cliEnvironment = processEnvironment({
  USER: user('Unix'),
  USERNAME: user('Windows'),
});

export interface CliConfig extends ProcessConfig {
  kubeconfig: string | undefined;
  /** Who acts when --by is not given. */
  user: string;
}

export function cliConfig(env: Environment): CliConfig {
  const v = parseEnvironment(cliEnvironment, env);
  return {
    ...processConfig(v),
    kubeconfig: v.KUBECONFIG,
    user: v.USER ?? v.USERNAME ?? 'kubemedic-cli',
  };
}
