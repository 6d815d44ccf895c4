/** KUBEMEDIC_LOG_LEVEL, the chart's logLevel, as the worker's Temporal runtime logger reads it. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { logLevel } from '../../domain/config/names.ts';

it('reads the level, INFO when unset, and refuses an unknown one by name', () => {
  assert.equal(logLevel({}), 'INFO');
  assert.equal(logLevel({ KUBEMEDIC_LOG_LEVEL: 'warn' }), 'WARN');
  assert.throws(
    () => logLevel({ KUBEMEDIC_LOG_LEVEL: 'LOUD' }),
    /KUBEMEDIC_LOG_LEVEL=LOUD is not one of TRACE/,
  );
});
