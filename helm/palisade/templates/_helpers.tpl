{{/* Labels every object of the release carries. */}}
{{- define "palisade.labels" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The selector of one service's pods: (dict "root" $ "name" "identity"). */}}
{{- define "palisade.selectorLabels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
palisade.dev/service: {{ .name }}
{{- end -}}

{{/* The image reference: repository@digest when a digest is given, else repository:tag. */}}
{{- define "palisade.image" -}}
{{- with .Values.image -}}
{{- if .digest -}}
{{ .repository }}@{{ .digest }}
{{- else -}}
{{ .repository }}:{{ .tag | default $.Chart.AppVersion }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* 'runtime-scheduler' → 'RUNTIME_SCHEDULER': the prefix of a service's own variables. */}}
{{- define "palisade.envPrefix" -}}
{{ . | upper | replace "-" "_" }}
{{- end -}}

{{/* The Secret of one service (or of "migrate"). */}}
{{- define "palisade.secretName" -}}
{{ .root.Values.secrets.prefix }}{{ .name }}
{{- end -}}

{{/* Pod-level security context of the restricted profile (uid/gid 1001). */}}
{{- define "palisade.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1001
runAsGroup: 1001
fsGroup: 1001
seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{/* Container-level security context of the restricted profile. */}}
{{- define "palisade.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1001
runAsGroup: 1001
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: { drop: [ALL] }
seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{/* Scheduling settings shared by every pod. */}}
{{- define "palisade.scheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Volumes and mounts: a small writable /tmp, and the TLS Secret when TLS is on. */}}
{{- define "palisade.volumes" -}}
- name: tmp
  emptyDir: { sizeLimit: 64Mi }
{{- if .root.Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ .root.Release.Name }}-{{ .name }}-tls
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "palisade.volumeMounts" -}}
- { name: tmp, mountPath: /tmp }
{{- if .root.Values.tls.enabled }}
- { name: tls, mountPath: /etc/palisade/tls, readOnly: true }
{{- end }}
{{- end -}}

{{/* TLS file settings (read by the services' config; see docs/operations.md). */}}
{{- define "palisade.tlsEnv" -}}
{{- if .Values.tls.enabled }}
- { name: NATS_TLS_CA_FILE, value: /etc/palisade/tls/ca.crt }
- { name: NATS_TLS_CERT_FILE, value: /etc/palisade/tls/tls.crt }
- { name: NATS_TLS_KEY_FILE, value: /etc/palisade/tls/tls.key }
- { name: PGSSLROOTCERT, value: /etc/palisade/tls/ca.crt }
{{- end }}
{{- end -}}

{{/* The Secrets the release reads: one per enabled service, and "migrate" for the migration Job. */}}
{{- define "palisade.secretOwners" -}}
{{- $owners := list -}}
{{- range $name, $svc := .Values.services -}}
{{- if $svc.enabled -}}{{- $owners = append $owners $name -}}{{- end -}}
{{- end -}}
{{- if .Values.migrations.enabled -}}{{- $owners = append $owners "migrate" -}}{{- end -}}
{{- toJson $owners -}}
{{- end -}}

{{/* Resources the migration Job needs exist before it runs: render them as hooks ahead of it. */}}
{{- define "palisade.migrateHook" -}}
{{- if eq .name "migrate" }}
annotations:
  helm.sh/hook: pre-install,pre-upgrade
  helm.sh/hook-weight: '-10'
  helm.sh/hook-delete-policy: before-hook-creation
{{- end }}
{{- end -}}
