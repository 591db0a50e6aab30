import type { Resources } from "../../stacks/environments/environment";

/** A topology spread constraint as the Istio charts pass it through to the pod spec. */
export interface ChartTopologySpread {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway";
  readonly labelSelector: { readonly matchLabels: Readonly<Record<string, string>> };
}

/** An OpenTelemetry (OTLP/gRPC) tracing provider of the mesh config. */
export interface OpenTelemetryProvider {
  /** Provider name that Telemetry resources and `defaultProviders` refer to. */
  readonly name: string;
  readonly opentelemetry: {
    /** FQDN of the collector's Service. */
    readonly service: string;
    /** OTLP gRPC port. */
    readonly port: number;
  };
}

/** The subset of Istio's MeshConfig the platform sets (istio.mesh.v1alpha1.MeshConfig). */
export interface MeshConfig {
  /** Where proxies write access logs; `/dev/stdout` lets the logging component collect them. */
  readonly accessLogFile: string;
  /** Access log encoding; JSON so that logs are parsed, not regex-matched. */
  readonly accessLogEncoding: "JSON" | "TEXT";
  /** Trust domain of workload identities (the first part of every principal). */
  readonly trustDomain: string;
  /** Merge application metrics into the proxy's Prometheus endpoint. */
  readonly enablePrometheusMerge: boolean;
  /** Tracing (and other) providers that Telemetry resources select. */
  readonly extensionProviders: ReadonlyArray<OpenTelemetryProvider>;
  /** Providers used when no Telemetry resource names one. */
  readonly defaultProviders: { readonly tracing: ReadonlyArray<string> };
  /** What a proxy does with traffic to hosts outside the service registry. */
  readonly outboundTrafficPolicy: { readonly mode: "ALLOW_ANY" | "REGISTRY_ONLY" };
  /** Defaults for every proxy. */
  readonly defaultConfig: {
    /** Start the application only once its proxy is ready, so that its first calls do not fail. */
    readonly holdApplicationUntilProxyStarts: boolean;
  };
}

/** Values of the `base` chart (cluster-wide resources and the CRDs). */
export interface IstioBaseValues {
  /** Revision the default validating webhook points at. */
  readonly defaultRevision: string;
  readonly global: { readonly istioNamespace: string };
}

/** Values of the `istiod` chart that the platform sets (Istio 1.24 flattened layout). */
export interface IstiodValues {
  /** Whether istiod gets an HPA. */
  readonly autoscaleEnabled: boolean;
  /** HPA floor. */
  readonly autoscaleMin: number;
  /** HPA ceiling. */
  readonly autoscaleMax: number;
  /** Replicas (also the count before the HPA acts). */
  readonly replicaCount: number;
  /** HPA CPU target. */
  readonly cpu: { readonly targetAverageUtilization: number };
  /** istiod's requests and limits. */
  readonly resources: Resources;
  /** Seccomp profile of istiod (Pod Security `restricted` requires one). */
  readonly seccompProfile: { readonly type: "RuntimeDefault" };
  /** Sidecars rely on the Istio CNI node agent instead of a privileged init container. */
  readonly cni: { readonly enabled: boolean };
  /** Spread of istiod's pods. */
  readonly topologySpreadConstraints: ReadonlyArray<ChartTopologySpread>;
  readonly meshConfig: MeshConfig;
  readonly global: {
    readonly istioNamespace: string;
    /** Control-plane logs as JSON. */
    readonly logAsJson: boolean;
    /** A PodDisruptionBudget for istiod. */
    readonly defaultPodDisruptionBudget: { readonly enabled: boolean };
    /** Defaults of every injected proxy. */
    readonly proxy: { readonly resources: Resources };
  };
}

/** A port of the ingress gateway's Service. */
export interface GatewayServicePort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
  readonly protocol: "TCP";
}

/** Values of the `gateway` chart that the platform sets. */
export interface IstioGatewayValues {
  /** Labels of every object and pod; the gateway's graph selector. */
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: { readonly create: boolean; readonly name: string };
  readonly autoscaling: { readonly enabled: boolean; readonly minReplicas: number; readonly maxReplicas: number; readonly targetCPUUtilizationPercentage: number };
  readonly replicaCount: number;
  readonly resources: Resources;
  readonly service: {
    readonly type: "LoadBalancer" | "NodePort" | "ClusterIP";
    /** `Local` keeps client source addresses visible to the gateway. */
    readonly externalTrafficPolicy: "Local" | "Cluster";
    readonly ports: ReadonlyArray<GatewayServicePort>;
  };
  /** Voluntary disruptions take one pod at a time, and never block a drain of a single-replica gateway. */
  readonly podDisruptionBudget: { readonly maxUnavailable: number };
  /** Pod security context: restricted, plus the sysctl that lets a non-root proxy bind 80 and 443. */
  readonly securityContext: {
    readonly runAsNonRoot: boolean;
    readonly seccompProfile: { readonly type: "RuntimeDefault" };
    readonly sysctls: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  };
  readonly containerSecurityContext: {
    readonly allowPrivilegeEscalation: boolean;
    readonly privileged: boolean;
    readonly readOnlyRootFilesystem: boolean;
    readonly runAsNonRoot: boolean;
    readonly runAsUser: number;
    readonly runAsGroup: number;
    readonly capabilities: { readonly drop: ReadonlyArray<string> };
  };
  readonly topologySpreadConstraints: ReadonlyArray<ChartTopologySpread>;
}

/** Values of the `cni` chart (the node agent that sets up traffic redirection instead of a privileged init container). */
export interface IstioCniValues {
  /** Namespaces whose pods the agent leaves alone. */
  readonly excludeNamespaces: ReadonlyArray<string>;
  readonly seccompProfile: { readonly type: "RuntimeDefault" };
  readonly resources: Resources;
  readonly global: { readonly logAsJson: boolean };
}
