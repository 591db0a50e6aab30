import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { ServicePort } from "../../constructs/service-graph";
import type { Resources } from "../../stacks/environments/environment";

/** OpenTelemetry operator version; the CRDs in constructs/imports are this release's. */
export const OTEL_OPERATOR_VERSION = "0.158.0";
/** The `opentelemetry-operator` chart whose appVersion is 0.158.0. */
export const OTEL_OPERATOR_CHART_VERSION = "0.122.0";
/** Jaeger operator version; the CRD in constructs/imports is this release's. */
export const JAEGER_OPERATOR_VERSION = "1.62.0";
/**
 * The `jaeger-operator` chart: 2.57.0 is the last release (appVersion 1.61.0); the operator image is pinned to 1.62.0
 * through values, and the Jaeger CRD of 1.62.0 has the same schema for every field the platform sets.
 */
export const JAEGER_OPERATOR_CHART_VERSION = "2.57.0";

const RESTRICTED_POD = { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } } as const;
const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** Typed values of the `opentelemetry-operator` chart that Stratum sets. */
export interface OtelOperatorValues {
  readonly manager: {
    readonly image: { readonly repository: string; readonly tag: string };
    readonly collectorImage: { readonly repository: string; readonly tag: string };
    readonly resources: Resources;
    readonly featureGatesMap: Readonly<Record<string, boolean>>;
  };
  readonly admissionWebhooks: { readonly certManager: { readonly enabled: boolean }; readonly autoGenerateCert: { readonly enabled: boolean } };
  readonly crds: { readonly create: boolean };
  readonly securityContext: typeof RESTRICTED_POD;
}

/** Typed values of the `jaeger-operator` chart that Stratum sets. */
export interface JaegerOperatorValues {
  readonly image: { readonly repository: string; readonly tag: string };
  readonly rbac: { readonly create: boolean; readonly clusterRole: boolean };
  readonly certs: { readonly issuer: { readonly create: boolean }; readonly certificate: { readonly create: boolean } };
  readonly webhooks: { readonly mutatingWebhook: { readonly create: boolean }; readonly validatingWebhook: { readonly create: boolean } };
  readonly jaeger: { readonly create: boolean };
  readonly resources: Resources;
  readonly securityContext: typeof RESTRICTED_POD;
  readonly containerSecurityContext: typeof RESTRICTED_CONTAINER;
}

/** The admission webhook port both operators serve (Service 443, container 9443). */
export const OPERATOR_WEBHOOK_PORT: ServicePort = { name: "https-webhook", port: 443, targetPort: 9443, protocol: "tls" };

/** Props of the tracing operators. */
export interface TracingOperatorsProps {
  /** Namespace both operators run in (each watches it). */
  readonly namespace: string;
  /** The environment's ArgoCD project. */
  readonly project: string;
  /** ArgoCD sync wave of both Applications. */
  readonly syncWave: number;
}

const OPERATOR_RESOURCES: Resources = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

/**
 * The OpenTelemetry and Jaeger operators as Helm add-ons. Both serve admission webhooks whose certificates
 * cert-manager issues (the security component installs it), run restricted, and are pinned to the versions of the
 * CRDs the platform's custom resources are typed and validated against.
 */
export class TracingOperators extends Construct {
  /** The OpenTelemetry operator. */
  readonly otel: HelmAddon<OtelOperatorValues>;
  /** The Jaeger operator. */
  readonly jaeger: HelmAddon<JaegerOperatorValues>;

  constructor(scope: Construct, id: string, props: TracingOperatorsProps) {
    super(scope, id);
    this.otel = new HelmAddon<OtelOperatorValues>(this, "OpenTelemetry", {
      release: "opentelemetry-operator",
      repoURL: "https://open-telemetry.github.io/opentelemetry-helm-charts",
      chart: "opentelemetry-operator",
      version: OTEL_OPERATOR_CHART_VERSION,
      namespace: props.namespace,
      project: props.project,
      syncWave: props.syncWave,
      values: {
        manager: {
          image: { repository: "ghcr.io/open-telemetry/opentelemetry-operator/opentelemetry-operator", tag: OTEL_OPERATOR_VERSION },
          collectorImage: { repository: "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib", tag: OTEL_OPERATOR_VERSION },
          resources: OPERATOR_RESOURCES,
          // NetworkPolicies come from the service graph; the operator must not add its own.
          featureGatesMap: { "operator.networkpolicy": false },
        },
        admissionWebhooks: { certManager: { enabled: true }, autoGenerateCert: { enabled: false } },
        crds: { create: true },
        securityContext: RESTRICTED_POD,
      },
    });
    this.jaeger = new HelmAddon<JaegerOperatorValues>(this, "Jaeger", {
      release: "jaeger-operator",
      repoURL: "https://jaegertracing.github.io/helm-charts",
      chart: "jaeger-operator",
      version: JAEGER_OPERATOR_CHART_VERSION,
      namespace: props.namespace,
      project: props.project,
      syncWave: props.syncWave,
      values: {
        image: { repository: "jaegertracing/jaeger-operator", tag: JAEGER_OPERATOR_VERSION },
        rbac: { create: true, clusterRole: false },
        certs: { issuer: { create: true }, certificate: { create: true } },
        webhooks: { mutatingWebhook: { create: true }, validatingWebhook: { create: true } },
        jaeger: { create: false },
        resources: OPERATOR_RESOURCES,
        securityContext: RESTRICTED_POD,
        containerSecurityContext: RESTRICTED_CONTAINER,
      },
    });
  }
}
