#!/usr/bin/env bash
# Regenerates the typed CRD bindings in constructs/imports/ (the L1 layer) from the upstream CRDs in ../shared/schemas.
# Usage: npm run import   (the files it writes are generated: never edit them by hand)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
crds="$here/../shared/schemas/crds"
out="$here/constructs/imports"
cdk8s="$here/node_modules/.bin/cdk8s"
# module-prefix:=CRD file, one line per kind family the platform emits.
imports=(
  "argocd-application:=$crds/argo-cd-v2.14.21/application-crd.yaml"
  "argocd-appproject:=$crds/argo-cd-v2.14.21/appproject-crd.yaml"
  "argocd-applicationset:=$crds/argo-cd-v2.14.21/applicationset-crd.yaml"
  "rollouts-rollout:=$crds/argo-rollouts-v1.8.4/rollout-crd.yaml"
  "rollouts-analysistemplate:=$crds/argo-rollouts-v1.8.4/analysis-template-crd.yaml"
  "eso-externalsecret:=$crds/external-secrets-v0.13.0/external-secrets.io_externalsecrets.yaml"
  "eso-clustersecretstore:=$crds/external-secrets-v0.13.0/external-secrets.io_clustersecretstores.yaml"
  "certmanager-clusterissuer:=$crds/cert-manager-v1.16.5/crd-clusterissuers.yaml"
  "certmanager-certificate:=$crds/cert-manager-v1.16.5/crd-certificates.yaml"
  "istio:=$crds/istio-1.24.6/crd-all.gen.yaml"
  "cnpg-cluster:=$crds/cloudnative-pg-v1.24.4/postgresql.cnpg.io_clusters.yaml"
  "cnpg-pooler:=$crds/cloudnative-pg-v1.24.4/postgresql.cnpg.io_poolers.yaml"
  "cnpg-scheduledbackup:=$crds/cloudnative-pg-v1.24.4/postgresql.cnpg.io_scheduledbackups.yaml"
  "dapr-component:=$crds/dapr-v1.14.5/components.yaml"
  "dapr-subscription:=$crds/dapr-v1.14.5/subscription.yaml"
  "dapr-configuration:=$crds/dapr-v1.14.5/configuration.yaml"
  "dapr-resiliency:=$crds/dapr-v1.14.5/resiliency.yaml"
  "otel-collector:=$crds/opentelemetry-operator-v0.158.0/opentelemetry.io_opentelemetrycollectors.yaml"
  "otel-instrumentation:=$crds/opentelemetry-operator-v0.158.0/opentelemetry.io_instrumentations.yaml"
  "jaeger:=$crds/jaeger-operator-v1.62.0/jaegertracing.io_jaegers.yaml"
  "monitoring-prometheus:=$crds/prometheus-operator-v0.76.2/monitoring.coreos.com_prometheuses.yaml"
  "monitoring-alertmanager:=$crds/prometheus-operator-v0.76.2/monitoring.coreos.com_alertmanagers.yaml"
  "monitoring-servicemonitor:=$crds/prometheus-operator-v0.76.2/monitoring.coreos.com_servicemonitors.yaml"
  "monitoring-podmonitor:=$crds/prometheus-operator-v0.76.2/monitoring.coreos.com_podmonitors.yaml"
  "monitoring-prometheusrule:=$crds/prometheus-operator-v0.76.2/monitoring.coreos.com_prometheusrules.yaml"
  "monitoring-alertmanagerconfig:=$crds/prometheus-operator-v0.76.2/monitoring.coreos.com_alertmanagerconfigs.yaml"
  # ECK ships one file for all its kinds; only the Elasticsearch and Kibana bindings are used (and committed)
  "eck:=$crds/eck-3.0.0/all-crds.yaml"
)
cd "$here"
for spec in "${imports[@]}"; do
  # the CLI also checks for its own updates over the network; that noise is dropped, real failures are shown
  if ! "$cdk8s" import "$spec" --language typescript --output "$out" >/tmp/stratum-import.log 2>&1; then
    cat /tmp/stratum-import.log >&2; exit 1
  fi
done
echo "regenerated ${#imports[@]} bindings in constructs/imports/"
