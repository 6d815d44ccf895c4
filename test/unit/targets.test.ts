/** Label selectors as the watcher matches policy targets and their Pods, with Kubernetes' semantics. */
import type { V1LabelSelector } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectorMatches } from '../../api/label-selector.ts';

const labels = { app: 'web', tier: 'frontend', empty: '' };
const expression = (
  key: string,
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist',
  values?: string[],
): V1LabelSelector => ({ matchExpressions: [{ key, operator, values }] });

describe('selectorMatches', () => {
  it('matchLabels: every label must be there with its value', () => {
    assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: 'web', tier: 'frontend' } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: 'web', tier: 'backend' } }, labels), false);
    assert.equal(selectorMatches({ matchLabels: { app: 'api' } }, labels), false);
    assert.equal(selectorMatches({ matchLabels: { release: 'canary' } }, labels), false);
    assert.equal(selectorMatches({ matchLabels: { empty: '' } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, undefined), false, 'no labels');
  });

  it('In: the label is there and its value is listed', () => {
    assert.equal(selectorMatches(expression('app', 'In', ['api', 'web']), labels), true);
    assert.equal(selectorMatches(expression('app', 'In', ['api']), labels), false);
    assert.equal(selectorMatches(expression('release', 'In', ['canary']), labels), false, 'absent');
    assert.equal(selectorMatches(expression('app', 'In', []), labels), false);
  });

  it('NotIn: the label is absent, or its value is not listed', () => {
    assert.equal(selectorMatches(expression('app', 'NotIn', ['api']), labels), true);
    assert.equal(selectorMatches(expression('app', 'NotIn', ['api', 'web']), labels), false);
    assert.equal(selectorMatches(expression('release', 'NotIn', ['canary']), labels), true, 'absent');
  });

  it('Exists and DoesNotExist look at the key only', () => {
    assert.equal(selectorMatches(expression('tier', 'Exists'), labels), true);
    assert.equal(selectorMatches(expression('empty', 'Exists'), labels), true, 'an empty value exists');
    assert.equal(selectorMatches(expression('release', 'Exists'), labels), false);
    assert.equal(selectorMatches(expression('release', 'DoesNotExist'), labels), true);
    assert.equal(selectorMatches(expression('tier', 'DoesNotExist'), labels), false);
  });

  it('treats keys that are also JavaScript property names as plain label keys', () => {
    // `constructor` and `toString` are valid label keys; they are absent from these labels.
    assert.equal(selectorMatches(expression('constructor', 'Exists'), labels), false);
    assert.equal(selectorMatches(expression('toString', 'DoesNotExist'), labels), true);
    assert.equal(selectorMatches(expression('constructor', 'NotIn', ['x']), labels), true);
    assert.equal(selectorMatches(expression('constructor', 'Exists'), { constructor: 'x' }), true);
    assert.equal(selectorMatches(expression('constructor', 'In', ['x']), { constructor: 'x' }), true);
  });

  it('ANDs matchLabels and every expression', () => {
    const selector: V1LabelSelector = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['frontend', 'edge'] },
        { key: 'release', operator: 'DoesNotExist' },
      ],
    };
    assert.equal(selectorMatches(selector, labels), true);
    assert.equal(selectorMatches(selector, { ...labels, release: 'canary' }), false);
    assert.equal(selectorMatches(selector, { ...labels, tier: 'backend' }), false);
    assert.equal(selectorMatches(selector, { ...labels, app: 'api' }), false);
  });

  it('an empty selector matches everything; no selector matches nothing', () => {
    assert.equal(selectorMatches({}, labels), true);
    assert.equal(selectorMatches({ matchLabels: {}, matchExpressions: [] }, {}), true);
    assert.equal(selectorMatches(undefined, labels), false);
    assert.equal(selectorMatches(null, labels), false, "policy/v1's null selector");
  });
});
