import type { GraphNodeProps } from "../../constructs/service-graph";
import type { K8sObject } from "../../policies/types";
import { matches } from "./reachability";

/**
 * Cross-object references of a synthesized platform, checked the way a cluster would resolve them: what kube-linter's
 * dangling-* and mismatching-selector checks and `istioctl analyze` report, on the objects alone. Pods come from the
 * workloads in the output and, for pods that a chart or an operator makes (not in the output), from the service
 * graph's nodes, which declare their labels, namespace and ServiceAccount. Returns one line per broken reference.
 */
export function danglingReferences(objects: ReadonlyArray<K8sObject>, nodes: ReadonlyArray<GraphNodeProps>): string[] {
  return new References(objects, nodes).check();
}

type Labels = Readonly<Record<string, string>>;
type Any = Record<string, any>;

interface Template {
  readonly namespace: string;
  readonly labels: Labels;
  readonly spec: Any;
  readonly annotations: Labels;
  readonly owner: K8sObject & Any;
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout"]);
const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;

/** Built-in ClusterRoles every cluster has. */
const BUILT_IN_CLUSTER_ROLES = new Set(["cluster-admin", "admin", "edit", "view"]);

function name(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

function subset(a: Labels, b: Labels): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === v);
}

class References {
  private readonly problems: string[] = [];
  private readonly templates: Template[] = [];
  private readonly byKey = new Map<string, K8sObject & Any>();
  /** Secrets that something other than a Secret object makes: ExternalSecrets, Certificates, operators. */
  private readonly madeSecrets = new Set<string>();

  constructor(private readonly objects: ReadonlyArray<K8sObject>, private readonly nodes: ReadonlyArray<GraphNodeProps>) {
    for (const o of objects as Array<K8sObject & Any>) {
      this.byKey.set(this.key(o.kind, o.metadata.namespace, o.metadata.name as string), o);
      const t = WORKLOADS.has(o.kind) ? o.spec.template : o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : undefined;
      if (t) this.templates.push({ namespace: o.metadata.namespace as string, labels: t.metadata?.labels ?? {}, annotations: t.metadata?.annotations ?? {}, spec: t.spec, owner: o });
      this.noteMadeSecrets(o);
    }
  }

  check(): string[] {
    for (const t of this.templates) this.checkTemplate(t);
    for (const o of this.objects as Array<K8sObject & Any>) {
      switch (o.kind) {
        case "Service": this.checkService(o); break;
        case "HorizontalPodAutoscaler": this.checkHpa(o); break;
        case "PodDisruptionBudget": this.checkPdb(o); break;
        case "RoleBinding":
        case "ClusterRoleBinding": this.checkBinding(o); break;
        case "ServiceMonitor": this.checkServiceMonitor(o); break;
        case "NetworkPolicy": this.checkPodSelector(o, o.spec.podSelector); break;
        case "AuthorizationPolicy":
        case "PeerAuthentication":
        case "RequestAuthentication":
        case "Telemetry": this.checkPodSelector(o, o.spec.selector); break;
        case "Sidecar": this.checkPodSelector(o, o.spec.workloadSelector ? { matchLabels: o.spec.workloadSelector.labels } : undefined); break;
        case "DestinationRule": this.checkDestinationRule(o); break;
        case "VirtualService": this.checkVirtualService(o); break;
        case "Gateway":
          if (o.apiVersion.startsWith("networking.istio.io")) this.checkGatewaySelector(o);
          break;
      }
    }
    return [...new Set(this.problems)];
  }

  private key(kind: string, namespace: string | undefined, n: string): string {
    return `${kind}/${namespace ?? ""}/${n}`;
  }

  private has(kind: string, namespace: string | undefined, n: string): boolean {
    return this.byKey.has(this.key(kind, namespace, n)) || (kind === "Secret" && this.madeSecrets.has(`${namespace}/${n}`));
  }

