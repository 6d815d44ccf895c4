/**
 * Request paths built from names a tenant wrote (domain/kube/request.ts): each name is one
 * encoded path segment, so issue 9's `../../<victim>/horizontalpodautoscalers/web` cannot climb
 * into another namespace, and `.`/`..`, which URL parsers resolve even percent-encoded, are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectPath } from '../../domain/kube/request.ts';

const hpa = (namespace: string, name: string) =>
  objectPath({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace, name });

describe('objectPath', () => {
  it('keeps a traversal name inside one segment of its namespace', () => {
    const path = hpa('tenant', '../../victim/horizontalpodautoscalers/web');
    assert.equal(
      path,
      '/apis/autoscaling/v2/namespaces/tenant/horizontalpodautoscalers/..%2F..%2Fvictim%2Fhorizontalpodautoscalers%2Fweb',
    );
    // And a URL parser leaves it there
    assert.equal(new URL(`https://api.example${path}`).pathname, path);
  });

  for (const name of ['..', '.', ''])
    it(`refuses ${JSON.stringify(name)} as a name or a namespace`, () => {
      assert.throws(() => hpa('tenant', name), /is not a Kubernetes object name/);
      assert.throws(() => hpa(name || '.', 'web'), /is not a Kubernetes object name/);
    });

  it('encodes what a query or fragment would start', () => {
    assert.equal(
      hpa('tenant', 'web?watch=true#x'),
      '/apis/autoscaling/v2/namespaces/tenant/horizontalpodautoscalers/web%3Fwatch%3Dtrue%23x',
    );
  });
});
