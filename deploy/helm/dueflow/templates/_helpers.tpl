{{/* Names, labels and the Deployments the roles make. */}}

{{- define "dueflow.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dueflow.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dueflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dueflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dueflow.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "dueflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "dueflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "dueflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "dueflow.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/*
The Deployments, as JSON: role name → the roles its pods run (itself and
those merged into it), for every enabled role not merged into another.
*/}}
{{- define "dueflow.deployments" -}}
{{- $out := dict -}}
{{- range $role, $r := .Values.roles -}}
{{- if and $r.enabled (not $r.mergeInto) -}}
{{- $runs := list $role -}}
{{- range $other, $o := $.Values.roles -}}
{{- if and $o.enabled (eq ($o.mergeInto | default "") $role) -}}
{{- $runs = append $runs $other -}}
{{- end -}}
{{- end -}}
{{- $_ := set $out $role $runs -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The Deployment whose pods run the api role. */}}
{{- define "dueflow.apiDeployment" -}}
{{- $api := .Values.roles.api -}}
{{- if $api.mergeInto -}}{{ $api.mergeInto }}{{- else -}}api{{- end -}}
{{- end -}}

{{/* Whether to render a resource of the Prometheus Operator: `setting` is
"auto" (where its API exists), true or false. */}}
{{- define "dueflow.operatorWanted" -}}
{{- $setting := toString (index . 0) -}}
{{- $root := index . 1 -}}
{{- if or (eq $setting "true") (and (eq $setting "auto") ($root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1")) -}}
true
{{- end -}}
{{- end -}}

{{/* The Kafka brokers: Strimzi's bootstrap Service when the chart runs Kafka. */}}
{{- define "dueflow.kafkaBrokers" -}}
{{- if .Values.kafka.strimzi.enabled -}}
{{- printf "%s-kafka-bootstrap:9092" (include "dueflow.fullname" .) -}}
{{- else -}}
{{- .Values.bus.kafka.brokers -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key of the database URL: CloudNativePG's app Secret
when the chart runs PostgreSQL. */}}
{{- define "dueflow.databaseSecret" -}}
{{- if .Values.postgresql.cloudnativepg.enabled -}}
{{- printf "%s-pg-app" (include "dueflow.fullname" .) -}}
{{- else -}}
{{- .Values.database.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "dueflow.databaseKey" -}}
{{- if .Values.postgresql.cloudnativepg.enabled -}}uri{{- else -}}{{ .Values.database.urlKey }}{{- end -}}
{{- end -}}

{{/* Dapr app ids, one per Deployment. */}}
{{- define "dueflow.daprAppIds" -}}
{{- $ids := list -}}
{{- range $role, $runs := include "dueflow.deployments" . | fromJson -}}
{{- $ids = append $ids (printf "%s-%s" (include "dueflow.fullname" $) $role) -}}
{{- end -}}
{{- toJson $ids -}}
{{- end -}}

{{/* The consumer groups and topics KEDA scales a Deployment on (its roles'
groups, as the binary names them), as JSON: group → topics. Empty for a
Deployment that runs anything else (api, scheduler). */}}
{{- define "dueflow.kedaGroups" -}}
{{- $root := index . 0 -}}
{{- $runs := index . 1 -}}
{{- $p := $root.Values.bus.kafka.topicPrefix -}}
{{- $groups := dict "recurring" (dict "dueflow-recurring" (list (printf "%stask-events" $p))) "notifier" (dict "dueflow-notifier" (list (printf "%stask-events" $p) (printf "%sreminders" $p))) "audit" (dict "dueflow-audit" (list (printf "%stask-events" $p) (printf "%sreminders" $p))) -}}
{{- $out := dict -}}
{{- $other := false -}}
{{- range $runs -}}
{{- if hasKey $groups . -}}
{{- $out = merge $out (get $groups .) -}}
{{- else -}}
{{- $other = true -}}
{{- end -}}
{{- end -}}
{{- if $other -}}{{- toJson dict -}}{{- else -}}{{- toJson $out -}}{{- end -}}
{{- end -}}

{{/* Whether KEDA owns this Deployment's replicas. */}}
{{- define "dueflow.kedaScaled" -}}
{{- $root := index . 0 -}}
{{- if and $root.Values.keda.enabled (eq $root.Values.bus.type "kafka") (include "dueflow.kedaGroups" . | fromJson) -}}
true
{{- end -}}
{{- end -}}

{{/* The Dapr secret store the secrets are read from, if any (Dapr only). */}}
{{- define "dueflow.secretStore" -}}
{{- if eq .Values.bus.type "dapr" }}{{ .Values.bus.dapr.secretStore }}{{ end -}}
{{- end }}
