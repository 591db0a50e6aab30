/** A Grafana datasource a panel queries, by the uid Stratum provisions it with. */
export interface DatasourceRef {
  /** Grafana plugin id. */
  readonly type: "prometheus" | "jaeger" | "elasticsearch";
  /** Provisioned uid. */
  readonly uid: string;
}

/** The datasources Stratum provisions, with fixed uids so dashboards can name them. */
export const DATASOURCES = {
  prometheus: { type: "prometheus", uid: "prometheus" },
  jaeger: { type: "jaeger", uid: "jaeger" },
  elasticsearch: { type: "elasticsearch", uid: "elasticsearch" },
} as const satisfies Record<string, DatasourceRef>;

/** Units Grafana understands, the subset Stratum's dashboards use. */
export type Unit = "short" | "percentunit" | "s" | "ms" | "reqps" | "ops" | "bytes" | "none";

/** A PromQL query of a panel. */
export interface PromQuery {
  /** PromQL expression (no Grafana variables, so promtool can check it). */
  readonly expr: string;
  /** Legend, e.g. `{{service}}`. @default the series labels */
  readonly legend?: string;
}

/** What every panel has. */
export interface PanelBase {
  /** Title, unique in its dashboard. */
  readonly title: string;
  /** Hover text. @default none */
  readonly description?: string;
  /** Width in grid columns (1-24). @default 12 */
  readonly width?: number;
  /** Height in grid rows. @default 8 */
  readonly height?: number;
}

/** A time series graph of Prometheus queries. */
export interface TimeSeriesPanel extends PanelBase {
  readonly queries: ReadonlyArray<PromQuery>;
  /** Unit of the y axis. @default "short" */
  readonly unit?: Unit;
  /** Stack the series. @default false */
  readonly stack?: boolean;
}

/** One number from a Prometheus query, coloured by thresholds. */
export interface StatPanel extends PanelBase {
  readonly query: PromQuery;
  /** Unit. @default "short" */
  readonly unit?: Unit;
  /** Steps: the colour applies from `value` upwards; the first step starts at minus infinity. @default green */
  readonly thresholds?: ReadonlyArray<{ readonly value: number | null; readonly color: string }>;
  /** Value mappings, e.g. `{ 2: "open" }`. @default none */
  readonly mappings?: Readonly<Record<number, string>>;
}

/** Log lines from Elasticsearch (Lucene query). */
export interface LogsPanel extends PanelBase {
  readonly query: string;
}

/** Traces of a service from Jaeger. */
export interface TracesPanel extends PanelBase {
  /** The service name as traces carry it. */
  readonly service: string;
  /** Only traces slower than this, e.g. `500ms`. @default any */
  readonly minDuration?: string;
}

/** A panel of any kind, as stored. */
export type Panel =
  | { readonly kind: "timeseries"; readonly props: TimeSeriesPanel }
  | { readonly kind: "stat"; readonly props: StatPanel }
  | { readonly kind: "logs"; readonly props: LogsPanel }
  | { readonly kind: "traces"; readonly props: TracesPanel }
  | { readonly kind: "row"; readonly props: { readonly title: string } };

/** Props of a dashboard. */
export interface DashboardProps {
  /** Stable uid (lower-case, digits, dashes; at most 40): links and the ConfigMap name use it. */
  readonly uid: string;
  /** Title. */
  readonly title: string;
  /** Tags. @default ["stratum"] */
  readonly tags?: ReadonlyArray<string>;
  /** Description. @default none */
  readonly description?: string;
  /** Auto-refresh. @default "30s" */
  readonly refresh?: string;
  /** Default time range. @default the last 6 hours */
  readonly from?: string;
}

const GRID_WIDTH = 24;

/**
 * A small typed builder of Grafana dashboards: panels flow left to right in a 24-column grid, rows start new lines,
 * every query names a provisioned datasource, and `toJson()` gives the dashboard model Grafana imports.
 */
export class Dashboard {
  readonly uid: string;
  readonly title: string;
  private readonly props: DashboardProps;
  private readonly items: Panel[] = [];

  constructor(props: DashboardProps) {
    if (!/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(props.uid)) throw new Error(`dashboard ${JSON.stringify(props.title)}: uid must be lower-case letters, digits and dashes, at most 40 (got ${JSON.stringify(props.uid)})`);
    if (!props.title.trim()) throw new Error(`dashboard ${props.uid}: title must not be empty`);
    this.uid = props.uid;
    this.title = props.title;
    this.props = props;
  }

  /** Starts a new row with a title. */
  row(title: string): this {
    return this.push({ kind: "row", props: { title } });
  }

  /** Adds a time series graph. */
  timeseries(props: TimeSeriesPanel): this {
    if (props.queries.length === 0) throw new Error(`dashboard ${this.uid}: panel ${JSON.stringify(props.title)} needs at least one query`);
    return this.push({ kind: "timeseries", props });
  }

  /** Adds a single-number panel. */
  stat(props: StatPanel): this {
    return this.push({ kind: "stat", props: { width: 6, height: 4, ...props } });
  }

