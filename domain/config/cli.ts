/**
 * The `kubemedic` command's configuration from its environment; its flags (--cluster,
 * --address, --temporal-namespace, --kubeconfig, --by) override what is read here.
 */
import { z } from 'zod';
import { type Environment, optional, parseEnvironment } from './environment.ts';
import {
  checkTemporalVariables,
  type TemporalConfig,
  temporalConfig,
  temporalVariables,
} from './temporal-connection.ts';
import { kubeconfig, kubemedicCluster } from './variables.ts';

const user = (system: string) =>
  optional(z.string(), {
    description: `Who acts, for approve, reject, cancel, pause and resume without --by (${system}).`,
    allowed: 'a name',
  });

export const cliEnvironment = z
  .object({
    ...temporalVariables,
    KUBEMEDIC_CLUSTER: kubemedicCluster,
    KUBECONFIG: kubeconfig,
    USER: user('Unix'),
    USERNAME: user('Windows'),
  })
  .superRefine(checkTemporalVariables);

export interface CliConfig {
  temporal: TemporalConfig;
  cluster: string;
  kubeconfig: string | undefined;
  /** Who acts when --by is not given. */
  user: string;
}

export function cliConfig(env: Environment): CliConfig {
  const v = parseEnvironment(cliEnvironment, env);
  return {
    temporal: temporalConfig(v),
    cluster: v.KUBEMEDIC_CLUSTER,
    kubeconfig: v.KUBECONFIG,
    user: v.USER ?? v.USERNAME ?? 'kubemedic-cli',
  };
}
