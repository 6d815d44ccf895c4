/**
 * Writes samples into the real Prometheus through its remote-write receiver, the way an
 * exporter-less test drives a PromQL condition. The body is a prometheus.WriteRequest protobuf
 * (remote write 1.0), snappy-compressed; the encoding is small enough to write out here.
 */
import { compress } from 'snappyjs';
import { environment } from './environment.ts';

export interface Sample {
  labels: Record<string, string>; // must include __name__
  value: number;
  timestampMs?: number;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return bytes;
}

const lengthDelimited = (field: number, payload: number[]) => [
  (field << 3) | 2,
  ...varint(payload.length),
  ...payload,
];
const text = (field: number, value: string) => lengthDelimited(field, [...Buffer.from(value, 'utf8')]);

function encodeSample(value: number, timestampMs: number): number[] {
  const double = Buffer.alloc(8);
  double.writeDoubleLE(value);
  return [(1 << 3) | 1, ...double, (2 << 3) | 0, ...varint(timestampMs)];
}

export function encodeWriteRequest(samples: Sample[]): Uint8Array {
  const body: number[] = [];
  for (const sample of samples) {
    // Prometheus requires labels sorted by name.
    const labels = Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const series = [
      ...labels.flatMap(([name, value]) => lengthDelimited(1, [...text(1, name), ...text(2, value)])),
      ...lengthDelimited(2, encodeSample(sample.value, sample.timestampMs ?? Date.now())),
    ];
    body.push(...lengthDelimited(1, series));
  }
  return compress(Uint8Array.from(body));
}

export async function remoteWrite(samples: Sample[]): Promise<void> {
  const response = await fetch(`${environment().PROMETHEUS_URL}/api/v1/write`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    },
    body: new Blob([Buffer.from(encodeWriteRequest(samples))]),
  });
  if (response.status !== 204 && response.status !== 200) {
    throw new Error(`remote write answered ${response.status}: ${await response.text()}`);
  }
}

export interface InstantVectorItem {
  metric: Record<string, string>;
  value: [number, string];
}

export async function instantQuery(promql: string): Promise<InstantVectorItem[]> {
  const url = `${environment().PROMETHEUS_URL}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const answer = (await (await fetch(url)).json()) as {
    status: string;
    data: { result: InstantVectorItem[] };
    error?: string;
  };
  if (answer.status !== 'success') throw new Error(`query ${promql} failed: ${answer.error}`);
  return answer.data.result;
}