  /** Adds a log panel (Elasticsearch). */
  logs(props: LogsPanel): this {
    return this.push({ kind: "logs", props: { width: 24, ...props } });
  }

  /** Adds a trace search panel (Jaeger). */
  traces(props: TracesPanel): this {
    return this.push({ kind: "traces", props: { width: 24, ...props } });
  }

  /** The panels, in order. */
  get panels(): ReadonlyArray<Panel> {
    return this.items;
  }

  /** Every PromQL expression of the dashboard, with the title of its panel. */
  get promQueries(): Array<{ panel: string; expr: string }> {
    return this.items.flatMap((p) => {
      if (p.kind === "timeseries") return p.props.queries.map((q) => ({ panel: p.props.title, expr: q.expr }));
      if (p.kind === "stat") return [{ panel: p.props.title, expr: p.props.query.expr }];
      return [];
    });
  }

  private push(panel: Panel): this {
    const p = panel.props as PanelBase;
    if (panel.kind !== "row") {
      const w = p.width ?? 12;
      if (!Number.isInteger(w) || w < 1 || w > GRID_WIDTH) throw new Error(`dashboard ${this.uid}: panel ${JSON.stringify(p.title)}: width must be 1-${GRID_WIDTH} (got ${w})`);
      if (this.items.some((x) => x.kind !== "row" && x.props.title === p.title)) throw new Error(`dashboard ${this.uid}: panel title ${JSON.stringify(p.title)} is used twice`);
    }
    this.items.push(panel);
    return this;
  }

  /** The Grafana dashboard model (schema version 39). */
  toJson(): Record<string, unknown> {
    let x = 0;
    let y = 0;
    let lineHeight = 0;
    const panels: Record<string, unknown>[] = [];
    this.items.forEach((item, i) => {
      const id = i + 1;
      if (item.kind === "row") {
        if (x > 0) y += lineHeight;
        panels.push({ id, type: "row", title: item.props.title, collapsed: false, gridPos: { x: 0, y, w: GRID_WIDTH, h: 1 }, panels: [] });
        y += 1;
        x = 0;
        lineHeight = 0;
        return;
      }
      const p = item.props as PanelBase;
      const w = p.width ?? 12;
      const h = p.height ?? 8;
      if (x + w > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      const gridPos = { x, y, w, h };
      x += w;
      lineHeight = Math.max(lineHeight, h);
      panels.push({ id, gridPos, title: p.title, description: p.description, ...render(item) });
    });
    return JSON.parse(
      JSON.stringify({
        uid: this.uid,
        title: this.title,
        description: this.props.description,
        tags: [...(this.props.tags ?? ["stratum"])],
        editable: false,
        graphTooltip: 1,
        refresh: this.props.refresh ?? "30s",
        schemaVersion: 39,
        time: { from: this.props.from ?? "now-6h", to: "now" },
        timezone: "utc",
        templating: { list: [] },
        annotations: { list: [] },
        panels,
      }),
    );
  }
}

function prom(q: PromQuery, i: number) {
  return { refId: String.fromCharCode(65 + i), datasource: DATASOURCES.prometheus, expr: q.expr, legendFormat: q.legend ?? "__auto", range: true };
}

function render(item: Exclude<Panel, { kind: "row" }>): Record<string, unknown> {
  switch (item.kind) {
    case "timeseries":
      return {
        type: "timeseries",
        datasource: DATASOURCES.prometheus,
        targets: item.props.queries.map(prom),
        fieldConfig: {
          defaults: { unit: item.props.unit ?? "short", custom: { drawStyle: "line", fillOpacity: item.props.stack ? 30 : 10, stacking: { mode: item.props.stack ? "normal" : "none" } } },
          overrides: [],
        },
        options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
      };
    case "stat": {
      const steps = (item.props.thresholds ?? [{ value: null, color: "green" }]).map((s) => ({ value: s.value, color: s.color }));
      const mappings = item.props.mappings
        ? [{ type: "value", options: Object.fromEntries(Object.entries(item.props.mappings).map(([k, v], i) => [k, { text: v, index: i }])) }]
        : [];
      return {
        type: "stat",
        datasource: DATASOURCES.prometheus,
        targets: [{ ...prom(item.props.query, 0), instant: true, range: false }],
        fieldConfig: { defaults: { unit: item.props.unit ?? "short", thresholds: { mode: "absolute", steps }, mappings }, overrides: [] },
        options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "background", graphMode: "area" },
      };
    }
    case "logs":
      return {
        type: "logs",
        datasource: DATASOURCES.elasticsearch,
        targets: [{ refId: "A", datasource: DATASOURCES.elasticsearch, query: item.props.query, metrics: [{ id: "1", type: "logs" }], bucketAggs: [], timeField: "@timestamp" }],
        options: { showTime: true, wrapLogMessage: true, sortOrder: "Descending" },
      };
    case "traces":
      return {
        type: "table",
        datasource: DATASOURCES.jaeger,
        targets: [{ refId: "A", datasource: DATASOURCES.jaeger, queryType: "search", service: item.props.service, minDuration: item.props.minDuration, limit: 20 }],
      };
  }
}
