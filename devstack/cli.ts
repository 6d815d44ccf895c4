/**
 * `npm run devstack -- up|down|status|env`: the local stack in one command.
 * `demo` (what `npm run demo` runs) plays devstack/demo.ts: a remediation that heals and one that rolls back.
 */
import { paths } from './config.ts';
import { runDemo } from './demo.ts';
import { down, environment, status, up } from './stack.ts';

async function printStatus(): Promise<boolean> {
  const rows = await status();
  for (const row of rows) {
    const state = row.pid === undefined ? 'stopped' : row.healthy ? 'healthy' : 'unhealthy';
    const memory = row.residentMiB === undefined ? '' : `${row.residentMiB} MiB`;
    console.log(
      `${row.name.padEnd(26)} ${state.padEnd(10)} ${String(row.pid ?? '-').padEnd(8)} ${memory.padEnd(9)} ${row.url}`,
    );
  }
  return rows.every((row) => row.healthy);
}

function printWhereEverythingIs(): void {
  const env = environment();
  console.log(`
Temporal Web UI   ${env.TEMPORAL_UI_URL}
Temporal gRPC     ${env.TEMPORAL_ADDRESS} (namespace ${env.TEMPORAL_NAMESPACE})
temporal-server   ${env.KUBEMEDIC_TEMPORAL_SERVER_ADDRESS} (on PostgreSQL; production-shaped)
Kubernetes        KUBECONFIG=${env.KUBECONFIG}
Second cluster    KUBECONFIG=${env.KUBECONFIG_B}
Prometheus        ${env.PROMETHEUS_URL}
Alertmanager      ${env.ALERTMANAGER_URL}
Logs              ${env.KUBEMEDIC_LOG_DIR}
Environment       source ${paths.envFile}`);
}

const commands: Record<string, () => Promise<number>> = {
  up: async () => {
    await up();
    printWhereEverythingIs();
    return 0;
  },
  down: async () => {
    await down();
    return 0;
  },
  status: async () => ((await printStatus()) ? 0 : 1),
  env: async () => {
    for (const [key, value] of Object.entries(environment())) console.log(`export ${key}=${value}`);
    return 0;
  },
  demo: async () => {
    const runs = await runDemo({ log: console.log, keepRunning: true });
    printWhereEverythingIs();
    return runs.every((run) => run.outcome === run.expected) ? 0 : 1;
  },
};

const name = process.argv[2] ?? 'status';
const command = commands[name];
if (command === undefined) {
  console.error(`unknown command "${name}"; use one of: ${Object.keys(commands).join(', ')}`);
  process.exit(2);
}
command().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`devstack ${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
