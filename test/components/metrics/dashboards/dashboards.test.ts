import { Dashboard, DASHBOARD_LABEL } from "../../../../components/metrics";
import { dev } from "../../../../stacks/environments/dev";
import { prod } from "../../../../stacks/environments/prod";
import { findAll, findOne } from "../../../support/objects";
import { buildMetricsPlatform } from "../fixture";
import { run, scratch } from "../promtool";

const prodBuild = buildMetricsPlatform(prod);
const devBuild = buildMetricsPlatform(dev, { stubs: false });
const tmp = scratch("dashboards");
afterAll(() => tmp.cleanup());

describe("Dashboard builder", () => {
  it("flows panels left to right in a 24-column grid and starts rows on a new line", () => {
    const d = new Dashboard({ uid: "t", title: "T" })
      .stat({ title: "a", query: { expr: "up" } })
      .stat({ title: "b", query: { expr: "up" } })
      .timeseries({ title: "c", queries: [{ expr: "up" }], width: 18 })
      .row("R")
      .timeseries({ title: "d", queries: [{ expr: "up" }] });
    const pos = (d.toJson().panels as Array<{ title: string; gridPos: unknown }>).map((p) => [p.title, p.gridPos]);
    expect(pos).toEqual([
      ["a", { x: 0, y: 0, w: 6, h: 4 }],
      ["b", { x: 6, y: 0, w: 6, h: 4 }],
      ["c", { x: 0, y: 4, w: 18, h: 8 }],
      ["R", { x: 0, y: 12, w: 24, h: 1 }],
      ["d", { x: 0, y: 13, w: 12, h: 8 }],
    ]);
  });

  it("refuses a bad uid, a bad width and a repeated title, naming the dashboard and panel", () => {
    expect(() => new Dashboard({ uid: "Bad UID", title: "T" })).toThrow('dashboard "T": uid must be lower-case letters, digits and dashes, at most 40 (got "Bad UID")');
    const d = new Dashboard({ uid: "t", title: "T" });
    expect(() => d.timeseries({ title: "x", queries: [{ expr: "up" }], width: 30 })).toThrow('dashboard t: panel "x": width must be 1-24 (got 30)');
    d.stat({ title: "y", query: { expr: "up" } });
    expect(() => d.stat({ title: "y", query: { expr: "up" } })).toThrow('dashboard t: panel title "y" is used twice');
  });
});

