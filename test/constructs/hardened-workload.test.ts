import { Testing } from "cdk8s";
import { HardenedWorkload, HardenedWorkloadProps } from "../../constructs/hardened-workload";

const base: HardenedWorkloadProps = {
  name: "order",
  namespace: "apps",
  component: "business-service",
  image: "ghcr.io/acme/order:1.2.3",
  replicas: 2,
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "128Mi" } },
  ports: [
    { name: "http", port: 8080, protocol: "http" },
    { name: "http-metrics", port: 9090, protocol: "http", metrics: true },
  ],
};

function synth(props: Partial<HardenedWorkloadProps> = {}, after?: (w: HardenedWorkload) => void) {
  const chart = Testing.chart();
  const w = new HardenedWorkload(chart, "W", { ...base, ...props });
  after?.(w);
  const objects = Testing.synth(chart);
  const byKind = (k: string) => objects.filter((o) => o.kind === k);
  return { w, objects, byKind };
}

describe("HardenedWorkload", () => {
  const { byKind } = synth();
  const deploy = byKind("Deployment")[0];
  const pod = deploy.spec.template.spec;
  const main = pod.containers[0];

  it("runs under the restricted Pod Security profile", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
    expect(main.securityContext).toEqual({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
      capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("sets requests, limits and both probes on the serving port", () => {
    // ephemeral storage: 64Mi for logs plus the 64Mi /tmp
    expect(main.resources).toEqual({
      requests: { "cpu": "100m", "memory": "128Mi", "ephemeral-storage": "128Mi" },
      limits: { "cpu": "1", "memory": "128Mi", "ephemeral-storage": "128Mi" },
    });
    expect(main.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(main.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
  });

  it("runs as its own ServiceAccount without a mounted token", () => {
    expect(pod.serviceAccountName).toBe("order");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(byKind("ServiceAccount")[0]).toMatchObject({ metadata: { name: "order" }, automountServiceAccountToken: false });
  });

  it("adds a PodDisruptionBudget, topology spread, a writable /tmp and the recommended labels", () => {
    expect(byKind("PodDisruptionBudget")[0].spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deploy.spec.selector.matchLabels } });
    expect(pod.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    expect(main.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(deploy.metadata.labels).toMatchObject({ "app.kubernetes.io/name": "order", "app.kubernetes.io/version": "1.2.3", "app.kubernetes.io/part-of": "stratum" });
    expect(deploy.spec.selector.matchLabels).not.toHaveProperty("app.kubernetes.io/version");
  });

  it.each(["ghcr.io/acme/order", "ghcr.io/acme/order:latest", "ghcr.io/acme/order:1", "ghcr.io/acme/order:stable"])(
    "refuses the floating image %s, naming the construct",
    (image) => {
      expect(() => synth({ image })).toThrow(/^test\/W: image 'ghcr\.io\/acme\/order(:\w+)?' (has no tag or digest|has the floating tag)/);
    },
  );

  it("accepts a digest", () => {
    expect(() => synth({ image: `ghcr.io/acme/order@sha256:${"a".repeat(64)}` })).not.toThrow();
  });

  it("writes a justified token relaxation into the output, and refuses an unexplained one", () => {
    const { byKind: kinds } = synth({ automountServiceAccountToken: { reason: "watches Leases for leader election" } });
    expect(kinds("Deployment")[0].metadata.annotations["stratum.dev/suppress"]).toBe("sa-token-automount: watches Leases for leader election");
    expect(() => synth({ automountServiceAccountToken: { reason: "needed" } })).toThrow(/automountServiceAccountToken.reason must explain/);
  });

  it("adds environment variables sorted, and refuses a conflicting value", () => {
    const { byKind: kinds } = synth({ env: { B: "2" } }, (w) => w.addEnv({ A: { secret: "db", key: "password" } }));
    expect(kinds("Deployment")[0].spec.template.spec.containers[0].env).toEqual([
      { name: "A", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
      { name: "B", value: "2" },
    ]);
    expect(() => synth({ env: { B: "2" } }, (w) => w.addEnv({ B: "3" }))).toThrow(/environment variable B is set twice/);
  });

  it("scales with an HPA that owns the replica count", () => {
    const { byKind: kinds } = synth({ autoscaling: { maxReplicas: 6 } });
    expect(kinds("Deployment")[0].spec.replicas).toBeUndefined();
    expect(kinds("HorizontalPodAutoscaler")[0].spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(() => synth({ autoscaling: { maxReplicas: 1 } })).toThrow("autoscaling.maxReplicas must be an integer >= replicas (2), got 1");
  });

  it("makes a StatefulSet with claims and a headless Service", () => {
    const { byKind: kinds } = synth({ kind: "StatefulSet", volumeClaims: [{ name: "data", mountPath: "/data", storage: "10Gi" }] });
    expect(kinds("StatefulSet")[0].spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("10Gi");
    expect(kinds("Service")[0].spec.clusterIP).toBe("None");
    expect(() => synth({ volumeClaims: [{ name: "data", mountPath: "/d", storage: "1Gi" }] })).toThrow("volumeClaims need kind StatefulSet");
  });

  it("reserves ephemeral storage for each container's logs, and carries the pod's emptyDirs in the main container", () => {
    const { byKind } = synth({
      volumes: [{ name: "cache", mountPath: "/cache", sizeLimit: "1Gi" }, { name: "conf", mountPath: "/conf", configMap: "order-conf" }],
      sidecars: [{ name: "exporter", image: "ghcr.io/acme/exporter:0.1.0", resources: base.resources, ports: [{ name: "exporter", port: 9121, protocol: "tcp", metrics: true }] }],
    });
    const [main, exporter] = byKind("Deployment")[0].spec.template.spec.containers;
    expect(main.resources.limits["ephemeral-storage"]).toBe("1152Mi"); // 64Mi logs + 64Mi /tmp + 1Gi cache
    expect(main.resources.requests["ephemeral-storage"]).toBe("1152Mi");
    expect(exporter.resources.limits["ephemeral-storage"]).toBe("64Mi");
    expect(() => synth({ volumes: [{ name: "cache", mountPath: "/cache", sizeLimit: "1 gig" }] })).toThrow('volumes[0].sizeLimit must be a quantity such as 64Mi or 1Gi (got "1 gig")');
  });

  it("gives a sidecar a liveness probe slower than its readiness probe", () => {
    const { byKind } = synth({
      sidecars: [{ name: "exporter", image: "ghcr.io/acme/exporter:0.1.0", resources: base.resources, ports: [{ name: "exporter", port: 9121, protocol: "tcp", metrics: true }] }],
    });
    const exporter = byKind("Deployment")[0].spec.template.spec.containers[1];
    expect(exporter.readinessProbe).toMatchObject({ tcpSocket: { port: "exporter" }, periodSeconds: 10, failureThreshold: 3 });
    expect(exporter.livenessProbe).toMatchObject({ tcpSocket: { port: "exporter" }, periodSeconds: 20, failureThreshold: 3 });
  });
});