  private noteMadeSecrets(o: K8sObject & Any): void {
    const ns = o.metadata.namespace;
    const add = (n: string) => this.madeSecrets.add(`${ns}/${n}`);
    if (o.kind === "ExternalSecret") add(o.spec.target?.name ?? o.metadata.name);
    if (o.kind === "Certificate") add(o.spec.secretName);
    // what the operators make for each resource (ECK, CloudNativePG), by their documented naming
    if (o.kind === "Elasticsearch") for (const s of ["es-elastic-user", "es-http-certs-public", "es-http-ca-internal"]) add(`${o.metadata.name}-${s}`);
    if (o.kind === "Kibana") add(`${o.metadata.name}-kb-http-certs-public`);
    if (o.kind === "Cluster" && o.apiVersion.startsWith("postgresql.cnpg.io/")) for (const s of ["app", "superuser", "ca", "replication"]) add(`${o.metadata.name}-${s}`);
  }

  /** Graph nodes whose pods are not in the output (a chart's or an operator's), in a namespace. */
  private madePods(namespace: string): GraphNodeProps[] {
    // a node whose labels a workload of the output selects (or whose pods it makes) is that workload's, not a chart's
    const ours = (n: GraphNodeProps) =>
      this.templates.some((t) => {
        if (t.namespace !== namespace) return false;
        const own: Labels = t.owner.kind === "Job" ? {} : t.owner.spec.selector?.matchLabels ?? {};
        return subset(n.selector as Labels, t.labels) || (Object.keys(own).length > 0 && subset(own, n.selector as Labels));
      });
    return this.nodes.filter((n) => n.namespace === namespace && n.selector && !ours(n));
  }

  /** Whether a selector picks any pod: a template in the output, or a chart's or operator's pods the graph declares. */
  private anyPods(namespace: string, selector: Any | undefined): boolean {
    if (this.templates.some((t) => t.namespace === namespace && matches(selector, t.labels))) return true;
    const labels: Labels = selector?.matchLabels ?? {};
    // a node's selector is the labels its pods are known to carry; a selector may also narrow it (a pod role)
    return this.madePods(namespace).some((n) => matches(selector, n.selector as Labels) || subset(n.selector as Labels, labels));
  }

  private checkTemplate(t: Template): void {
    const owner = name(t.owner);
    const selector = t.owner.kind === "Job" ? undefined : t.owner.spec.selector;
    if (selector && !matches(selector, t.labels)) this.problems.push(`${owner}: spec.selector does not match its pod template's labels`);
    const sa = t.spec.serviceAccountName;
    if (sa && !this.has("ServiceAccount", t.namespace, sa)) this.problems.push(`${owner}: ServiceAccount ${sa} does not exist`);
    for (const c of [...(t.spec.initContainers ?? []), ...t.spec.containers]) {
      const ports: Any[] = c.ports ?? [];
      for (const p of PROBES) {
        const probe = c[p];
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
        if (typeof port === "string" && !ports.some((x) => x.name === port)) this.problems.push(`${owner}: container ${c.name} ${p} uses port ${port}, which it does not declare`);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
        const kind = e.valueFrom?.secretKeyRef ? "Secret" : "ConfigMap";
        if (ref && !ref.optional && !this.has(kind, t.namespace, ref.name)) this.problems.push(`${owner}: env ${e.name} reads ${kind} ${ref.name}, which nothing makes`);
      }
      for (const e of c.envFrom ?? []) {
        const ref = e.secretRef ?? e.configMapRef;
        const kind = e.secretRef ? "Secret" : "ConfigMap";
        if (!ref.optional && !this.has(kind, t.namespace, ref.name)) this.problems.push(`${owner}: envFrom reads ${kind} ${ref.name}, which nothing makes`);
      }
    }
    for (const v of t.spec.volumes ?? []) {
      const refs: Array<[string, string, boolean]> = [];
      if (v.configMap) refs.push(["ConfigMap", v.configMap.name, v.configMap.optional]);
      if (v.secret) refs.push(["Secret", v.secret.secretName, v.secret.optional]);
      for (const s of v.projected?.sources ?? []) {
        if (s.configMap) refs.push(["ConfigMap", s.configMap.name, s.configMap.optional]);
        if (s.secret) refs.push(["Secret", s.secret.name, s.secret.optional]);
      }
      if (v.persistentVolumeClaim && !t.owner.spec.volumeClaimTemplates?.some((c: Any) => c.metadata.name === v.name)) refs.push(["PersistentVolumeClaim", v.persistentVolumeClaim.claimName, false]);
      for (const [kind, n, optional] of refs) {
        if (!optional && !this.has(kind, t.namespace, n)) this.problems.push(`${owner}: volume ${v.name} mounts ${kind} ${n}, which nothing makes`);
      }
    }
  }

