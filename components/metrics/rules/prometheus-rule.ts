import { Construct } from "constructs";
import { recommendedLabels } from "../../../constructs/labels";
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from "../../../constructs/imports/monitoring-prometheusrule-monitoring.coreos.com";
import { RenderedGroup, renderGroup, RuleGroup, ruleGroupProblems } from "./alert-rule";

/** Props of a set of rule groups written as one PrometheusRule. */
export interface AlertRuleSetProps {
  /** Object name, e.g. `stratum-slo`. */
  readonly name: string;
  /** Namespace (the one Prometheus reads rules from). */
  readonly namespace: string;
  /** Labels Prometheus' ruleSelector matches. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Base URL of the runbooks. */
  readonly runbookBaseUrl: string;
  /** The groups. */
  readonly groups: ReadonlyArray<RuleGroup>;
}

/** Typed alert and recording rules as a `PrometheusRule`; invalid rules fail construction with every problem listed. */
export class AlertRuleSet extends Construct {
  /** The groups as Prometheus reads them (also the content of a rule file for promtool). */
  readonly rendered: ReadonlyArray<RenderedGroup>;
  /** The typed groups. */
  readonly groups: ReadonlyArray<RuleGroup>;
  /** The PrometheusRule. */
  readonly resource: PrometheusRule;

  constructor(scope: Construct, id: string, props: AlertRuleSetProps) {
    super(scope, id);
    const problems = props.groups.flatMap(ruleGroupProblems);
    if (props.groups.length === 0) problems.push("needs at least one group");
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.groups = props.groups;
    this.rendered = props.groups.map((g) => renderGroup(g, props.runbookBaseUrl));
    this.resource = new PrometheusRule(this, "Resource", {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { ...recommendedLabels({ name: props.name, component: "alert-rules" }), ...props.selectorLabels },
      },
      spec: {
        groups: this.rendered.map((g) => ({
          name: g.name,
          interval: g.interval,
          rules: g.rules.map((r) => ({ ...r, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr) })),
        })),
      },
    });
  }
}

/** The rule file Prometheus and promtool read: `{ groups: [...] }` without undefined fields. */
export function ruleFile(groups: ReadonlyArray<RenderedGroup>): { groups: RenderedGroup[] } {
  return JSON.parse(JSON.stringify({ groups }));
}
