import { Testing } from "cdk8s";
import { CollectorConfig, collectorConfigProblems } from "../../../components/tracing/collector-config";
import { goMemLimit, OtelCollector } from "../../../components/tracing/collector";
import { gatewayConfig, samplerConfig } from "../../../components/tracing/tracing";

const base: CollectorConfig = {
  receivers: { otlp: { protocols: { grpc: {} } } },
  processors: { memory_limiter: {}, batch: {} },
  exporters: { "otlp_grpc/jaeger": { endpoint: "jaeger:4317" } },
  extensions: { health_check: {} },
  service: { extensions: ["health_check"], pipelines: { traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp_grpc/jaeger"] } } },
};
const withPipeline = (p: Partial<CollectorConfig["service"]["pipelines"]["traces"]>): CollectorConfig => ({
  ...base,
  service: { ...base.service, pipelines: { traces: { ...base.service.pipelines.traces, ...p } } },
});

describe("collectorConfigProblems", () => {
  it("accepts a pipeline whose every id is defined and used", () => {
    expect(collectorConfigProblems(base)).toEqual([]);
  });

  it("accepts the gateway and sampler configurations the component emits", () => {
    expect(collectorConfigProblems(gatewayConfig({ samplerHeadlessHost: "s.ns.svc.cluster.local" }))).toEqual([]);
    expect(collectorConfigProblems(samplerConfig({ samplingPercentage: 10, slowTraceThresholdMs: 1000, jaegerOtlpEndpoint: "jaeger:4317" }))).toEqual([]);
  });

  it("names a processor the pipeline references but nobody defined", () => {
    expect(collectorConfigProblems(withPipeline({ processors: ["memory_limiter", "tail_sampling", "batch"] }))).toEqual([
      "service.pipelines.traces.processors: 'tail_sampling' is not defined in processors (defined: batch, memory_limiter)",
    ]);
  });

  it("names an exporter that is referenced but missing, and the one left unused", () => {
    expect(collectorConfigProblems(withPipeline({ exporters: ["otlp_grpc"] }))).toEqual([
      "service.pipelines.traces.exporters: 'otlp_grpc' is not defined in exporters or connectors (defined: otlp_grpc/jaeger)",
      "exporters: 'otlp_grpc/jaeger' is defined but no pipeline uses it",
    ]);
  });

  it("requires the memory limiter to come first", () => {
    expect(collectorConfigProblems(withPipeline({ processors: ["batch", "memory_limiter"] }))).toEqual([
      "service.pipelines.traces.processors: memory_limiter must come first (found at position 2)",
    ]);
  });

  it("checks pipeline names, receivers, duplicates and extensions", () => {
    const bad: CollectorConfig = {
      ...base,
      extensions: { health_check: {}, pprof: {} },
      service: { extensions: ["health_check", "zpages"], pipelines: { spans: { receivers: [], processors: ["batch", "batch"], exporters: ["otlp_grpc/jaeger"] } } },
    };
    expect(collectorConfigProblems(bad)).toEqual([
      "service.pipelines.spans: the name must be <signal> or <signal>/<name> with signal one of traces, metrics, logs",
      "service.pipelines.spans.receivers: at least one receiver is needed",
      "service.pipelines.spans.processors: 'batch' is listed twice",
      "service.extensions: 'zpages' is not defined in extensions (defined: health_check, pprof)",
      "extensions: 'pprof' is defined but not enabled in service.extensions",
      "receivers: 'otlp' is defined but no pipeline uses it",
      "processors: 'memory_limiter' is defined but no pipeline uses it",
    ]);
  });

  it("treats a connector as both an exporter and a receiver", () => {
    const config: CollectorConfig = {
      ...base,
      connectors: { spanmetrics: {} },
      exporters: { ...base.exporters, prometheus: {} },
      service: {
        ...base.service,
        pipelines: {
          traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp_grpc/jaeger", "spanmetrics"] },
          metrics: { receivers: ["spanmetrics"], exporters: ["prometheus"] },
        },
      },
    };
    expect(collectorConfigProblems(config)).toEqual([]);
  });

  it("stops the collector construct before it emits a broken configuration, naming its path", () => {
    expect(
      () =>
        new OtelCollector(Testing.chart(), "Broken", {
          name: "x",
          namespace: "observability",
          replicas: 1,
          resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
          ports: [],
          config: withPipeline({ exporters: ["debug"] }),
        }),
    ).toThrow("test/Broken: service.pipelines.traces.exporters: 'debug' is not defined in exporters or connectors (defined: otlp_grpc/jaeger); exporters: 'otlp_grpc/jaeger' is defined but no pipeline uses it");
  });
});

describe("goMemLimit", () => {
  it("is 80% of the memory limit in MiB", () => {
    expect(goMemLimit("1Gi")).toBe("819MiB");
    expect(goMemLimit("256Mi")).toBe("204MiB");
    expect(goMemLimit("1G")).toBe("762MiB");
  });

  it("refuses what is not a memory quantity", () => {
    expect(() => goMemLimit("lots")).toThrow('memory limit "lots" is not a quantity such as 512Mi');
  });
});
