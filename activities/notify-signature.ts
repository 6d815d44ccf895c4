/**
 * Signing of notification requests. The signed material is `<timestamp>.<raw body>`, so a
 * receiver that checks the timestamp is recent can refuse a replayed request as well as a
 * forged one. The scheme is the one docs/notifications.md tells receivers to verify.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'X-KubeMedic-Signature';
export const timestampHeader = 'X-KubeMedic-Timestamp';

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, timestamp in Unix seconds. */
export function sign(key: string | Buffer, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(
  key: string | Buffer,
  timestamp: string,
  body: string,
  signature: string,
): boolean {
  const expected = Buffer.from(sign(key, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