  private checkService(o: K8sObject & Any): void {
    const selector: Labels | undefined = o.spec.selector;
    if (!selector) return;
    const ns = o.metadata.namespace as string;
    const picked = this.templates.filter((t) => t.namespace === ns && subset(selector, t.labels));
    if (picked.length === 0) {
      if (!this.anyPods(ns, { matchLabels: selector })) this.problems.push(`${name(o)}: selector ${JSON.stringify(selector)} matches no pods`);
      return;
    }
    for (const p of o.spec.ports) {
      const target = p.targetPort ?? p.port;
      for (const t of picked) {
        const ports: Any[] = t.spec.containers.flatMap((c: Any) => c.ports ?? []);
        // a numeric port may also be a sidecar's that admission injects (daprd's metrics port)
        const ok = typeof target === "string" ? ports.some((x) => x.name === target) : ports.some((x) => x.containerPort === target) || t.annotations["dapr.io/metrics-port"] === String(target);
        if (!ok) this.problems.push(`${name(o)}: port ${p.name ?? p.port} targets ${target}, which ${name(t.owner)} does not serve`);
      }
    }
  }

  private workload(kind: string, namespace: string, n: string): (K8sObject & Any) | undefined {
    return this.byKey.get(this.key(kind, namespace, n));
  }

  private checkHpa(o: K8sObject & Any): void {
    const ref = o.spec.scaleTargetRef;
    const target = this.workload(ref.kind, o.metadata.namespace as string, ref.name);
    if (!target) this.problems.push(`${name(o)}: scales ${ref.kind} ${ref.name}, which does not exist`);
    // a replica count beside an HPA is reset on every sync, and the two fight
    else if (target.spec.replicas !== undefined) this.problems.push(`${name(o)}: ${name(target)} sets spec.replicas, which the HPA owns`);
  }

  private checkPdb(o: K8sObject & Any): void {
    const ns = o.metadata.namespace as string;
    if (!this.anyPods(ns, o.spec.selector)) {
      this.problems.push(`${name(o)}: selector matches no pods`);
      return;
    }
    if (o.spec.maxUnavailable === 0 || o.spec.maxUnavailable === "0%") this.problems.push(`${name(o)}: maxUnavailable 0 blocks every drain`);
    for (const t of this.templates.filter((x) => x.namespace === ns && matches(o.spec.selector, x.labels))) {
      const hpa = (this.objects as Array<K8sObject & Any>).find((h) => h.kind === "HorizontalPodAutoscaler" && h.metadata.namespace === ns && h.spec.scaleTargetRef.name === t.owner.metadata.name);
      const replicas: number = hpa ? hpa.spec.minReplicas ?? 1 : t.owner.spec.replicas ?? 1;
      if (typeof o.spec.minAvailable === "number" && o.spec.minAvailable >= replicas) this.problems.push(`${name(o)}: minAvailable ${o.spec.minAvailable} with ${replicas} replicas of ${name(t.owner)} blocks every drain`);
    }
  }

  private checkBinding(o: K8sObject & Any): void {
    const r = o.roleRef;
    const ns = o.metadata.namespace;
    const roleExists = r.kind === "Role" ? this.has("Role", ns, r.name) : this.has("ClusterRole", undefined, r.name) || BUILT_IN_CLUSTER_ROLES.has(r.name);
    if (!roleExists) this.problems.push(`${name(o)}: binds ${r.kind} ${r.name}, which does not exist`);
    for (const s of o.subjects ?? []) {
      if (s.kind !== "ServiceAccount") continue;
      const made = this.nodes.some((n) => n.namespace === s.namespace && n.serviceAccount === s.name);
      if (!this.has("ServiceAccount", s.namespace, s.name) && !made) this.problems.push(`${name(o)}: subject ServiceAccount ${s.namespace}/${s.name} does not exist`);
    }
  }

