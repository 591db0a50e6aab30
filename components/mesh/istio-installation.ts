import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import type { AutoscaledSizing, HighAvailability, MeshSizing, SpreadMode } from "../../stacks/environments/environment";
import { SyncWave } from "../component";
import {
  CNI_NAMESPACE, INGRESS_GATEWAY, INGRESS_NAMESPACE, INGRESS_SELECTOR, ISTIO_CHARTS, ISTIO_NAMESPACE, ISTIO_VERSION, ISTIOD_SELECTOR, TRACING_PROVIDER,
} from "./constants";
import { ChartTopologySpread, IstioBaseValues, IstioCniValues, IstioGatewayValues, IstiodValues, MeshConfig } from "./istio-values";

/** Where the proxies send spans. */
export interface TracingEndpoint {
  /** FQDN of the OpenTelemetry collector's Service. */
  readonly service: string;
  /** OTLP gRPC port. */
  readonly port: number;
}

/** Props of the Istio installation. */
export interface IstioInstallationProps {
  /** Sizing of istiod, the ingress gateway and the proxies. */
  readonly sizing: MeshSizing;
  /** Spread of replicas. */
  readonly ha: HighAvailability;
  /** The ArgoCD AppProject. */
  readonly project: string;
  /** The OpenTelemetry collector. */
  readonly tracing: TracingEndpoint;
  /** Trust domain of workload identities. @default "cluster.local" */
  readonly trustDomain?: string;
  /** Mesh-wide handling of traffic to unknown hosts; business services are tightened by their Sidecar. @default "ALLOW_ANY" */
  readonly outboundTrafficPolicy?: "ALLOW_ANY" | "REGISTRY_ONLY";
  /** Type of the ingress gateway's Service. @default "LoadBalancer" */
  readonly ingressServiceType?: "LoadBalancer" | "NodePort" | "ClusterIP";
}

function spread(mode: SpreadMode, topologyKey: string, labels: Readonly<Record<string, string>>): ChartTopologySpread {
  return { maxSkew: 1, topologyKey, whenUnsatisfiable: mode === "hard" ? "DoNotSchedule" : "ScheduleAnyway", labelSelector: { matchLabels: { ...labels } } };
}

function spreads(ha: HighAvailability, labels: Readonly<Record<string, string>>): ChartTopologySpread[] {
  return [spread(ha.zoneSpread, "topology.kubernetes.io/zone", labels), spread(ha.nodeSpread, "kubernetes.io/hostname", labels)];
}

function checkAutoscaled(path: string, what: string, s: AutoscaledSizing): string[] {
  const problems: string[] = [];
  if (s.minReplicas < 1) problems.push(`${path}: ${what}.minReplicas must be >= 1 (got ${s.minReplicas})`);
  if (s.maxReplicas < s.minReplicas) problems.push(`${path}: ${what}.maxReplicas must be >= minReplicas ${s.minReplicas} (got ${s.maxReplicas})`);
  return problems;
}

/**
 * Istio 1.24.6 as four Helm add-ons, in order: `base` (CRDs), the CNI node agent (so that injected pods need no
 * privileged init container and keep Pod Security `restricted`), `istiod` with the mesh config, and the ingress gateway.
 */
export class IstioInstallation extends Construct {
  /** The `base` chart (CRDs and cluster-wide objects). */
  readonly base: HelmAddon<IstioBaseValues>;
  /** The CNI node agent. */
  readonly cni: HelmAddon<IstioCniValues>;
  /** The control plane. */
  readonly istiod: HelmAddon<IstiodValues>;
  /** The ingress gateway. */
  readonly gateway: HelmAddon<IstioGatewayValues>;
  /** The mesh config istiod runs with. */
  readonly meshConfig: MeshConfig;

