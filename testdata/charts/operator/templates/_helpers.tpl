{{/* The operator's name. */}}
{{- define "operator.name" -}}
{{- printf "%s-%s" .Release.Name "widget-operator" | trunc 63 | trimSuffix "-" -}}
{{- end -}}
