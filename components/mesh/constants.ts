import { customResourceAnnotations } from "../../constructs/sync";
import { recommendedLabels } from "../../constructs/labels";
import { GraphNodeProps } from "../../constructs/service-graph";
import { SyncWave } from "../component";

/** The Istio release: every chart and the CRD bindings in constructs/imports are this exact version. */
export const ISTIO_VERSION = "1.24.6";
/** Istio's Helm chart repository. */
export const ISTIO_CHARTS = "https://istio-release.storage.googleapis.com/charts";
/** Namespace of istiod; Istio's root namespace, so mesh-wide policy lives here. */
export const ISTIO_NAMESPACE = "istio-system";
/** Namespace of the ingress gateway. */
export const INGRESS_NAMESPACE = "istio-ingress";
/** Namespace of the Istio CNI node agent (privileged, so kept apart from istiod). */
export const CNI_NAMESPACE = "istio-cni";
/** Graph id of the control plane. */
export const ISTIOD = "istiod";
/** Graph id (and release name) of the ingress gateway. */
export const INGRESS_GATEWAY = "istio-ingressgateway";
/** Graph id of istiod's xDS and certificate endpoint, which every proxy consumes. */
export const ISTIOD_XDS = "istiod-xds";
/** Graph id of the API gateway service that the edge routes to. */
export const API_GATEWAY = "gateway";
/** Graph id of the OpenTelemetry collector the proxies export spans to. */
export const OTEL_COLLECTOR = "otel-collector";
/** Graph id of the Kubernetes API server. */
export const KUBE_APISERVER = "kube-apiserver";
/** Name of the OpenTelemetry extension provider in the mesh config. */
export const TRACING_PROVIDER = "otel-tracing";
/** Pod labels of the ingress gateway (the chart derives `istio` from the release name without `istio-`). */
export const INGRESS_SELECTOR: Readonly<Record<string, string>> = { app: INGRESS_GATEWAY, istio: "ingressgateway" };
/** Pod labels of istiod as the chart sets them. */
export const ISTIOD_SELECTOR: Readonly<Record<string, string>> = { app: "istiod", istio: "pilot" };
/** Annotation marking objects derived from the service graph. */
export const DERIVED_FROM = "stratum.dev/derived-from";

/**
 * Metadata of an Istio custom resource: recommended labels, the custom-resources sync wave, and ArgoCD's permission to
 * skip the dry run while the CRDs (installed by the base chart in the same sync) do not exist yet.
 */
export function istioMetadata(name: string, namespace: string, component: string, annotations: Record<string, string> = {}) {
  return {
    name,
    namespace,
    labels: recommendedLabels({ name, component, instance: `${namespace}-${name}` }),
    annotations: { ...customResourceAnnotations(SyncWave.CUSTOM_RESOURCES), ...annotations },
  };
}

/** The SPIFFE-style principal Istio gives a node's ServiceAccount: `<trust domain>/ns/<ns>/sa/<sa>`. */
export function principalOf(node: GraphNodeProps, trustDomain: string): string {
  if (!node.namespace || !node.serviceAccount) throw new Error(`mesh: node '${node.id}' has no namespace and ServiceAccount, so no principal`);
  return `${trustDomain}/ns/${node.namespace}/sa/${node.serviceAccount}`;
}

/** The in-cluster DNS name of a node's Service. */
export function hostOf(node: GraphNodeProps): string {
  return node.host ?? `${node.id}.${node.namespace}.svc.cluster.local`;
}
