import { formatFinding, runPolicies, SUPPRESSION_RULE_ID } from "../../policies/engine";
import { apiFormats, DEFAULT_RULES, namespaceScope, podSecurityLabels, rbacLeastPrivilege, hostAccessForbidden, imagePinned, namespaceDefaultDeny, podSecurityRestricted, probesRequired, recommendedLabelsRule, resourcesRequired, saTokenAutomount, secretNoData } from "../../policies/rules";
import { K8sObject, PolicyRule } from "../../policies/types";

const labels = { "app.kubernetes.io/name": "order", "app.kubernetes.io/part-of": "stratum", "app.kubernetes.io/managed-by": "stratum" };

function container(over: Record<string, unknown> = {}) {
  return {
    name: "order",
    image: "ghcr.io/acme/order:1.2.3",
    resources: { requests: { "cpu": "100m", "memory": "64Mi", "ephemeral-storage": "128Mi" }, limits: { "cpu": "1", "memory": "64Mi", "ephemeral-storage": "128Mi" } },
    readinessProbe: { httpGet: { path: "/readyz", port: "http" } },
    livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    ...over,
  };
}

function deployment(opts: { container?: Record<string, unknown>; pod?: Record<string, unknown>; annotations?: Record<string, string> } = {}): K8sObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "order", namespace: "apps", labels, annotations: opts.annotations },
    spec: {
      template: {
        metadata: { labels },
        spec: { automountServiceAccountToken: false, containers: [container(opts.container)], ...opts.pod },
      },
    },
  };
}

function check(rule: PolicyRule, obj: K8sObject, others: K8sObject[] = []) {
  return rule.check(obj, { objects: [obj, ...others] });
}