  private checkServiceMonitor(o: K8sObject & Any): void {
    const namespaces: string[] = o.spec.namespaceSelector?.matchNames ?? [o.metadata.namespace];
    const services = (this.objects as Array<K8sObject & Any>).filter((s) => s.kind === "Service" && namespaces.includes(s.metadata.namespace as string) && matches(o.spec.selector, s.metadata.labels ?? {}));
    if (services.length === 0) {
      // the kubelet Service is the one the prometheus-operator itself keeps (its --kubelet-service)
      if (o.spec.selector?.matchLabels?.["app.kubernetes.io/managed-by"] !== "prometheus-operator") this.problems.push(`${name(o)}: selects no Service`);
      return;
    }
    for (const e of o.spec.endpoints ?? []) {
      for (const s of services) if (e.port && !s.spec.ports.some((p: Any) => p.name === e.port)) this.problems.push(`${name(o)}: endpoint port ${e.port} is not a port of ${name(s)}`);
    }
  }

  private checkPodSelector(o: K8sObject & Any, selector: Any | undefined): void {
    if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && !selector.matchExpressions?.length)) return;
    if (!this.anyPods(o.metadata.namespace as string, selector)) this.problems.push(`${name(o)}: selector ${JSON.stringify(selector)} matches no pods`);
  }

  /** The Service that a mesh host (`<svc>.<ns>.svc.cluster.local`, or a short name in the object's namespace) names. */
  private serviceOf(host: string, namespace: string): (K8sObject & Any) | undefined {
    const parts = host.split(".");
    const ns = parts.length >= 2 ? parts[1] : namespace;
    return this.byKey.get(this.key("Service", ns, parts[0]));
  }

  private checkDestinationRule(o: K8sObject & Any): void {
    const svc = this.serviceOf(o.spec.host, o.metadata.namespace as string);
    if (!svc) {
      this.problems.push(`${name(o)}: host ${o.spec.host} is no Service`);
      return;
    }
    for (const s of o.spec.subsets ?? []) {
      const labels = { ...(svc.spec.selector ?? {}), ...(s.labels ?? {}) };
      if (!this.anyPods(svc.metadata.namespace as string, { matchLabels: labels })) this.problems.push(`${name(o)}: subset ${s.name} matches no pods of ${name(svc)}`);
    }
  }

  private checkVirtualService(o: K8sObject & Any): void {
    for (const route of [...(o.spec.http ?? []), ...(o.spec.tcp ?? []), ...(o.spec.tls ?? [])]) {
      for (const r of route.route ?? []) {
        const host: string = r.destination.host;
        const svc = this.serviceOf(host, o.metadata.namespace as string);
        if (!svc) {
          this.problems.push(`${name(o)}: routes to ${host}, which is no Service`);
          continue;
        }
        const port = r.destination.port?.number;
        if (port !== undefined && !svc.spec.ports.some((p: Any) => p.port === port)) this.problems.push(`${name(o)}: routes to port ${port} of ${name(svc)}, which it does not serve`);
        const subset = r.destination.subset;
        if (subset) {
          const rules = (this.objects as Array<K8sObject & Any>).filter((d) => d.kind === "DestinationRule" && this.serviceOf(d.spec.host, d.metadata.namespace as string) === svc);
          if (!rules.some((d) => (d.spec.subsets ?? []).some((s: Any) => s.name === subset))) this.problems.push(`${name(o)}: subset ${subset} of ${host} is in no DestinationRule`);
        }
      }
    }
  }

  private checkGatewaySelector(o: K8sObject & Any): void {
    const selector: Labels = o.spec.selector ?? {};
    const anywhere = [...new Set([...this.templates.map((t) => t.namespace), ...this.nodes.map((n) => n.namespace)])].filter((ns): ns is string => !!ns);
    const at = anywhere.filter((ns) => this.anyPods(ns, { matchLabels: selector }));
    if (at.length === 0) {
      this.problems.push(`${name(o)}: selector ${JSON.stringify(selector)} matches no gateway pods`);
      return;
    }
    // the gateway pods read their certificates from their own namespace
    for (const server of o.spec.servers ?? []) {
      const credential = server.tls?.credentialName;
      if (credential && !at.every((ns) => this.has("Secret", ns, credential))) this.problems.push(`${name(o)}: credential ${credential} is no Secret in ${at.join(", ")}`);
    }
  }
}
