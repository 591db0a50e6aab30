import type { SecretKeyRef } from "../../../constructs/secret-ref";
import { Severity } from "../rules/alert-rule";

/** A label matcher, as Alertmanager routes and inhibit rules use them. */
export interface Matcher {
  /** Label name. */
  readonly name: string;
  /** Value or regular expression. */
  readonly value: string;
  /** Operator. @default "=" */
  readonly op?: "=" | "!=" | "=~" | "!~";
}

/** Where one team's alerts go. */
export interface TeamContact {
  /** Slack channel for warnings and criticals, e.g. `#checkout-alerts`. */
  readonly slackChannel: string;
  /** E-mail address for informational alerts. */
  readonly email: string;
  /** Whether critical alerts page the team through PagerDuty (its routing key comes from the receivers Secret). */
  readonly pagerduty: boolean;
}

/** One receiver: a set of notification integrations. */
export interface ReceiverModel {
  readonly name: string;
  readonly pagerduty?: { readonly routingKey: SecretKeyRef };
  readonly slack?: { readonly channel: string };
  readonly email?: { readonly to: string };
}

/** A node of the routing tree. */
export interface RouteModel {
  readonly receiver: string;
  readonly matchers?: ReadonlyArray<Matcher>;
  readonly groupBy?: ReadonlyArray<string>;
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly repeatInterval?: string;
  readonly continue?: boolean;
  readonly routes?: ReadonlyArray<RouteModel>;
}

/** An inhibit rule: while an alert matches `source`, alerts that match `target` and agree on `equal` are muted. */
export interface InhibitModel {
  readonly source: ReadonlyArray<Matcher>;
  readonly target: ReadonlyArray<Matcher>;
  readonly equal: ReadonlyArray<string>;
}

/** SMTP settings for e-mail receivers. */
export interface SmtpSettings {
  /** `host:port` of the relay, e.g. `email-smtp.eu-west-1.amazonaws.com:587`. */
  readonly smarthost: string;
  /** Sender address. */
  readonly from: string;
  /** User name at the relay. */
  readonly username: string;
  /** Password, by reference. */
  readonly password: SecretKeyRef;
}

/** The whole Alertmanager configuration as data; rendered as an AlertmanagerConfig CR and as plain alertmanager.yml. */
export interface AlertRoutingModel {
  readonly route: RouteModel;
  readonly receivers: ReadonlyArray<ReceiverModel>;
  readonly inhibitRules: ReadonlyArray<InhibitModel>;
  readonly global: { readonly resolveTimeout: string; readonly smtp: SmtpSettings; readonly slackApiUrl: SecretKeyRef };
}

/** Inputs of the standard routing. */
export interface AlertRoutingProps {
  /** Teams by name; alerts carry a `team` label. Must contain `defaultTeam`. */
  readonly teams: Readonly<Record<string, TeamContact>>;
  /** Team that receives alerts without a known `team` label. @default "platform" */
  readonly defaultTeam?: string;
  /** SMTP relay. */
  readonly smtp: SmtpSettings;
  /** Slack incoming-webhook URL, by reference. */
  readonly slackWebhook: SecretKeyRef;
  /** PagerDuty Events v2 routing key per team that pages, by reference. */
  readonly pagerdutyKeys: Readonly<Record<string, SecretKeyRef>>;
  /** Labels alerts are grouped by. @default alertname, namespace, service */
  readonly groupBy?: ReadonlyArray<string>;
}

/** Labels that identify one alert instance: inhibition mutes the lower severity of the same alert only. */
export const INSTANCE_LABELS = ["alertname", "namespace", "service", "slo", "pod", "instance", "name", "type", "upstream"];

const TEAM = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const is = (name: string, value: string): Matcher => ({ name, value });

/** Receiver names of a team, by purpose. */
export function teamReceivers(team: string): { pager: string; chat: string; mail: string } {
  return { pager: `${team}-pager`, chat: `${team}-slack`, mail: `${team}-email` };
}

/**
 * The standard routing: by team (the `team` label), then by severity (critical pages through PagerDuty and posts to
 * Slack, warning posts to Slack, info sends e-mail); unknown teams fall to the default team; critical inhibits warning,
 * and warning inhibits info, of the same alert.
 */