describe("policy rules", () => {
  it("every default rule passes a hardened Deployment", () => {
    expect(runPolicies([deployment()], DEFAULT_RULES).findings).toEqual([]);
  });

  it("pod-security-restricted names each missing restricted field", () => {
    const bad = deployment({ container: { securityContext: { runAsUser: 0, capabilities: { add: ["NET_ADMIN"] } } } });
    const fields = check(podSecurityRestricted, bad).map((v) => v.field);
    expect(fields).toEqual([
      "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
      "spec.template.spec.containers[0].securityContext.runAsNonRoot",
      "spec.template.spec.containers[0].securityContext.runAsUser",
      "spec.template.spec.containers[0].securityContext.capabilities.drop",
      "spec.template.spec.containers[0].securityContext.capabilities.add",
      "spec.template.spec.containers[0].securityContext.seccompProfile.type",
    ]);
  });

  it("resources-required fires on a missing memory limit or ephemeral-storage request", () => {
    const bad = deployment({ container: { resources: { requests: { "cpu": "1", "memory": "1Gi" }, limits: { "cpu": "1", "ephemeral-storage": "64Mi" } } } });
    expect(check(resourcesRequired, bad)).toEqual([
      { field: "spec.template.spec.containers[0].resources.requests.ephemeral-storage", message: "is required" },
      { field: "spec.template.spec.containers[0].resources.limits.memory", message: "is required" },
    ]);
    expect(check(resourcesRequired, deployment())).toEqual([]);
  });

  it("resources-required fires when the containers' ephemeral-storage limits do not cover the pod's emptyDirs", () => {
    const volumes = (...sizes: string[]) => sizes.map((sizeLimit, i) => ({ name: `v${i}`, emptyDir: { sizeLimit } }));
    // 128Mi of limits: two emptyDirs of 64Mi fit, a third does not; a memory-backed one counts against memory instead
    expect(check(resourcesRequired, deployment({ pod: { volumes: volumes("64Mi", "64Mi") } }))).toEqual([]);
    expect(check(resourcesRequired, deployment({ pod: { volumes: [...volumes("64Mi", "64Mi"), { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } }] } }))).toEqual([]);
    expect(check(resourcesRequired, deployment({ pod: { volumes: volumes("64Mi", "64Mi", "1Mi") } }))).toEqual([
      { field: "spec.template.spec.volumes", message: "emptyDir size limits total 129Mi, more than the containers' ephemeral-storage limits (128Mi); the kubelet would evict the pod before its volumes fill" },
    ]);
  });

  it("probes-required fires on long-running workloads only", () => {
    const bad = deployment({ container: { readinessProbe: undefined } });
    expect(check(probesRequired, bad)).toEqual([{ field: "spec.template.spec.containers[0].readinessProbe", message: "is required" }]);
    const job = { ...bad, kind: "Job", apiVersion: "batch/v1" };
    expect(check(probesRequired, job)).toEqual([]);
  });

  it("probes-required fires on a liveness probe identical to the readiness probe, whatever the key order", () => {
    const same = deployment({ container: { readinessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 10 }, livenessProbe: { periodSeconds: 10, tcpSocket: { port: "redis" } } } });
    expect(check(probesRequired, same)).toEqual([
      { field: "spec.template.spec.containers[0].livenessProbe", message: "is the same as the readiness probe; make it more lenient (a longer period or more failures) or check another endpoint" },
    ]);
    const lenient = deployment({ container: { readinessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 10 }, livenessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 20 } } });
    expect(check(probesRequired, lenient)).toEqual([]);
  });

  it("image-pinned fires on a floating tag and passes a digest", () => {
    expect(check(imagePinned, deployment({ container: { image: "redis:latest" } }))[0].message).toMatch(/floating tag 'latest'/);
    expect(check(imagePinned, deployment({ container: { image: `redis@sha256:${"0".repeat(64)}` } }))).toEqual([]);
  });

  it("host-access-forbidden fires on host namespaces, hostPath, host ports and privileged", () => {
    const bad = deployment({
      pod: { hostNetwork: true, volumes: [{ name: "logs", hostPath: { path: "/var/log" } }] },
      container: { ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { ...container().securityContext, privileged: true } },
    });
    expect(check(hostAccessForbidden, bad).map((v) => v.field)).toEqual([
      "spec.template.spec.hostNetwork",
      "spec.template.spec.volumes[0].hostPath",
      "spec.template.spec.containers[0].securityContext.privileged",
      "spec.template.spec.containers[0].ports[0].hostPort",
    ]);
    expect(check(hostAccessForbidden, deployment())).toEqual([]);
  });

  it("sa-token-automount fires on ServiceAccounts and pods that mount the token", () => {
    const sa: K8sObject = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "order", labels } };
    expect(check(saTokenAutomount, sa)).toEqual([{ field: "automountServiceAccountToken", message: "must be false" }]);
    expect(check(saTokenAutomount, { ...sa, automountServiceAccountToken: false })).toEqual([]);
    expect(check(saTokenAutomount, deployment({ pod: { automountServiceAccountToken: true } }))).toHaveLength(1);
  });

  it("namespace-default-deny needs a deny-all policy for both directions in that namespace", () => {
    const ns: K8sObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps", labels } };
    const deny = (namespace: string, types: string[]): K8sObject => ({
      apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny", namespace, labels }, spec: { podSelector: {}, policyTypes: types },
    });
    expect(check(namespaceDefaultDeny, ns)[0].message).toMatch(/namespace 'apps' has no default-deny NetworkPolicy/);
    expect(check(namespaceDefaultDeny, ns, [deny("other", ["Ingress", "Egress"])])).toHaveLength(1);
    expect(check(namespaceDefaultDeny, ns, [deny("apps", ["Ingress"])])).toHaveLength(1);
    expect(check(namespaceDefaultDeny, ns, [deny("apps", ["Ingress", "Egress"])])).toEqual([]);
  });

  it("recommended-labels fires on the object and on its pod template", () => {
    const bad = deployment();
    const obj: K8sObject = { ...bad, metadata: { ...bad.metadata, labels: { "app.kubernetes.io/name": "order" } } };
    (obj.spec as any).template.metadata.labels = {};
    expect(check(recommendedLabelsRule, obj).map((v) => v.field)).toEqual([
      'metadata.labels["app.kubernetes.io/part-of"]',
      'metadata.labels["app.kubernetes.io/managed-by"]',
      'spec.template.metadata.labels["app.kubernetes.io/name"]',
    ]);
  });

  it("secret-no-data fires on data and stringData and passes an empty Secret", () => {
    const secret: K8sObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "db", labels }, data: { password: "aHVudGVyMg==" }, stringData: { user: "app" } };
    expect(check(secretNoData, secret)).toEqual([
      { field: "data", message: "must be empty; keys found: password" },
      { field: "stringData", message: "must be empty; keys found: user" },
    ]);
    expect(check(secretNoData, { ...secret, data: undefined, stringData: undefined })).toEqual([]);
  });

  it("api-formats refuses what the API server would: names, labels, port and env names, data keys and sizes", () => {
    const bad = deployment({ container: { ports: [{ name: "metrics-exporter-http", containerPort: 9100 }], env: [{ name: "A=B", value: "x" }, { name: "X", value: "1" }, { name: "X", value: "2" }], volumeMounts: [{ name: "ghost", mountPath: "/tmp" }] } });
    const withLabel = { ...bad, metadata: { ...bad.metadata, name: "Order_Service", labels: { ...labels, "team": "a value with spaces" } } };
    const fields = check(apiFormats, withLabel).map((v) => v.field);
    expect(fields).toEqual([
      "metadata.name",
      "metadata.labels.team",
      "spec.template.spec.containers[0].ports[0].name",
      "spec.template.spec.containers[0].env[0].name",
      "spec.template.spec.containers[0].env[2].name",
      "spec.template.spec.containers[0].volumeMounts[0].name",
    ]);
    const svc: K8sObject = { apiVersion: "v1", kind: "Service", metadata: { name: "1order", namespace: "apps", labels }, spec: { ports: [{ port: 80 }, { name: "http", port: 81, targetPort: "http-very-long-name" }] } };
    expect(check(apiFormats, svc).map((v) => v.field)).toEqual(["metadata.name", "spec.ports[0].name", "spec.ports[1].targetPort"]);
    const sts: K8sObject = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "a".repeat(53), namespace: "apps", labels }, spec: { template: { metadata: { labels }, spec: { containers: [container()] } } } };
    expect(check(apiFormats, sts)).toEqual([expect.objectContaining({ field: "metadata.name", message: expect.stringContaining("at most 52") })]);
    const cm: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big", namespace: "apps", labels }, data: { "bad/key": "x", big: "x".repeat(1024 * 1024) } };
    expect(check(apiFormats, cm).map((v) => v.field)).toEqual(["data.bad/key", "data"]);
    expect(check(apiFormats, deployment())).toEqual([]);
  });

  it("namespace-scope refuses a namespace on cluster-scoped kinds and its absence on namespaced ones", () => {
    const role: K8sObject = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "reader", namespace: "monitoring", labels } };
    expect(check(namespaceScope, role)).toEqual([{ field: "metadata.namespace", message: 'ClusterRole is cluster-scoped: remove the namespace ("monitoring")' }]);
    expect(check(namespaceScope, { ...role, metadata: { name: "reader", labels } })).toEqual([]);
    const issuer: K8sObject = { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "acme", namespace: "security" } };
    expect(check(namespaceScope, issuer)).toHaveLength(1);
    const cm: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" } };
    expect(check(namespaceScope, cm)).toEqual([{ field: "metadata.namespace", message: "ConfigMap is namespaced: set its namespace" }]);
    expect(check(namespaceScope, deployment())).toEqual([]);
  });
});

