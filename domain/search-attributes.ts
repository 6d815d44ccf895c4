/**
 * KubeMedic's custom search attributes. They make every remediation run findable and
 * filterable in the Temporal Web UI and with `temporal workflow list --query`.
 * The local stack registers exactly these on its dev server; the workflow upserts them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const searchAttributes = {
  policy: defineSearchAttributeKey('KubeMedicPolicy', SearchAttributeType.KEYWORD),
  namespace: defineSearchAttributeKey('KubeMedicNamespace', SearchAttributeType.KEYWORD),
  targetKind: defineSearchAttributeKey('KubeMedicTargetKind', SearchAttributeType.KEYWORD),
  targetName: defineSearchAttributeKey('KubeMedicTargetName', SearchAttributeType.KEYWORD),
  action: defineSearchAttributeKey('KubeMedicAction', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('KubeMedicPhase', SearchAttributeType.KEYWORD),
  cluster: defineSearchAttributeKey('KubeMedicCluster', SearchAttributeType.KEYWORD),
} as const;
