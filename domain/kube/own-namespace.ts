/**
 * The namespace this process runs in, as Kubernetes tells every Pod (its ServiceAccount's mounted
 * namespace file); undefined outside a Pod. For the chart's processes, the release namespace.
 */
import { readFileSync } from 'node:fs';

const namespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function ownNamespace(file = namespaceFile): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
