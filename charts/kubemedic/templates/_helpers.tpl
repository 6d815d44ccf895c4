{{- define "kubemedic.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubemedic.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: worker or watcher. */}}
{{- define "kubemedic.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
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
{{- with .Values.prometheusUrl }}
- name: PROMETHEUS_URL
  value: {{ . | quote }}
{{- end }}
{{- if .Values.temporal.tls.enabled }}
- name: TEMPORAL_TLS_CERT
  value: /etc/kubemedic/temporal-tls/{{ .Values.temporal.tls.certKey }}
- name: TEMPORAL_TLS_KEY
  value: /etc/kubemedic/temporal-tls/{{ .Values.temporal.tls.keyKey }}
{{- with .Values.temporal.tls.caKey }}
- name: TEMPORAL_TLS_CA
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