describe("platform dashboards", () => {
  const uids = (b: typeof prodBuild) => b.metrics.dashboards.map((d) => d.uid);

  it("has an overview, RED per service, and a dashboard for each component present", () => {
    expect(uids(prodBuild)).toEqual([
      "stratum-overview",
      "stratum-red-order",
      "stratum-red-payment",
      "stratum-red-catalog",
      "stratum-red-customer",
      "stratum-gateway",
      "stratum-postgres",
      "stratum-redis",
      "stratum-elasticsearch",
      "stratum-events",
      "stratum-tasks",
    ]);
    expect(uids(devBuild)).toEqual(["stratum-overview", "stratum-red-order", "stratum-red-payment", "stratum-red-catalog", "stratum-red-customer"]);
  });

  it("every PromQL expression of every dashboard parses (`promtool check rules`)", () => {
    // one recording rule per expression, each under its own name (promtool rejects duplicate rules)
    let n = 0;
    const groups = prodBuild.metrics.dashboards.map((d) => ({
      name: `dashboard.${d.uid}`,
      rules: d.promQueries.map((q) => ({ record: `stratum_dashboard_check_${n++}`, expr: q.expr })),
    }));
    expect(groups.flatMap((g) => g.rules).length).toBeGreaterThan(80);
    const r = run("promtool", ["check", "rules", tmp.write("dashboards.yaml", { groups })]);
    if (r.code !== 0) throw new Error(r.output);
    expect(r.output).toMatch(/SUCCESS/);
  });

  it("every panel and query names a datasource that Grafana is provisioned with", () => {
    for (const build of [prodBuild, devBuild]) {
      const app = findOne(build.objects, "Application", "grafana");
      const provisioned = app.spec.source.helm.valuesObject.datasources["datasources.yaml"].datasources.map((d: { uid: string; type: string }) => `${d.type}/${d.uid}`);
      for (const cm of findAll(build.objects, "ConfigMap").filter((c) => c.metadata.labels?.[DASHBOARD_LABEL.key] === DASHBOARD_LABEL.value) as any[]) {
        const json = JSON.parse(Object.values(cm.data as Record<string, string>)[0]);
        for (const panel of json.panels.filter((p: { type: string }) => p.type !== "row")) {
          for (const ds of [panel.datasource, ...panel.targets.map((t: { datasource: unknown }) => t.datasource)]) {
            expect(provisioned).toContain(`${ds.type}/${ds.uid}`);
          }
        }
      }
    }
  });

  it("provisions each dashboard as a ConfigMap the Grafana sidecar loads", () => {
    const cms = findAll(prodBuild.objects, "ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard === "1");
    expect(cms).toHaveLength(prodBuild.metrics.dashboards.length);
    const cm = findOne(prodBuild.objects, "ConfigMap", "grafana-dashboard-stratum-red-order", "monitoring");
    expect(JSON.parse(cm.data["stratum-red-order.json"])).toEqual(prodBuild.metrics.dashboards[1].toJson());
    const values = findOne(prodBuild.objects, "Application", "grafana").spec.source.helm.valuesObject;
    expect(values.sidecar.dashboards).toMatchObject({ enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "monitoring" });
  });

  it("installs Grafana pinned, with admin credentials and Elasticsearch credentials by Secret reference", () => {
    const app = findOne(prodBuild.objects, "Application", "grafana");
    expect(app.spec.source).toMatchObject({ chart: "grafana", targetRevision: "8.5.1" });
    const v = app.spec.source.helm.valuesObject;
    expect(v.image.tag).toBe("11.2.0");
    expect(v.admin).toEqual({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
    expect(v.datasources["datasources.yaml"].datasources.map((d: { name: string }) => d.name)).toEqual(["Prometheus", "Jaeger", "Elasticsearch"]);
    expect(v.envValueFrom.ES_PASSWORD).toEqual({ secretKeyRef: { name: "grafana-elasticsearch", key: "password" } });
    const es = v.datasources["datasources.yaml"].datasources[2];
    expect(es.url).toBe("https://elasticsearch.logging.svc.cluster.local:9200");
    expect(es.secureJsonData.basicAuthPassword).toBe("$__env{ES_PASSWORD}");
    const dsDev = findOne(devBuild.objects, "Application", "grafana").spec.source.helm.valuesObject.datasources["datasources.yaml"].datasources;
    expect(dsDev.map((d: { name: string }) => d.name)).toEqual(["Prometheus"]);
  });

  it("reads logs as an Elasticsearch user that the Elasticsearch component creates, trusting its CA by reference", () => {
    const build = buildMetricsPlatform(prod, { elasticsearch: true });
    const v = findOne(build.objects, "Application", "grafana").spec.source.helm.valuesObject;
    const es = v.datasources["datasources.yaml"].datasources.find((d: { uid: string }) => d.uid === "elasticsearch");
    expect(es.url).toBe("https://elasticsearch-es-http.elasticsearch.svc.cluster.local:9200");
    expect(v.envValueFrom.ES_USERNAME).toEqual({ secretKeyRef: { name: "grafana-elasticsearch", key: "username" } });
    expect(v.extraSecretMounts).toEqual([{ name: "elasticsearch-ca", secretName: "elasticsearch-ca", mountPath: "/etc/grafana/elasticsearch", readOnly: true }]);
    const secrets = build.platform.secrets.all.filter((x) => x.namespace === "monitoring").map((x) => x.name);
    expect(secrets).toEqual(expect.arrayContaining(["grafana-elasticsearch", "elasticsearch-ca"]));
  });

  it("lets Grafana reach exactly Prometheus, Jaeger's query port, Elasticsearch's HTTP port and the API server", () => {
    const out = prodBuild.platform.graph.outgoing("grafana").map((e) => `${e.to}:${e.ports.join(",")}`);
    expect(out.sort()).toEqual(["elasticsearch:https", "jaeger:http-query", "kube-apiserver:https", "prometheus:http-web"]);
  });
});
