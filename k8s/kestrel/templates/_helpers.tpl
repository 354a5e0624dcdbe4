{{/* Release-scoped name prefix, e.g. "kestrel" or "<release>-kestrel". */}}
{{- define "kestrel.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels shared by everything in the release. */}}
{{- define "kestrel.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one service: call with (dict "root" $ "name" "risk"). */}}
{{- define "kestrel.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Image of one service: call with (dict "root" $ "name" "risk"). */}}
{{- define "kestrel.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.prefix .name (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{/* Name of the Secret holding KESTREL_DATABASE_URL. */}}
{{- define "kestrel.secretName" -}}
{{- .Values.infra.existingSecret | default (printf "%s-secrets" (include "kestrel.fullname" .)) -}}
{{- end -}}
