import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { SecretKeyRef } from "../../constructs/secret-ref";
import type { Resources } from "../../stacks/environments/environment";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { BusinessService } from "../services/business-service";
import { ALERTMANAGER_MESH_PORT, StratumAlertmanager } from "./alertmanager";
import { platformDashboards } from "./dashboards/catalog";
import { Dashboard } from "./dashboards/dashboard";
import { ElasticsearchSource, Grafana } from "./dashboards/grafana";
import { ElasticsearchComponent } from "../elasticsearch";
import { MeshComponent } from "../mesh";
import { ElasticsearchExporter } from "./elasticsearch-exporter";
import { GraphMonitors, KubeletMonitor, MESH_CERT_DIR, planScrape, ScrapePlan, servicesIn } from "./monitors";
import { KUBE_PROMETHEUS_STACK_CHART, OPERATOR_FULLNAME, operatorPodSelector, operatorValues } from "./operator";
import { StratumPrometheus } from "./prometheus";
import { RuleGroup } from "./rules/alert-rule";
import { componentAlertGroups } from "./rules/component-alerts";
import { GoldenSignalThresholds, goldenSignalRules, MonitoredService } from "./rules/golden-signals";
import { AlertRuleSet } from "./rules/prometheus-rule";
import { SloTarget, sloRules } from "./rules/slo";
import { AlertRoutingModel, buildAlertRouting, TeamContact } from "./routing/alert-routing";
import { chartPods } from "../../constructs/chart-pods";

/** Graph node ids of the metrics component (agreed across components). */
export const METRICS_NODES = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  alertmanagerPeers: "alertmanager-peers",
  operator: "prometheus-operator",
  kubelet: "kubelet",
  receivers: "alert-receivers",
  apiServer: "kube-apiserver",
  grafana: "grafana",
  elasticsearchExporter: "elasticsearch-exporter",
  jaeger: "jaeger",
  elasticsearch: "elasticsearch",
} as const;

/** SMTP relay settings (the password comes from the notifiers Secret). */
export interface SmtpRelay {
  /** `host:port`. @default the SES SMTP endpoint of the environment's region, port 587 */
  readonly smarthost?: string;
  /** Sender. @default `alertmanager@<clusterDomain>` */
  readonly from?: string;
  /** User name. @default "alertmanager" */
  readonly username?: string;
}

/** Props of the metrics component. */
export interface MetricsComponentProps {
  /** Namespace of the operator, Prometheus, Alertmanager, monitors and rules. @default "monitoring" */
  readonly namespace?: string;
  /** Base URL of the runbooks every alert links to. @default "https://runbooks.stratum.dev" */
  readonly runbookBaseUrl?: string;
  /**
   * Where each team's alerts go. Teams of business services that are not listed get `#<team>-alerts`,
   * `<team>-oncall@<clusterDomain>` and PagerDuty paging. @default only derived teams, plus `platform`
   */
  readonly teams?: Readonly<Record<string, Partial<TeamContact>>>;
  /** SMTP relay for e-mail receivers. @default SES in the environment's region */
  readonly smtp?: SmtpRelay;
  /** Golden-signal thresholds of every service (per-service values through `setGoldenSignals`). @default 5% errors, 1 s p99, 90% saturation */
  readonly goldenSignals?: GoldenSignalThresholds;
  /** SLO of every service (per-service values through `setSlo`). @default 99.9% availability, 99% within 0.5 s */
  readonly slo?: SloTarget;
  /** Requests and limits of the operator. @default 100m/128Mi requests, 500m/256Mi limits */
  readonly operatorResources?: Resources;
  /** Scrape and evaluation interval. @default "30s" */
  readonly scrapeInterval?: string;
  /** Index pattern of the logs Grafana's Elasticsearch datasource reads. @default "logs-*" */
  readonly logIndexPattern?: string;
}

const MONITOR_LABEL = "stratum.dev/monitoring";

/**
 * Metrics and alerting (L3): prometheus-operator (HelmAddon), Stratum's Prometheus and Alertmanager, a ServiceMonitor or
 * PodMonitor for every graph node with a metrics port (and the NetworkPolicy edges to scrape it), typed alert rules
 * (golden signals and SLO burn rates per business service, component alerts for the components present),
 * Alertmanager routing by team and severity, and Grafana with provisioned datasources and dashboards as code.
 */