export function buildAlertRouting(props: AlertRoutingProps): AlertRoutingModel {
  const defaultTeam = props.defaultTeam ?? "platform";
  const problems: string[] = [];
  const teamNames = Object.keys(props.teams).sort();
  if (!props.teams[defaultTeam]) problems.push(`teams must contain the default team '${defaultTeam}'`);
  for (const t of teamNames) {
    const c = props.teams[t];
    if (!TEAM.test(t)) problems.push(`team '${t}': name must be a DNS label`);
    if (!/^#?[a-z0-9][-_a-z0-9]*$/.test(c.slackChannel)) problems.push(`team '${t}': slackChannel must be a channel name such as #alerts (got ${JSON.stringify(c.slackChannel)})`);
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(c.email)) problems.push(`team '${t}': email must be an e-mail address (got ${JSON.stringify(c.email)})`);
    if (c.pagerduty && !props.pagerdutyKeys[t]) problems.push(`team '${t}': pages through PagerDuty but has no routing key`);
  }
  if (!/^[^:\s]+:\d+$/.test(props.smtp.smarthost)) problems.push(`smtp.smarthost must be host:port (got ${JSON.stringify(props.smtp.smarthost)})`);
  if (problems.length) throw new Error(`alert routing: ${problems.join("; ")}`);

  const receivers: ReceiverModel[] = [];
  const teamRoutes: RouteModel[] = [];
  for (const t of teamNames) {
    const c = props.teams[t];
    const r = teamReceivers(t);
    const channel = c.slackChannel.startsWith("#") ? c.slackChannel : `#${c.slackChannel}`;
    receivers.push({ name: r.chat, slack: { channel } });
    receivers.push({ name: r.mail, email: { to: c.email } });
    if (c.pagerduty) receivers.push({ name: r.pager, pagerduty: { routingKey: props.pagerdutyKeys[t] }, slack: { channel } });
    teamRoutes.push({
      receiver: r.chat,
      matchers: [is("team", t)],
      routes: [
        { receiver: c.pagerduty ? r.pager : r.chat, matchers: [is("severity", "critical")], repeatInterval: "1h" },
        { receiver: r.mail, matchers: [is("severity", "info")], repeatInterval: "24h" },
      ],
    });
  }
  const fallback = teamReceivers(defaultTeam);
  const defaultPages = props.teams[defaultTeam]?.pagerduty ?? false;
  const order: ReadonlyArray<Severity> = ["critical", "warning", "info"];
  return {
    global: { resolveTimeout: "5m", smtp: props.smtp, slackApiUrl: props.slackWebhook },
    route: {
      receiver: fallback.chat,
      groupBy: props.groupBy ?? ["alertname", "namespace", "service"],
      groupWait: "30s",
      groupInterval: "5m",
      repeatInterval: "4h",
      routes: [
        ...teamRoutes,
        { receiver: defaultPages ? fallback.pager : fallback.chat, matchers: [is("severity", "critical")], repeatInterval: "1h" },
        { receiver: fallback.mail, matchers: [is("severity", "info")], repeatInterval: "24h" },
      ],
    },
    receivers,
    inhibitRules: order.slice(0, -1).map((source, i) => ({
      source: [is("severity", source)],
      target: [is("severity", order[i + 1])],
      equal: INSTANCE_LABELS,
    })),
  };
}

/** `name="value"` as Alertmanager writes a matcher. */
export function matcherString(m: Matcher): string {
  return `${m.name}${m.op ?? "="}${JSON.stringify(m.value)}`;
}

/** Follows the routing tree like Alertmanager does (first matching child wins unless `continue`); returns receiver names. */
export function receiversFor(model: AlertRoutingModel, labels: Readonly<Record<string, string>>): string[] {
  const matches = (m: Matcher): boolean => {
    const v = labels[m.name] ?? "";
    const op = m.op ?? "=";
    if (op === "=") return v === m.value;
    if (op === "!=") return v !== m.value;
    const re = new RegExp(`^(?:${m.value})$`);
    return op === "=~" ? re.test(v) : !re.test(v);
  };
  const walk = (route: RouteModel): string[] => {
    const out: string[] = [];
    for (const child of route.routes ?? []) {
      if (!(child.matchers ?? []).every(matches)) continue;
      out.push(...walk(child));
      if (!child.continue) return out;
    }
    return out.length ? out : [route.receiver];
  };
  return walk(model.route);
}
