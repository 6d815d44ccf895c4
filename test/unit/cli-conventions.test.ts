/**
 * The CLI's kubectl conventions that need no server: "did you mean", help that documents every
 * flag a command takes, -o json|yaml|wide, and errors whose next step fits the user's situation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { commands } from '../../cli/commands/index.ts';
import { globalOptions, networkErrorOf } from '../../cli/context.ts';
import { commandHelp, generalHelp } from '../../cli/help.ts';
import { isLoopback, kubeconfigFix, kubernetesFix, temporalFix, workerFix } from '../../cli/next-steps.ts';
import { columns, createOutput, type OutputFormat, serialize } from '../../cli/output.ts';
import { looksLikeObject, parseObjectName } from '../../cli/object-names.ts';
import { objectRunsQuery, runNotFound } from '../../cli/runs.ts';
import { closest, didYouMean } from '../../cli/suggest.ts';

describe('did you mean', () => {
  const names = commands.map((c) => c.name);

  it('suggests the command within two edits, or the one a prefix begins', () => {
    assert.equal(closest('lsit', names), 'list');
    assert.equal(closest('shwo', names), 'show');
    assert.equal(closest('expl', names), 'explain');
    assert.equal(closest('aprove', names), 'approve');
    assert.equal(closest('--polcy', ['--policy', '--phase']), '--policy');
  });

  it('suggests nothing when nothing is close', () => {
    assert.equal(closest('frobnicate', names), undefined);
    assert.equal(
      didYouMean('frobnicate', names, (c) => c),
      '',
    );
    assert.equal(
      didYouMean('lsit', names, (c) => `\`kubemedic ${c}\``),
      ' Did you mean `kubemedic list`?',
    );
  });
});

describe('help', () => {
  it("documents every flag of every command, in its usage line or its help (approve's --run-id too)", () => {
    for (const command of commands) {
      const text = [command.usage, ...command.help].join('\n');
      for (const option of Object.keys(command.options)) {
        assert.match(
          text,
          new RegExp(`--${option}\\b`),
          `kubemedic ${command.name} --help lacks --${option}`,
        );
      }
    }
  });

  it('documents every global flag, in the general help and each command help', () => {
    for (const help of [generalHelp(commands), ...commands.map(commandHelp)]) {
      for (const option of Object.keys(globalOptions)) assert.match(help, new RegExp(`--${option}\\b`));
    }
  });
});

describe('output formats', () => {
  const printed = (format: OutputFormat, data: unknown) => {
    let text = '';
    const out = createOutput(format, (t) => (text += t));
    out.result(data, () => out.line('for people'));
    return text;
  };
  const data = { workflowId: 'remediation/x', startTime: new Date(0), absent: undefined, steps: [{ n: 1 }] };

  it('prints one value for scripts: YAML holds what the JSON holds', () => {
    const json: unknown = JSON.parse(printed('json', data));
    assert.deepEqual(json, {
      workflowId: 'remediation/x',
      startTime: '1970-01-01T00:00:00.000Z',
      steps: [{ n: 1 }],
    });
    assert.deepEqual(parseYaml(printed('yaml', data)), json);
    assert.deepEqual(parseYaml(serialize('yaml', { error: { code: 2, message: 'a: b' } })), {
      error: { code: 2, message: 'a: b' },
    });
  });

  it('prints the human form for text and wide, with the wide columns only for wide', () => {
    assert.equal(printed('text', data), 'for people\n');
    assert.equal(printed('wide', data), 'for people\n');
    const rows = [{ id: 'a', runId: 'r1' }];
    const table = (format: OutputFormat) =>
      columns(
        createOutput(format, () => {}),
        rows,
        [['ID', (r) => r.id]],
        [['RUN ID', (r) => r.runId]],
      );
    assert.equal(table('text'), 'ID\na');
    assert.equal(table('wide'), 'ID  RUN ID\na   r1');
  });
});

describe('errors name the next step for the situation', () => {
  const checkout = { checkout: true };
  const installed = { checkout: false };

  it('tells loopback addresses from remote ones', () => {
    for (const local of ['127.0.0.1:7233', 'localhost:7233', 'https://127.0.0.1:6443', 'https://[::1]:6443'])
      assert.ok(isLoopback(local), local);
    for (const remote of ['temporal.example.com:7233', 'https://10.0.0.1:6443', '127.example.com:1'])
      assert.ok(!isLoopback(remote), remote);
  });

  it('Temporal: the local stack only from a checkout, a port-forward when installed, a health check when remote', () => {
    assert.match(
      temporalFix('127.0.0.1:7233', checkout),
      /start the local stack with `npm run devstack -- up`/,
    );
    const forwarded = temporalFix('127.0.0.1:7233', installed);
    assert.match(forwarded, /`kubectl port-forward -n temporal svc\/temporal-frontend 7233:7233`/);
    const remote = temporalFix('temporal.example.com:7233', checkout);
    assert.match(remote, /`temporal operator cluster health --address temporal\.example\.com:7233`/);
    for (const message of [forwarded, remote]) assert.doesNotMatch(message, /devstack/);
  });

  it('Kubernetes: the local stack only for a loopback server from a checkout, else the context to check', () => {
    assert.match(kubernetesFix('https://127.0.0.1:6443', 'dev', checkout), /npm run devstack -- up/);
    const remote = kubernetesFix('https://prod.example.com', 'prod', checkout);
    assert.match(remote, /`kubectl --context prod cluster-info`/);
    assert.match(remote, /--context/);
    assert.doesNotMatch(remote, /devstack/);
    assert.doesNotMatch(kubernetesFix('https://127.0.0.1:6443', 'kind-kind', installed), /devstack/);
    assert.match(kubeconfigFix(checkout), /source \.devstack\/env/);
    assert.doesNotMatch(kubeconfigFix(installed), /devstack/);
  });

  it('a worker that does not answer: the commands that show its Pods and the pollers of its task queue', () => {
    const fix = workerFix('kubemedic-prod');
    assert.match(
      fix,
      /`kubectl get pods -A -l app\.kubernetes\.io\/name=kubemedic,app\.kubernetes\.io\/component=worker`/,
    );
    assert.match(fix, /`temporal task-queue describe --task-queue kubemedic-prod`/);
  });

  it('a run that is not there: the listing that would show its target, or how runs are named', () => {
    assert.match(
      runNotFound('remediation/prod/shop/Deployment/web/scale-web', undefined, 'default'),
      /find runs with `kubemedic list`; this target's: `kubemedic list --cluster prod -n shop`/,
    );
    assert.match(
      runNotFound('remediation/prod/_cluster/Node/n1/cluster:drain', undefined, 'default'),
      /this target's: `kubemedic list --cluster prod`/,
    );
    assert.match(
      runNotFound('web', 'r1', 'ops'),
      /no run web \(run r1\) in Temporal namespace ops: .*remediation\/<cluster>/,
    );
  });

  it("tells an API server that is not there from one that answered: fetch's and raw requests' failures", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:16443'), {
      code: 'ECONNREFUSED',
    });
    assert.equal(networkErrorOf(new TypeError('fetch failed', { cause: refused })), refused);
    assert.equal(networkErrorOf(refused), refused);
    assert.equal(
      networkErrorOf(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' })) !== undefined,
      true,
    );
    // An answer, even a refusal, is not "unreachable"
    assert.equal(networkErrorOf(Object.assign(new Error('403 Forbidden'), { status: 403 })), undefined);
    assert.equal(networkErrorOf(new TypeError('x is not a function')), undefined);
  });
});

describe('naming a run by its object', () => {
  it("takes kubectl's kind names, short and plural, and refuses what no policy targets", () => {
    for (const [text, kind] of [
      ['deploy/web', 'Deployment'],
      ['deployments.apps/web', 'Deployment'],
      ['Deployment/web', 'Deployment'],
      ['sts/db', 'StatefulSet'],
      ['po/web-0', 'Pod'],
      ['no/node-1', 'Node'],
    ] as const) {
      assert.deepEqual(parseObjectName(text), { kind, name: text.split('/')[1] });
    }
    assert.throws(() => parseObjectName('ds/agent'), /KubeMedic policies do not target ds/);
    assert.throws(() => parseObjectName('gadget/web'), /"gadget" is not a kind/);
    assert.throws(() => parseObjectName('deploy/Web_1'), /"Web_1" is not a Kubernetes object name/);
    assert.equal(looksLikeObject('deploy/web'), true);
    assert.equal(looksLikeObject('remediation/local/shop/Deployment/web/p'), false);
  });

  it("queries the target's search attributes; a bare policy name is the namespace's or a cluster policy", () => {
    const query = objectRunsQuery('prod', { kind: 'Deployment', name: 'web' }, 'shop', 'p');
    assert.match(query, /KubeMedicCluster = 'prod' AND KubeMedicTargetKind = 'Deployment'/);
    assert.match(
      query,
      /KubeMedicNamespace = 'shop' AND \(KubeMedicPolicy = 'shop\/p' OR KubeMedicPolicy = 'p'\)$/,
    );
    // A node has no namespace; a quote in a value cannot end the string
    const node = objectRunsQuery('prod', { kind: 'Node', name: 'n1' }, undefined, "x' OR '1'='1");
    assert.doesNotMatch(node, /KubeMedicNamespace/);
    assert.match(node, /KubeMedicPolicy = 'x\\' OR \\'1\\'=\\'1'\)$/);
  });
});