export class MetricsComponent extends PlatformComponent {
  /** Namespace of the metrics stack. */
  readonly namespace: string;
  /** The operator add-on. */
  readonly operator: HelmAddon;
  /** Stratum's Prometheus. */
  readonly prometheus: StratumPrometheus;
  /** Stratum's Alertmanager. */
  readonly alertmanager: StratumAlertmanager;
  /** Labels that make Prometheus read a ServiceMonitor, PodMonitor or PrometheusRule (in `namespace`). */
  readonly monitorSelector: Readonly<Record<string, string>>;
  /** Base URL of the runbooks. */
  readonly runbookBaseUrl: string;
  private readonly props: MetricsComponentProps;
  private readonly slos = new Map<string, SloTarget>();
  private readonly thresholds = new Map<string, GoldenSignalThresholds>();
  private readonly customGroups: RuleGroup[] = [];
  private readonly views: Array<{ nodeId: string; port: { readonly name: string; readonly port: number } }> = [{ nodeId: "argocd-controller", port: { name: "http-metrics", port: 8082 } }];
  private readonly grafanaAdmin: Record<string, SecretKeyRef>;
  private readonly esClient?: { url: string; username: SecretKeyRef; password: SecretKeyRef; ca: SecretKeyRef };
  private connected?: { ruleSets: AlertRuleSet[]; routing: AlertRoutingModel; services: MonitoredService[]; grafana: Grafana; dashboards: Dashboard[] };
  private derived?: { plans: ScrapePlan[]; ruleSets: AlertRuleSet[]; routing: AlertRoutingModel; services: MonitoredService[]; grafana: Grafana; dashboards: Dashboard[] };

  constructor(scope: Construct, id: string, context: PlatformContext, props: MetricsComponentProps = {}) {
    super(scope, id, context, { name: "metrics", syncWave: SyncWave.CUSTOM_RESOURCES });
    const env = context.environment;
    const sizing = env.sizing.metrics;
    this.props = props;
    this.namespace = context.ensureNamespace({ name: props.namespace ?? "monitoring", component: "metrics" });
    this.runbookBaseUrl = props.runbookBaseUrl ?? "https://runbooks.stratum.dev";
    if (!/^https:\/\/\S+$/.test(this.runbookBaseUrl)) throw new Error(`${this.node.path}: runbookBaseUrl must be an https:// URL (got ${JSON.stringify(this.runbookBaseUrl)})`);
    this.monitorSelector = { [MONITOR_LABEL]: "stratum" };
    const spread = { node: env.ha.nodeSpread, zone: env.ha.zoneSpread };

    const operatorRelease = "prometheus-operator";
    this.operator = new HelmAddon(this, "Operator", {
      release: operatorRelease,
      ...KUBE_PROMETHEUS_STACK_CHART,
      namespace: this.namespace,
      values: operatorValues(props.operatorResources ?? { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } }),
      syncWave: SyncWave.OPERATORS,
      project: context.gitopsProject,
    });

    const notifiers = context.secrets.require({
      namespace: this.namespace,
      name: "alertmanager-notifiers",
      keys: ["slack-webhook-url", "smtp-password"],
      remoteKey: `stratum/${env.name}/alertmanager/notifiers`,
      description: "Slack incoming-webhook URL and SMTP relay password that Alertmanager notifies with.",
    });
    const smtp = props.smtp ?? {};
    this.alertmanager = new StratumAlertmanager(this, "Alertmanager", {
      name: "stratum",
      namespace: this.namespace,
      sizing: sizing.alertmanager,
      spread,
      externalUrl: `https://alertmanager.${env.clusterDomain}`,
      global: {
        resolveTimeout: "5m",
        slackApiUrl: notifiers["slack-webhook-url"],
        smtp: {
          smarthost: smtp.smarthost ?? `email-smtp.${env.cloud.region}.amazonaws.com:587`,
          from: smtp.from ?? `alertmanager@${env.clusterDomain}`,
          username: smtp.username ?? "alertmanager",
          password: notifiers["smtp-password"],
        },
      },
    });
    this.prometheus = new StratumPrometheus(this, "Prometheus", {
      name: "stratum",
      namespace: this.namespace,
      sizing: sizing.prometheus,
      spread,
      selectorLabels: this.monitorSelector,
      externalLabels: { cluster: env.name },
      alertmanager: { service: this.alertmanager.serviceName, port: this.alertmanager.portName },
      interval: props.scrapeInterval,
    });
    this.grafanaAdmin = context.secrets.require({
      namespace: this.namespace,
      name: "grafana-admin",
      keys: ["admin-user", "admin-password"],
      remoteKey: `stratum/${env.name}/grafana/admin`,
      description: "Grafana's admin user and password.",
    });
    // Elasticsearch hands out users only while components are added: Grafana's reader is asked for now
    const es = context.find(ElasticsearchComponent);
    if (es) {
      const creds = es.target.credentials({ namespace: this.namespace, name: "grafana-elasticsearch" });
      this.esClient = { url: `https://${es.target.host}:${es.target.port}`, username: creds.username, password: creds.password, ca: es.target.caCertificate(this.namespace) };
      const reader = es.target.credentials({ namespace: this.namespace, name: "elasticsearch-exporter" });
      const exporter = new ElasticsearchExporter(this, "ElasticsearchExporter", {
        namespace: this.namespace,
        url: this.esClient.url,
        username: reader.username,
        password: reader.password,
        ca: this.esClient.ca,
        spread,
      });
      context.graph.addNode(exporter.graphNode(METRICS_NODES.elasticsearchExporter, this));
      context.graph.connect(METRICS_NODES.elasticsearchExporter, es.target.graphNode);
    }
    new KubeletMonitor(this, "Kubelet", { namespace: this.namespace, selectorLabels: this.monitorSelector, kubeletServiceNamespace: "kube-system" });

