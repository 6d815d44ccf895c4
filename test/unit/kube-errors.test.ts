/**
 * The one reading of a failed Kubernetes call (domain/kube/errors.ts), from either client, and
 * the REST paths built from names a policy or an alert supplies (domain/kube/request.ts).
 */
import { ApiException } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActionError } from '../../domain/actions.ts';
import { asRefusal, failedWith, kubeFailureOf } from '../../domain/kube/errors.ts';
import { KubeRequestError, objectPath } from '../../domain/kube/request.ts';

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', code, reason, message });
const typed = (code: number, reason: string, message: string) =>
  new ApiException(code, 'Unknown API Status Code!', status(code, reason, message), {});
const raw = (code: number, reason: string, message: string) =>
  new KubeRequestError(code, reason, message, `GET /api/v1/x: ${code} ${message}`);

describe('kubeFailureOf', () => {
  it("reads the typed client's Status text and kubeRequest's error alike", () => {
    const message = 'deployments.apps "web" not found';
    assert.deepEqual(kubeFailureOf(typed(404, 'NotFound', message)), {
      status: 404,
      reason: 'NotFound',
      message,
    });
    assert.deepEqual(kubeFailureOf(raw(404, 'NotFound', message)), {
      status: 404,
      reason: 'NotFound',
      message,
    });
  });

  it('is undefined for anything that is not an answer of the API server', () => {
    assert.equal(kubeFailureOf(new Error('connect ECONNREFUSED')), undefined);
    assert.equal(failedWith(new Error('404'), 404), false);
  });
});

describe('asRefusal', () => {
  const cases = [
    { status: 404, reason: 'NotFound', refusal: 'TargetGone', text: 'Deployment a/web no longer exists' },
    { status: 403, reason: 'Forbidden', refusal: 'Forbidden', text: 'Deployment a/web: not allowed' },
    { status: 422, reason: 'Invalid', refusal: 'Invalid', text: 'Deployment a/web: not allowed' },
    { status: 400, reason: 'BadRequest', refusal: 'Invalid', text: 'Deployment a/web: not allowed' },
  ];
  for (const { status: code, reason, refusal, text } of cases) {
    it(`maps ${code} to ${refusal}, from either client`, () => {
      for (const error of [typed(code, reason, 'not allowed'), raw(code, reason, 'not allowed')]) {
        const mapped = asRefusal(error, 'Deployment a/web');
        assert.ok(mapped instanceof ActionError);
        assert.equal(mapped.type, refusal);
        assert.equal(mapped.message, text);
      }
    });
  }

  it('leaves what a retry may fix as it is: 409, 429, 500, no answer', () => {
    for (const error of [
      typed(409, 'Conflict', 'x'),
      raw(429, 'TooManyRequests', 'x'),
      typed(500, 'x', 'x'),
      new Error('x'),
    ])
      assert.equal(asRefusal(error, 'Deployment a/web'), error);
  });
});

describe('objectPath', () => {
  it('keeps a hostile name inside its own path segment', () => {
    const path = objectPath({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'a', name: '../../x' });
    assert.equal(path, '/apis/apps/v1/namespaces/a/deployments/..%2F..%2Fx');
    assert.equal(new URL(`https://kube${path}`).pathname, path);
  });

  it('encodes the namespace too, and refuses the names that are path steps', () => {
    assert.equal(
      objectPath({ apiVersion: 'v1', kind: 'Pod', namespace: 'a/../kube-system', name: 'p' }),
      '/api/v1/namespaces/a%2F..%2Fkube-system/pods/p',
    );
    for (const name of ['..', '.', ''])
      assert.throws(
        () => objectPath({ apiVersion: 'v1', kind: 'Node', name }),
        /not a Kubernetes object name/,
      );
  });
});
