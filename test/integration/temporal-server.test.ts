/**
 * The stack's production-shaped Temporal (devstack/temporal-server.ts): temporal-server built from
 * go.temporal.io/server, on PostgreSQL. It answers with its own version, carries the `default`
 * namespace and KubeMedic's search attributes, keeps runs in PostgreSQL (the visibility row is
 * read back with SQL), finds a run by a custom search attribute, and a second set-up changes nothing.
 */
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { environment } from '../../devstack/environment.ts';
import { postgresDataDir, postgresQuery as sql } from '../../devstack/postgres.ts';
import { status } from '../../devstack/stack.ts';
import {
  ensureTemporalSchemas,
  ensureTemporalServerNamespace,
  schemaDir,
  temporalServerNamespace,
} from '../../devstack/temporal-server.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { ensureStack, eventually } from '../support/stack.ts';

describe('the production-shaped Temporal: temporal-server on PostgreSQL', () => {
  let connection: Connection;
  let client: Client;
  before(async () => {
    await ensureStack();
    connection = await Connection.connect({ address: environment().KUBEMEDIC_TEMPORAL_SERVER_ADDRESS });
    client = new Client({ connection, namespace: temporalServerNamespace });
  });
  after(async () => connection?.close());

  it('is a server of its own, beside the dev server, and status lists it and its database healthy', async () => {
    const { serverVersion } = await connection.workflowService.getSystemInfo({});
    assert.equal(serverVersion, '1.30.8');
    assert.notEqual(environment().KUBEMEDIC_TEMPORAL_SERVER_ADDRESS, environment().TEMPORAL_ADDRESS);
    const rows = await status();
    for (const name of ['postgres', 'temporal-server']) {
      assert.equal(rows.find((row) => row.name === name)?.healthy, true, `${name} is healthy`);
    }
  });

  it('carries the default namespace and every KubeMedic search attribute, as Keyword', async () => {
    await connection.workflowService.describeNamespace({ namespace: temporalServerNamespace });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: temporalServerNamespace,
    });
    for (const key of Object.values(searchAttributes)) {
      // 2 is INDEXED_VALUE_TYPE_KEYWORD in temporal.api.enums.v1.IndexedValueType
      assert.equal(customAttributes?.[key.name], 2, `${key.name} is registered as Keyword`);
    }
  });

  it(
    'keeps a run in PostgreSQL and finds it by a custom search attribute',
    { timeout: 120_000 },
    async () => {
      // Given a run (no worker polls its task queue: it stays Running) with a policy of its own
      const policy = `temporal-server-${randomUUID()}`;
      const handle = await client.workflow.start('noSuchWorkflow', {
        taskQueue: `temporal-server-test-${randomUUID()}`,
        workflowId: `temporal-server-test/${randomUUID()}`,
        typedSearchAttributes: [{ key: searchAttributes.policy, value: policy }],
      });
      try {
        // Then a list by that search attribute finds exactly it (visibility is eventually consistent)
        const found = await eventually('the run listed by KubeMedicPolicy', async () => {
          const ids: string[] = [];
          for await (const run of client.workflow.list({ query: `KubeMedicPolicy = '${policy}'` }))
            ids.push(run.workflowId);
          return ids.length > 0 ? ids : undefined;
        });
        assert.deepEqual(found, [handle.workflowId]);
        // And the row it came from is in PostgreSQL's visibility database
        const stored = await sql(
          'temporal_visibility',
          `SELECT count(*) FROM executions_visibility WHERE workflow_id = '${handle.workflowId}'`,
        );
        assert.equal(stored, '1');
      } finally {
        await handle.terminate('the test is done with it');
      }
    },
  );

  it('changes nothing when set up again: schemas current, namespace and search attributes there', async () => {
    const schemaVersions = () =>
      Promise.all(
        ['temporal', 'temporal_visibility'].map((database) =>
          sql(database, 'SELECT curr_version FROM schema_version'),
        ),
      );
    const before = await schemaVersions();
    // Current: each at the newest version the module ships (folders v1.0 … v1.18)
    const newest = (store: 'default' | 'visibility') =>
      readdirSync(schemaDir(store))
        .map((folder) => folder.slice(1))
        .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
        .at(-1);
    assert.deepEqual(before, [newest('default'), newest('visibility')]);
    const lines: string[] = [];
    await ensureTemporalSchemas((line) => lines.push(line));
    assert.deepEqual(await schemaVersions(), before);
    assert.deepEqual(
      lines.filter((line) => /created/.test(line)),
      [],
      'no database is created a second time',
    );
    const versions = lines.filter((line) => /schema at version/.test(line));
    assert.equal(versions.length, 2, lines.join('\n'));
    assert.equal(await ensureTemporalServerNamespace(), true, 'nothing was left to register');
  });

  it('keeps its data under the stack when the postgres user can reach it, else in the home of that user', () => {
    // mkdtemp makes a folder only root may enter (0700), as root's home is
    const closed = mkdtempSync(join(tmpdir(), 'kubemedic-pgdata-'));
    const open = mkdtempSync(join(tmpdir(), 'kubemedic-pgdata-'));
    chmodSync(open, 0o755);
    try {
      assert.equal(postgresDataDir(open), join(open, 'postgres'));
      const elsewhere = postgresDataDir(closed);
      assert.match(elsewhere, /^\/var\/lib\/postgresql\/kubemedic-[0-9a-f]{12}$/);
      assert.notEqual(
        postgresDataDir(mkdtempSync(join(closed, 'other-'))),
        elsewhere,
        'one folder per stack',
      );
    } finally {
      rmSync(closed, { recursive: true });
      rmSync(open, { recursive: true });
    }
  });
});