describe("suppressions", () => {
  const root = deployment({ container: { securityContext: { ...container().securityContext, runAsUser: 0 } } });

  it("silence one rule on one object, keeping the reason for the report", () => {
    const obj = { ...root, metadata: { ...root.metadata, annotations: { "stratum.dev/suppress": "pod-security-restricted: the vendor image only runs as root" } } };
    const report = runPolicies([obj], DEFAULT_RULES);
    expect(report.errors).toEqual([]);
    expect(report.suppressed).toHaveLength(1);
    expect(report.suppressed[0]).toMatchObject({ ruleId: "pod-security-restricted", reason: "the vendor image only runs as root" });
  });

  it("without a reason are themselves an error, and suppress nothing", () => {
    const obj = { ...root, metadata: { ...root.metadata, annotations: { "stratum.dev/suppress": "pod-security-restricted:" } } };
    const report = runPolicies([obj], DEFAULT_RULES);
    expect(report.errors.map((f) => f.ruleId).sort()).toEqual(["pod-security-restricted", SUPPRESSION_RULE_ID]);
    expect(report.errors.find((f) => f.ruleId === SUPPRESSION_RULE_ID)?.message).toBe("suppression of 'pod-security-restricted' has no reason");
  });

  it("of an unknown rule are an error listing the rules", () => {
    const obj = { ...deployment(), metadata: { ...deployment().metadata, annotations: { "stratum.dev/suppress": "no-such-rule: because" } } };
    expect(runPolicies([obj], DEFAULT_RULES).errors[0].message).toMatch(/'no-such-rule' is not a rule; known: api-formats, host-access-forbidden, image-pinned/);
  });

  it("format as one line naming rule, object and field", () => {
    const [f] = runPolicies([deployment({ container: { image: "redis" } })], [imagePinned]).findings;
    expect(formatFinding(f)).toBe("error [image-pinned] Deployment apps/order: spec.template.spec.containers[0].image: image 'redis' has no tag or digest; pin an exact version (repo:1.2.3) or a digest (repo@sha256:...)");
  });
});

