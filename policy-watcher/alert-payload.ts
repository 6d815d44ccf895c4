/**
 * Alertmanager's webhook payload, version 4 (what its webhook_config posts): validated before
 * anything of it is kept, so a bad request gets a 400 that says what is wrong.
 */
import { z } from 'zod';

const labels = z.record(z.string(), z.string());
const time = z.iso.datetime({ offset: true });

export const alertmanagerPayload = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: labels.optional(),
  externalURL: z.string(),
  alerts: z.array(
    z.object({
      status: z.enum(['firing', 'resolved']),
      labels,
      annotations: labels,
      startsAt: time,
      endsAt: time,
      generatorURL: z.string(),
      fingerprint: z.string().min(1),
    }),
  ),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayload>;

/** The payload, or the reasons it is not one, one per wrong field. */
export function parseAlertmanagerPayload(
  body: unknown,
): { ok: true; payload: AlertmanagerPayload } | { ok: false; reason: string } {
  const parsed = alertmanagerPayload.safeParse(body);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const reason = parsed.error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
  return { ok: false, reason };
}
