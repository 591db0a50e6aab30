import { Construct } from "constructs";
import * as inst from "../../constructs/imports/otel-instrumentation-opentelemetry.io";
import { recommendedLabels } from "../../constructs/labels";

/** Props of the Node.js auto-instrumentation. */
export interface NodeInstrumentationProps {
  /** Name of the `Instrumentation` resource. @default "nodejs" */
  readonly name?: string;
  /** Namespace it lives in; pods elsewhere reference it as `<namespace>/<name>`. */
  readonly namespace: string;
  /** OTLP/gRPC endpoint of the collector, e.g. `http://otel-collector.observability.svc.cluster.local:4317`. */
  readonly otlpGrpcEndpoint: string;
  /** Extra resource attributes on every span, e.g. `deployment.environment`. @default none */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
  /** Annotations of the custom resource (sync wave and options). @default none */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The pod annotation that asks the operator to inject Node.js auto-instrumentation. */
export const NODEJS_INJECT_ANNOTATION = "instrumentation.opentelemetry.io/inject-nodejs";

/**
 * An `Instrumentation` for Node.js: the operator injects the auto-instrumentation into pods annotated with
 * `instrumentation.opentelemetry.io/inject-nodejs: "<namespace>/<name>"`. Every span is recorded (parent-based
 * always-on): the collectors' tail sampler decides what is kept, with the whole trace in view. Spans go over OTLP/gRPC,
 * the one port every meshed workload may already reach. The injected init container gets the restricted security
 * context, so it is admitted in restricted namespaces.
 */
export class NodeInstrumentation extends Construct {
  /** The value of the injection annotation that selects this resource from any namespace. */
  readonly injectAnnotationValue: string;
  /** The custom resource. */
  readonly resource: inst.Instrumentation;

  constructor(scope: Construct, id: string, props: NodeInstrumentationProps) {
    super(scope, id);
    if (!/^https?:\/\/[^\s/]+:\d+$/.test(props.otlpGrpcEndpoint)) {
      throw new Error(`${this.node.path}: otlpGrpcEndpoint must be http(s)://host:port (got ${JSON.stringify(props.otlpGrpcEndpoint)})`);
    }
    const name = props.name ?? "nodejs";
    this.injectAnnotationValue = `${props.namespace}/${name}`;
    const attrs = props.resourceAttributes ?? {};
    this.resource = new inst.Instrumentation(this, "Resource", {
      metadata: {
        name,
        namespace: props.namespace,
        labels: recommendedLabels({ name, component: "tracing" }),
        annotations: props.annotations ? { ...props.annotations } : undefined,
      },
      spec: {
        exporter: { endpoint: props.otlpGrpcEndpoint },
        propagators: [inst.InstrumentationSpecPropagators.TRACECONTEXT, inst.InstrumentationSpecPropagators.BAGGAGE, inst.InstrumentationSpecPropagators.B3MULTI],
        sampler: { type: inst.InstrumentationSpecSamplerType.PARENTBASED_UNDERSCORE_ALWAYS_UNDERSCORE_ON },
        resource: Object.keys(attrs).length ? { resourceAttributes: { ...attrs } } : undefined,
        initContainerSecurityContext: {
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        nodejs: {
          env: [{ name: "OTEL_EXPORTER_OTLP_PROTOCOL", value: "grpc" }],
          resourceRequirements: {
            requests: { cpu: inst.InstrumentationSpecNodejsResourceRequirementsRequests.fromString("50m"), memory: inst.InstrumentationSpecNodejsResourceRequirementsRequests.fromString("64Mi") },
            limits: { cpu: inst.InstrumentationSpecNodejsResourceRequirementsLimits.fromString("500m"), memory: inst.InstrumentationSpecNodejsResourceRequirementsLimits.fromString("128Mi") },
          },
        },
      },
    });
  }
}