  constructor(scope: Construct, id: string, props: IstioInstallationProps) {
    super(scope, id);
    const { sizing, ha } = props;
    const problems = [...checkAutoscaled(this.node.path, "istiod", sizing.istiod), ...checkAutoscaled(this.node.path, "ingressGateway", sizing.ingressGateway)];
    if (sizing.tracingSamplingPercent < 0 || sizing.tracingSamplingPercent > 100) problems.push(`${this.node.path}: tracingSamplingPercent must be 0-100 (got ${sizing.tracingSamplingPercent})`);
    if (problems.length) throw new Error(problems.join("; "));

    const common = { repoURL: ISTIO_CHARTS, version: ISTIO_VERSION, project: props.project };
    this.base = new HelmAddon<IstioBaseValues>(this, "Base", {
      ...common, release: "istio-base", chart: "base", namespace: ISTIO_NAMESPACE, syncWave: SyncWave.OPERATORS,
      values: { defaultRevision: "default", global: { istioNamespace: ISTIO_NAMESPACE } },
    });
    this.cni = new HelmAddon<IstioCniValues>(this, "Cni", {
      ...common, release: "istio-cni", chart: "cni", namespace: CNI_NAMESPACE, syncWave: SyncWave.OPERATORS + 1, dependsOn: [this.base],
      values: {
        excludeNamespaces: ["kube-system", ISTIO_NAMESPACE],
        seccompProfile: { type: "RuntimeDefault" },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
        global: { logAsJson: true },
      },
    });
    this.meshConfig = {
      accessLogFile: "/dev/stdout",
      accessLogEncoding: "JSON",
      trustDomain: props.trustDomain ?? "cluster.local",
      enablePrometheusMerge: true,
      extensionProviders: [{ name: TRACING_PROVIDER, opentelemetry: { service: props.tracing.service, port: props.tracing.port } }],
      defaultProviders: { tracing: [TRACING_PROVIDER] },
      outboundTrafficPolicy: { mode: props.outboundTrafficPolicy ?? "ALLOW_ANY" },
      defaultConfig: { holdApplicationUntilProxyStarts: true },
    };
    this.istiod = new HelmAddon<IstiodValues>(this, "Istiod", {
      ...common, release: "istiod", chart: "istiod", namespace: ISTIO_NAMESPACE, syncWave: SyncWave.OPERATORS + 2, dependsOn: [this.base, this.cni],
      values: {
        autoscaleEnabled: sizing.istiod.maxReplicas > sizing.istiod.minReplicas,
        autoscaleMin: sizing.istiod.minReplicas,
        autoscaleMax: sizing.istiod.maxReplicas,
        replicaCount: sizing.istiod.minReplicas,
        cpu: { targetAverageUtilization: sizing.istiod.targetCpuUtilization },
        resources: sizing.istiod.resources,
        seccompProfile: { type: "RuntimeDefault" },
        cni: { enabled: true },
        topologySpreadConstraints: spreads(ha, ISTIOD_SELECTOR),
        meshConfig: this.meshConfig,
        global: {
          istioNamespace: ISTIO_NAMESPACE,
          logAsJson: true,
          defaultPodDisruptionBudget: { enabled: true },
          proxy: { resources: sizing.proxy },
        },
      },
    });
    const gw = sizing.ingressGateway;
    this.gateway = new HelmAddon<IstioGatewayValues>(this, "IngressGateway", {
      ...common, release: INGRESS_GATEWAY, chart: "gateway", namespace: INGRESS_NAMESPACE, syncWave: SyncWave.OPERATORS + 3, dependsOn: [this.istiod],
      values: {
        labels: { ...INGRESS_SELECTOR },
        serviceAccount: { create: true, name: INGRESS_GATEWAY },
        autoscaling: { enabled: gw.maxReplicas > gw.minReplicas, minReplicas: gw.minReplicas, maxReplicas: gw.maxReplicas, targetCPUUtilizationPercentage: gw.targetCpuUtilization },
        replicaCount: gw.minReplicas,
        resources: gw.resources,
        service: {
          type: props.ingressServiceType ?? "LoadBalancer",
          externalTrafficPolicy: "Local",
          ports: [
            { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
            { name: "http2", port: 80, targetPort: 80, protocol: "TCP" },
            { name: "https", port: 443, targetPort: 443, protocol: "TCP" },
          ],
        },
        podDisruptionBudget: { maxUnavailable: 1 },
        securityContext: {
          runAsNonRoot: true,
          seccompProfile: { type: "RuntimeDefault" },
          sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
        },
        containerSecurityContext: {
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          runAsUser: 1337,
          runAsGroup: 1337,
          capabilities: { drop: ["ALL"] },
        },
        topologySpreadConstraints: spreads(ha, INGRESS_SELECTOR),
      },
    });
  }
}
