{{/* The chart's name, or nameOverride: the app.kubernetes.io/name label and part of every object's name. */}}
{{- define "kubemedic.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Every object's name prefix: fullnameOverride, else <release>-<name> (the release name alone when
it contains the name already).
*/}}
{{- define "kubemedic.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "kubemedic.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kubemedic.labels" -}}
app.kubernetes.io/name: {{ include "kubemedic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: worker or watcher. */}}
{{- define "kubemedic.selector" -}}
app.kubernetes.io/name: {{ include "kubemedic.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kubemedic.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/* The environment both processes read (domain/config/; every variable in docs/configuration.md). */}}
{{- define "kubemedic.commonEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: KUBEMEDIC_CLUSTER
  value: {{ .Values.clusterName | quote }}
- name: KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT
  value: {{ .Values.requireServiceAccount | quote }}
# JSON lines on stdout, this level and above (domain/logging).
- name: KUBEMEDIC_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.prometheusUrl }}
- name: PROMETHEUS_URL
  value: {{ . | quote }}
{{- end }}
{{- if .Values.temporal.tls.enabled }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/kubemedic/temporal-tls/{{ .Values.temporal.tls.certKey }}
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/kubemedic/temporal-tls/{{ .Values.temporal.tls.keyKey }}
{{- with .Values.temporal.tls.caKey }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/kubemedic/temporal-tls/{{ . }}
{{- end }}
{{- with .Values.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- with .Values.temporal.apiKey.secretName }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.temporal.apiKey.key }}
{{- end }}
{{- end -}}

{{- define "kubemedic.tlsVolumeMount" -}}
- name: temporal-tls
  mountPath: /etc/kubemedic/temporal-tls
  readOnly: true
{{- end -}}

{{- define "kubemedic.tlsVolume" -}}
- name: temporal-tls
  secret:
    secretName: {{ required "temporal.tls.secretName is required when temporal.tls.enabled" .Values.temporal.tls.secretName }}
{{- end -}}

{{/* Restricted Pod Security: non-root, read-only root file system, no capabilities, RuntimeDefault seccomp. */}}
{{- define "kubemedic.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kubemedic.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}


{{/*
The Pod template's metadata of one component (dict "root" . "component" "worker"): its labels,
and podAnnotations.
*/}}
{{- define "kubemedic.podMetadata" -}}
labels:
  {{- include "kubemedic.labels" .root | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
{{- with .root.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Where one component's Pods run (dict "root" . "component" "worker"): priorityClassName, and its
nodeSelector, tolerations, affinity and topologySpreadConstraints. A spread constraint without a
labelSelector gets the component's own selector, so it spreads the component's Pods and no others.
*/}}
{{- define "kubemedic.scheduling" -}}
{{- $values := index .root.Values .component -}}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.topologySpreadConstraints }}
{{- $selector := dict "matchLabels" (include "kubemedic.selector" $ | fromYaml) }}
topologySpreadConstraints:
  {{- range . }}
  {{- $constraint := deepCopy . }}
  {{- if not (hasKey $constraint "labelSelector") }}
  {{- $_ := set $constraint "labelSelector" $selector }}
  {{- end }}
  - {{- toYaml $constraint | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* A component's extraEnv (dict "root" . "component" "worker"): after the chart's own variables. */}}
{{- define "kubemedic.extraEnv" -}}
{{- with (index .root.Values .component).extraEnv }}
{{- toYaml . }}
{{- end }}
{{- end -}}