describe("security rules", () => {
  const role = (rules: unknown[], kind = "Role"): K8sObject => ({ apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: { name: "r", namespace: "apps", labels }, rules });

  it("rbac-least-privilege fires on wildcard verbs, resources and groups", () => {
    const bad = role([{ apiGroups: ["*"], resources: ["pods/*"], verbs: ["*"] }], "ClusterRole");
    expect(check(rbacLeastPrivilege, bad).map((v) => v.field)).toEqual(["rules[0].apiGroups", "rules[0].resources", "rules[0].verbs"]);
    expect(check(rbacLeastPrivilege, role([{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }]))).toEqual([]);
  });

  it("rbac-least-privilege fires on a binding to cluster-admin", () => {
    const binding: K8sObject = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "b", labels }, roleRef: { kind: "ClusterRole", name: "cluster-admin" } };
    expect(check(rbacLeastPrivilege, binding)[0].message).toMatch(/must not bind the built-in 'cluster-admin' role/);
    expect(check(rbacLeastPrivilege, { ...binding, roleRef: { kind: "ClusterRole", name: "stratum-reader" } })).toEqual([]);
  });

  it("pod-security-labels needs the enforce label, its version, and a reason below restricted", () => {
    const ns = (l: Record<string, string>, annotations?: Record<string, string>): K8sObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x", labels: { ...labels, ...l }, annotations } });
    expect(check(podSecurityLabels, ns({}))[0].field).toBe('metadata.labels["pod-security.kubernetes.io/enforce"]');
    const pinned = { "pod-security.kubernetes.io/enforce-version": "v1.28" };
    expect(check(podSecurityLabels, ns({ "pod-security.kubernetes.io/enforce": "restricted", ...pinned }))).toEqual([]);
    expect(check(podSecurityLabels, ns({ "pod-security.kubernetes.io/enforce": "restricted" }))[0].field).toBe('metadata.labels["pod-security.kubernetes.io/enforce-version"]');
    expect(check(podSecurityLabels, ns({ "pod-security.kubernetes.io/enforce": "privileged", ...pinned }))[0].message).toBe("namespace enforces 'privileged': explain why in this annotation");
    expect(check(podSecurityLabels, ns({ "pod-security.kubernetes.io/enforce": "privileged", ...pinned }, { "stratum.dev/pod-security-exception": "log collector reads /var/log on the node" }))).toEqual([]);
  });
});
