import type { SecretKeyRef } from "../../../constructs/secret-ref";
import { AlertRoutingModel, Matcher, matcherString, ReceiverModel, RouteModel } from "./alert-routing";

const SLACK_TITLE = '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.service }}';
const SLACK_TEXT = "{{ range .Alerts }}*{{ .Annotations.summary }}* ({{ .Labels.severity }})\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}";

function crMatcher(m: Matcher): { name: string; value: string; matchType: string } {
  return { name: m.name, value: m.value, matchType: m.op ?? "=" };
}

function crRoute(r: RouteModel, root: boolean): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      receiver: r.receiver,
      matchers: root ? undefined : (r.matchers ?? []).map(crMatcher),
      groupBy: r.groupBy ? [...r.groupBy] : undefined,
      groupWait: r.groupWait,
      groupInterval: r.groupInterval,
      repeatInterval: r.repeatInterval,
      continue: r.continue,
      routes: r.routes?.length ? r.routes.map((c) => crRoute(c, false)) : undefined,
    }),
  );
}

/** The configuration as the `spec` of an AlertmanagerConfig (v1alpha1): credentials stay Secret references. */
export function toAlertmanagerConfigSpec(model: AlertRoutingModel): Record<string, any> {
  return {
    route: crRoute(model.route, true),
    receivers: model.receivers.map((r) => ({
      name: r.name,
      pagerdutyConfigs: r.pagerduty ? [{ routingKey: { name: r.pagerduty.routingKey.name, key: r.pagerduty.routingKey.key }, sendResolved: true }] : undefined,
      slackConfigs: r.slack ? [{ channel: r.slack.channel, sendResolved: true, title: SLACK_TITLE, text: SLACK_TEXT }] : undefined,
      emailConfigs: r.email ? [{ to: r.email.to, sendResolved: false }] : undefined,
    })),
    inhibitRules: model.inhibitRules.map((i) => ({ sourceMatch: i.source.map(crMatcher), targetMatch: i.target.map(crMatcher), equal: [...i.equal] })),
  };
}

/** Kind of secret value, so a test can supply a well-formed stand-in. */
export type SecretKind = "url" | "token" | "password";

/** Resolves a Secret reference to its value (the operator does this in the cluster; tests supply stand-ins). */
export type SecretResolver = (ref: SecretKeyRef, kind: SecretKind) => string;

function plainRoute(r: RouteModel, root: boolean): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      receiver: r.receiver,
      matchers: root || !r.matchers?.length ? undefined : r.matchers.map(matcherString),
      group_by: r.groupBy ? [...r.groupBy] : undefined,
      group_wait: r.groupWait,
      group_interval: r.groupInterval,
      repeat_interval: r.repeatInterval,
      continue: r.continue,
      routes: r.routes?.length ? r.routes.map((c) => plainRoute(c, false)) : undefined,
    }),
  );
}

function plainReceiver(r: ReceiverModel, resolve: SecretResolver): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      name: r.name,
      pagerduty_configs: r.pagerduty ? [{ routing_key: resolve(r.pagerduty.routingKey, "token"), send_resolved: true }] : undefined,
      slack_configs: r.slack ? [{ channel: r.slack.channel, send_resolved: true, title: SLACK_TITLE, text: SLACK_TEXT }] : undefined,
      email_configs: r.email ? [{ to: r.email.to, send_resolved: false }] : undefined,
    }),
  );
}

/**
 * The same configuration as a plain `alertmanager.yml` (what the operator generates from the CRs), with Secret
 * references resolved by `resolve`: what `amtool check-config` checks.
 */
export function toAlertmanagerYaml(model: AlertRoutingModel, resolve: SecretResolver): Record<string, unknown> {
  const g = model.global;
  return {
    global: {
      resolve_timeout: g.resolveTimeout,
      smtp_smarthost: g.smtp.smarthost,
      smtp_from: g.smtp.from,
      smtp_auth_username: g.smtp.username,
      smtp_auth_password: resolve(g.smtp.password, "password"),
      smtp_require_tls: true,
      slack_api_url: resolve(g.slackApiUrl, "url"),
    },
    route: plainRoute(model.route, true),
    receivers: model.receivers.map((r) => plainReceiver(r, resolve)),
    inhibit_rules: model.inhibitRules.map((i) => ({
      source_matchers: i.source.map(matcherString),
      target_matchers: i.target.map(matcherString),
      equal: [...i.equal],
    })),
  };
}
