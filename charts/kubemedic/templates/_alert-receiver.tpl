{{/*
The watcher's Alertmanager receiver: where its token comes from, and who may reach its port.
*/}}

{{/* The Secret holding the token: the operator's existingSecret, else the one the chart makes. */}}
{{- define "kubemedic.alertReceiverSecretName" -}}
{{- default (printf "%s-alert-receiver" (include "kubemedic.fullname" .)) .Values.alertReceiver.existingSecret -}}
{{- end -}}

{{/* Where the watcher reads the token (KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE). */}}
{{- define "kubemedic.alertReceiverTokenDir" -}}
/var/run/kubemedic/alert-receiver
{{- end -}}

{{/*
The peers admitted to the receiver's port, as YAML: alertReceiver.networkPolicy.from, else one
namespaceSelector per allowed namespace. Never empty while the policy is on: an empty `from`
would admit every peer, so the chart refuses it and says how to mean that.
*/}}
{{- define "kubemedic.alertReceiverPeers" -}}
{{- $policy := .Values.alertReceiver.networkPolicy -}}
{{- $peers := $policy.from -}}
{{- if not $peers -}}
{{- $peers = list -}}
{{- range $policy.allowedNamespaces -}}
{{- $peers = append $peers (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" .))) -}}
{{- end -}}
{{- end -}}
{{- if not $peers -}}
{{- fail "alertReceiver.networkPolicy: name allowedNamespaces or from (an empty list would admit every peer); to admit any peer, set alertReceiver.networkPolicy.enabled=false" -}}
{{- end -}}
{{- toYaml $peers -}}
{{- end -}}
