import { Construct } from "constructs";
import { GraphNodeProps, ServicePort } from "./service-graph";

/** Props of the graph node of pods a Helm chart runs (selected by the chart's own labels). */
export interface ChartPodsProps {
  /** Graph id. */
  readonly id: string;
  /** Namespace of the release. */
  readonly namespace: string;
  /** The chart's `app.kubernetes.io/name` of these pods. */
  readonly name: string;
  /** Helm release name (`app.kubernetes.io/instance`). */
  readonly instance: string;
  /** ServiceAccount the chart gives these pods. */
  readonly serviceAccount: string;
  /** Ports the pods serve. @default none */
  readonly ports?: ReadonlyArray<ServicePort>;
  /** DNS name of the chart's Service, when it is not `<id>.<namespace>.svc.cluster.local`. @default that */
  readonly host?: string;
  /** Where derived objects (NetworkPolicies) are written. */
  readonly scope: Construct;
}

/** The graph node of a chart's pods: their traffic is declared like any other workload's. */
export function chartPods(props: ChartPodsProps): GraphNodeProps {
  return {
    id: props.id,
    kind: "component",
    namespace: props.namespace,
    serviceAccount: props.serviceAccount,
    selector: { "app.kubernetes.io/name": props.name, "app.kubernetes.io/instance": props.instance },
    ports: props.ports ?? [],
    ...(props.host ? { host: props.host } : {}),
    scope: props.scope,
  };
}

/** RFC 1918 ranges: never "the internet" in an egress rule. */
export const PRIVATE_RANGES: ReadonlyArray<string> = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/** Graph id of public HTTPS endpoints (AWS APIs, ACME): the internet on 443, never the private ranges. */
export const INTERNET_HTTPS = "internet-https";
