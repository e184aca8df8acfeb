{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "riptide.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name: <release>-riptide, or <release> when it already contains the chart name. */}}
{{- define "riptide.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "riptide.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "riptide.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "riptide.selectorLabels" -}}
app.kubernetes.io/name: {{ include "riptide.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "riptide.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "riptide.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "riptide.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Whether the chart keeps a Secret of its own (SASL password or TLS CA given inline). */}}
{{- define "riptide.ownSecret" -}}
{{- $k := .Values.kafka }}
{{- if or (and $k.sasl.mechanism $k.sasl.password (not $k.sasl.existingSecret)) (and $k.tls.enabled $k.tls.ca (not $k.tls.existingSecret)) }}true{{ end }}
{{- end }}

{{- define "riptide.secretName" -}}
{{ include "riptide.fullname" . }}-kafka-credentials
{{- end }}

{{/* Checks the Kafka settings once, with messages that say what to set. */}}
{{- define "riptide.validate" -}}
{{- $k := .Values.kafka }}
{{- if not $k.brokers }}
{{- fail "kafka.brokers is required: the Kafka bootstrap servers, e.g. --set kafka.brokers=kafka-0.kafka:9092\\,kafka-1.kafka:9092 (commas escaped in --set) or in a values file" }}
{{- end }}
{{- if and (or $k.tls.ca $k.tls.existingSecret) (not $k.tls.enabled) }}
{{- fail "kafka.tls.ca or kafka.tls.existingSecret is set but kafka.tls.enabled is false: set kafka.tls.enabled=true" }}
{{- end }}
{{- if $k.sasl.mechanism }}
{{- if not (has $k.sasl.mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512")) }}
{{- fail (printf "kafka.sasl.mechanism %q: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512" $k.sasl.mechanism) }}
{{- end }}
{{- if not $k.sasl.username }}
{{- fail "kafka.sasl.mechanism is set: set kafka.sasl.username too" }}
{{- end }}
{{- if not (or $k.sasl.password $k.sasl.existingSecret) }}
{{- fail "kafka.sasl.mechanism is set: set kafka.sasl.password, or kafka.sasl.existingSecret naming a Secret with the password under kafka.sasl.passwordKey" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Flags of the Kafka connection (TLS, SASL) every riptide command takes. */}}
{{- define "riptide.kafkaArgs" -}}
{{- $k := .Values.kafka }}
{{- if $k.tls.enabled }}
- --tls
{{- if or $k.tls.ca $k.tls.existingSecret }}
- --tls-ca=/etc/riptide/kafka/ca.crt
{{- end }}
{{- end }}
{{- if $k.sasl.mechanism }}
- --sasl-mechanism={{ $k.sasl.mechanism }}
- --sasl-username={{ $k.sasl.username }}
- --sasl-password-file=/etc/riptide/kafka/sasl-password
{{- end }}
{{- end }}

{{/* Whether any Kafka credential file is mounted. */}}
{{- define "riptide.kafkaFiles" -}}
{{- $k := .Values.kafka }}
{{- if or $k.sasl.mechanism (and $k.tls.enabled (or $k.tls.ca $k.tls.existingSecret)) }}true{{ end }}
{{- end }}

{{/* A projected volume with the TLS CA and the SASL password, from the chart's Secret or the user's. */}}
{{- define "riptide.kafkaVolume" -}}
{{- $k := .Values.kafka }}
- name: kafka-credentials
  projected:
    defaultMode: 0440
    sources:
    {{- if and $k.tls.enabled (or $k.tls.ca $k.tls.existingSecret) }}
      - secret:
          name: {{ $k.tls.existingSecret | default (include "riptide.secretName" .) }}
          items:
            - key: {{ if $k.tls.existingSecret }}{{ $k.tls.caKey }}{{ else }}ca.crt{{ end }}
              path: ca.crt
    {{- end }}
    {{- if $k.sasl.mechanism }}
      - secret:
          name: {{ $k.sasl.existingSecret | default (include "riptide.secretName" .) }}
          items:
            - key: {{ if $k.sasl.existingSecret }}{{ $k.sasl.passwordKey }}{{ else }}sasl-password{{ end }}
              path: sasl-password
    {{- end }}
{{- end }}

{{- define "riptide.podSecurity" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
serviceAccountName: {{ include "riptide.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}
