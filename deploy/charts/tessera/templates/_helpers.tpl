{{/* Names and labels, as `helm create` and ESO's chart spell them. */}}
{{- define "tessera.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tessera.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tessera.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tessera.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tessera.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tessera.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tessera
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "tessera.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tessera.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
MiB of V8's old space: heap.percentOfMemoryLimit of resources.limits.memory, which must then be a
quantity in Ki, Mi, Gi, k, M or G (or bytes). Empty without a memory limit or without the
percentage (tessera then sizes its heap from the limit itself).
*/}}
{{- define "tessera.heapMiB" -}}
{{- $limit := dig "limits" "memory" "" (.Values.resources | default dict) | toString }}
{{- if and $limit (not (kindIs "invalid" .Values.heap.percentOfMemoryLimit)) }}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "k" 1000 "M" 1000000 "G" 1000000000 }}
{{- $m := regexFind "^[0-9]+" $limit }}
{{- $unit := trimPrefix $m $limit }}
{{- if not $m }}{{ fail (printf "resources.limits.memory %q: expected a whole quantity such as 512Mi" $limit) }}{{ end }}
{{- if and $unit (not (hasKey $units $unit)) }}{{ fail (printf "resources.limits.memory %q: unit must be one of Ki, Mi, Gi, k, M, G" $limit) }}{{ end }}
{{- $bytes := mul (atoi $m) (default 1 (get $units $unit)) }}
{{- div (mul $bytes (int .Values.heap.percentOfMemoryLimit)) (mul 100 1048576) }}
{{- end }}
{{- end }}

{{/* sharding.shards as a number, 0 when unset (an ESO values file has no such key). */}}
{{- define "tessera.shards" -}}
{{- int (dig "shards" 0 (.Values.sharding | default dict)) }}
{{- end }}