    this.declareGraph(operatorRelease);
    // connect late: deferring from inside a finalizer runs after every finalizer registered so far, so nodes other
    // components add in their own finalizers are scraped too; monitors are derived from the finished platform
    context.onFinalize(() => this.connect(), "observe");
    context.onFinalize(() => this.derive(), "derive");
  }

  /** Sets the SLO of one business service (before synthesis). */
  setSlo(service: string, target: SloTarget): this {
    this.slos.set(service, target);
    return this;
  }

  /** Sets the golden-signal thresholds of one business service (before synthesis). */
  setGoldenSignals(service: string, thresholds: GoldenSignalThresholds): this {
    this.thresholds.set(service, thresholds);
    return this;
  }

  /**
   * Scrapes a port of another node's pods that its owner does not declare as a metrics port (Argo CD's application
   * controller serves `argocd_app_info` on 8082): a metrics-only graph node on the same pods, so the NetworkPolicy
   * edge follows. Applied when the node exists at finalize.
   */
  scrapeAlso(nodeId: string, port: { readonly name: string; readonly port: number }): this {
    this.views.push({ nodeId, port });
    return this;
  }

  /** Adds a group of custom rules (validated with the rest). */
  addAlerts(group: RuleGroup): this {
    this.customGroups.push(group);
    return this;
  }

  /** How each scraped node is scraped (after finalize). */
  get scrapePlans(): ReadonlyArray<ScrapePlan> {
    return this.requireDerived().plans;
  }

  /** The rule sets (after finalize). */
  get ruleSets(): ReadonlyArray<AlertRuleSet> {
    return this.requireDerived().ruleSets;
  }

  /** The Alertmanager configuration as data (after finalize). */
  get routing(): AlertRoutingModel {
    return this.requireDerived().routing;
  }

  /** Grafana (after finalize). */
  get grafana(): Grafana {
    return this.requireDerived().grafana;
  }

  /** The dashboards (after finalize). */
  get dashboards(): ReadonlyArray<Dashboard> {
    return this.requireDerived().dashboards;
  }

  private requireDerived() {
    if (!this.derived) throw new Error(`${this.node.path}: available once the platform is finalized`);
    return this.derived;
  }

  private declareGraph(operatorRelease: string): void {
    const graph = this.context.graph;
    const env = this.context.environment;
    const ns = this.namespace;
    graph.addNode({
      id: METRICS_NODES.prometheus,
      kind: "component",
      namespace: ns,
      serviceAccount: this.prometheus.serviceAccountName,
      selector: this.prometheus.podSelector,
      ports: [{ name: "http-web", port: this.prometheus.port, protocol: "http" }],
      host: `${this.prometheus.serviceName}.${ns}.svc.cluster.local`,
      scope: this,
    });
    graph.addNode({
      id: METRICS_NODES.alertmanager,
      kind: "component",
      namespace: ns,
      serviceAccount: this.alertmanager.serviceAccountName,
      selector: this.alertmanager.podSelector,
      ports: [{ name: this.alertmanager.portName, port: this.alertmanager.port, protocol: "http" }],
      host: `${this.alertmanager.serviceName}.${ns}.svc.cluster.local`,
      scope: this,
    });
    graph.addNode({
      id: METRICS_NODES.operator,
      kind: "component",
      namespace: ns,
      serviceAccount: `${OPERATOR_FULLNAME}-operator`,
      selector: operatorPodSelector(operatorRelease),
      ports: [{ name: "http", port: 8080, protocol: "http", metrics: true }],
      scope: this,
    });
    graph.addNode({
      id: METRICS_NODES.kubelet,
      kind: "external",
      cidrs: [env.network.vpcCidr],
      ports: [{ name: "https-metrics", port: 10250, protocol: "tls" }],
    });
    graph.addNode({
      id: METRICS_NODES.receivers,
      kind: "external",
      cidrs: ["0.0.0.0/0"],
      exceptCidrs: [env.network.vpcCidr],
      ports: [
        { name: "https", port: 443, protocol: "tls" },
        { name: "smtp", port: 587, protocol: "tcp" },
      ],
    });
    graph.addNode(chartPods({
      id: METRICS_NODES.grafana, namespace: ns, name: "grafana", instance: "grafana", serviceAccount: "grafana",
      ports: [{ name: "http-web", port: 80, targetPort: 3000, protocol: "http" }],
      host: `grafana.${ns}.svc.cluster.local`,
      scope: this,
    }));
    graph.connect(METRICS_NODES.grafana, METRICS_NODES.prometheus, ["http-web"]);
    // the dashboard sidecar watches ConfigMaps
    graph.connect(METRICS_NODES.grafana, METRICS_NODES.apiServer);
    graph.connect(METRICS_NODES.prometheus, METRICS_NODES.alertmanager, [this.alertmanager.portName]);
    graph.connect(METRICS_NODES.prometheus, METRICS_NODES.kubelet, ["https-metrics"]);
    graph.connect(METRICS_NODES.prometheus, METRICS_NODES.apiServer);
    graph.connect(METRICS_NODES.operator, METRICS_NODES.apiServer);
    graph.connect(METRICS_NODES.alertmanager, METRICS_NODES.receivers);
    if (this.alertmanager.highlyAvailable) {
      // the replicas gossip with each other; a node cannot consume itself, so the peers are a second node on the same pods
      graph.addNode({
        id: METRICS_NODES.alertmanagerPeers,
        kind: "component",
        namespace: ns,
        serviceAccount: this.alertmanager.serviceAccountName,
        selector: this.alertmanager.podSelector,
        ports: [
          { name: "tcp-mesh", port: ALERTMANAGER_MESH_PORT, protocol: "tcp" },
          { name: "udp-mesh", port: ALERTMANAGER_MESH_PORT, protocol: "tcp", transport: "UDP" },
        ],
        scope: this,
      });
      graph.connect(METRICS_NODES.alertmanager, METRICS_NODES.alertmanagerPeers);
    }
  }

  private businessServices(): BusinessService[] {
    return this.node.root.node.findAll().filter((c): c is BusinessService => c instanceof BusinessService);
  }

  /** Scrape edges, rules, routing and Grafana: everything that adds graph edges or secret requirements. */
  private connect(): void {
    const graph = this.context.graph;
    const env = this.context.environment;
    const business = this.businessServices();
    for (const v of this.views) {
      if (!graph.has(v.nodeId)) continue;
      const of = graph.node(v.nodeId);
      if (of.kind === "external" || of.ports.some((p) => p.metrics && (p.targetPort ?? p.port) === v.port.port)) continue;
      graph.addNode({ id: `${of.id}-metrics`, kind: "component", namespace: of.namespace, serviceAccount: of.serviceAccount, selector: of.selector, ports: [{ ...v.port, protocol: "http", metrics: true }], scope: this });
    }
    const scraped = graph.nodes.filter((n) => n.kind !== "external" && n.id !== METRICS_NODES.prometheus && n.ports.some((p) => p.metrics));
    for (const node of scraped) graph.connect(METRICS_NODES.prometheus, node.id, node.ports.filter((p) => p.metrics).map((p) => p.name));

    const monitored: MonitoredService[] = business
      .filter((b) => scraped.some((n) => n.id === b.name))
      .map((b) => ({ name: b.name, namespace: b.graphNode.namespace!, container: b.workload.name, team: b.team }));
    const common = { namespace: this.namespace, selectorLabels: this.monitorSelector, runbookBaseUrl: this.runbookBaseUrl };
    const ruleSets: AlertRuleSet[] = [];
    const scrapeGroup: RuleGroup = {
      name: "platform.scrape",
      rules: [
        {
          alert: "ScrapeTargetDown",
          expr: "max by (namespace, service, team) (1 - up) == 1",
          for: "5m",
          severity: "warning",
          summary: "Prometheus cannot scrape {{ $labels.service }} in {{ $labels.namespace }}",
          description: "Every target of {{ $labels.service }} failed to answer on its metrics port for 5 minutes: it is down, or its metrics are blind.",
          runbook: "platform/scrape-target-down",
        },
        {
          alert: "AlertmanagerNotificationsFailing",
          expr: "sum by (integration) (rate(alertmanager_notifications_failed_total[5m])) > 0",
          for: "10m",
          severity: "critical",
          summary: "Alertmanager cannot deliver notifications through {{ $labels.integration }}",
          description: "{{ $value | humanize }} notifications per second fail through {{ $labels.integration }}: alerts may not reach anyone. Check the receiver's credentials and the egress to it.",
          runbook: "platform/alertmanager-notifications-failing",
        },
      ],
    };
    ruleSets.push(new AlertRuleSet(this, "PlatformRules", { ...common, name: "stratum-platform", groups: [scrapeGroup, ...componentAlertGroups((id) => graph.has(id))] }));
    if (monitored.length) {
      ruleSets.push(
        new AlertRuleSet(this, "GoldenSignals", {
          ...common,
          name: "stratum-golden-signals",
          groups: monitored.map((s) => goldenSignalRules(s, { ...this.props.goldenSignals, ...this.thresholds.get(s.name) })),
        }),
      );
      ruleSets.push(
        new AlertRuleSet(this, "Slo", { ...common, name: "stratum-slo", groups: monitored.map((s) => sloRules(s, { ...this.props.slo, ...this.slos.get(s.name) })) }),
      );
    }
    for (const name of [...this.slos.keys(), ...this.thresholds.keys()]) {
      if (!monitored.some((s) => s.name === name)) throw new Error(`${this.node.path}: an SLO or thresholds are set for '${name}', which is not a monitored business service; known: ${monitored.map((s) => s.name).join(", ")}`);
    }
    if (this.customGroups.length) ruleSets.push(new AlertRuleSet(this, "CustomRules", { ...common, name: "stratum-custom", groups: this.customGroups }));

    const teams = this.teams(business, env.clusterDomain);
    const paging = Object.keys(teams).filter((t) => teams[t].pagerduty).sort();
    const keys = paging.length
      ? this.context.secrets.require({
          namespace: this.namespace,
          name: "alertmanager-pagerduty",
          keys: paging.map((t) => `routing-key-${t}`),
          remoteKey: `stratum/${env.name}/alertmanager/pagerduty`,
          description: "PagerDuty Events v2 routing key of each team that is paged for critical alerts.",
        })
      : {};
    const routing = buildAlertRouting({
      teams,
      smtp: this.alertmanager.global.smtp,
      slackWebhook: this.alertmanager.global.slackApiUrl,
      pagerdutyKeys: Object.fromEntries(paging.map((t) => [t, keys[`routing-key-${t}`]])),
    });
    this.alertmanager.configure(routing);

    const dashboards = platformDashboards({ services: monitored, has: (id) => graph.has(id) });
    const grafana = new Grafana(this, "Grafana", {
      namespace: this.namespace,
      sizing: env.sizing.metrics.grafana,
      project: this.context.gitopsProject,
      syncWave: SyncWave.WORKLOADS,
      rootUrl: `https://grafana.${env.clusterDomain}`,
      admin: { user: this.grafanaAdmin["admin-user"], password: this.grafanaAdmin["admin-password"] },
      prometheusUrl: this.prometheus.url,
      jaegerUrl: this.jaegerUrl(),
      elasticsearch: this.elasticsearchSource(),
      dashboards,
    });
    this.connected = { ruleSets, routing, services: monitored, grafana, dashboards };
  }

  /**
   * The monitors, from the finished platform: one ServiceMonitor per scraped node, with the mesh's mTLS when both
   * Prometheus and the node run sidecars (then Prometheus joins the mesh to hold a workload certificate).
   */
  private derive(): void {
    const graph = this.context.graph;
    const connected = this.connected;
    if (!connected) throw new Error(`${this.node.path}: derive before connect`);
    const teamOfNode = new Map(this.businessServices().map((b) => [b.name, b.team]));
    const services = servicesIn(this.node.root);
    const plans = graph.nodes
      .filter((n) => n.id !== METRICS_NODES.prometheus)
      .map((n) => planScrape(n, services))
      .filter((p): p is ScrapePlan => p !== undefined);
    // Alertmanager serves its own metrics on the web port Prometheus already sends alerts to
    const am = graph.node(METRICS_NODES.alertmanager);
    const amService = services.find((x) => x.namespace === this.namespace && x.name === this.alertmanager.serviceName);
    if (amService) {
      const match = Object.fromEntries(Object.entries(amService.labels).filter(([k]) => k !== "app.kubernetes.io/version"));
      plans.push({ kind: "existing", node: am, ports: am.ports.filter((p) => p.name === this.alertmanager.portName), service: amService, match });
    }
    const meshed = new Set(this.context.find(MeshComponent)?.meshedNamespaces ?? []);
    const prometheusMeshed = meshed.has(this.namespace);
    if (prometheusMeshed) this.prometheus.joinMesh(MESH_CERT_DIR);
    new GraphMonitors(this, "Monitors", {
      namespace: this.namespace,
      selectorLabels: this.monitorSelector,
      plans,
      teamOf: (id) => teamOfNode.get(id) ?? (graph.node(id).kind === "component" ? "platform" : undefined),
      meshTls: (node) => prometheusMeshed && meshed.has(node.namespace ?? ""),
      interval: this.props.scrapeInterval,
    });
    this.derived = { ...connected, plans };
  }

  /** Jaeger's query API, when the platform traces: the graph node's host on its query port (and the edge to it). */
  private jaegerUrl(): string | undefined {
    const graph = this.context.graph;
    if (!graph.has(METRICS_NODES.jaeger)) return undefined;
    const node = graph.node(METRICS_NODES.jaeger);
    const port = node.ports.find((p) => /query/.test(p.name)) ?? node.ports.find((p) => p.port === 16686);
    if (!port || !node.host) return undefined;
    graph.connect(METRICS_NODES.grafana, node.id, [port.name]);
    return `http://${node.host}:${port.port}`;
  }

  /** Elasticsearch for log panels, when the platform has it: its HTTP port, and read credentials by reference. */
  private elasticsearchSource(): ElasticsearchSource | undefined {
    const graph = this.context.graph;
    if (!graph.has(METRICS_NODES.elasticsearch)) return undefined;
    const node = graph.node(METRICS_NODES.elasticsearch);
    const port = node.ports.find((p) => !p.metrics && (p.protocol === "tls" || p.protocol === "http"));
    if (!port) return undefined;
    graph.connect(METRICS_NODES.grafana, node.id, [port.name]);
    const index = this.props.logIndexPattern ?? "logs-*";
    if (this.esClient) return { ...this.esClient, index };
    // an Elasticsearch node without the Stratum component: Grafana's reader comes from the secret store
    const secret = this.context.secrets.require({
      namespace: this.namespace,
      name: "grafana-elasticsearch",
      keys: ["username", "password", "ca.crt"],
      remoteKey: `stratum/${this.context.environment.name}/grafana/elasticsearch`,
      description: "Read-only Elasticsearch user of Grafana's log panels, and the cluster's HTTP CA certificate.",
    });
    const host = node.host ?? `${node.id}.${node.namespace}.svc.cluster.local`;
    return { url: `${port.protocol === "tls" ? "https" : "http"}://${host}:${port.port}`, index, username: secret.username, password: secret.password, ca: secret["ca.crt"] };
  }

  private teams(business: ReadonlyArray<BusinessService>, domain: string): Record<string, TeamContact> {
    const names = new Set<string>(["platform", ...business.map((b) => b.team), ...Object.keys(this.props.teams ?? {})]);
    const out: Record<string, TeamContact> = {};
    for (const t of [...names].sort()) {
      const given = this.props.teams?.[t] ?? {};
      out[t] = { slackChannel: given.slackChannel ?? `#${t}-alerts`, email: given.email ?? `${t}-oncall@${domain}`, pagerduty: given.pagerduty ?? true };
    }
    return out;
  }
}
