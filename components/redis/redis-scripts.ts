/** A Redis ACL user; its password comes from a Secret key and only its SHA-256 reaches Redis's configuration. */
export interface RedisAclUser {
  /** User name: letters, digits, `_` and `-`. */
  readonly name: string;
  /** ACL rules after the password, e.g. `~app:* &* +@all -@dangerous`. */
  readonly rules: string;
}

/** What the start scripts need to know; all of it is data, rendered into the ConfigMap. */
export interface RedisScriptSettings {
  /** Folder the ConfigMap is mounted at. */
  readonly confDir: string;
  /** Writable folder (emptyDir) for the runtime files that carry the password hashes. */
  readonly runDir: string;
  /** Redis port. */
  readonly redisPort: number;
  /** Sentinel port. */
  readonly sentinelPort: number;
  /** Master name sentinels monitor. */
  readonly masterName: string;
  /** Headless Service of the Redis pods, e.g. `redis.redis.svc.cluster.local` (pod N is `redis-N.<this>`). */
  readonly redisHeadlessHost: string;
  /** Headless Service of the sentinels, e.g. `redis-sentinel.redis.svc.cluster.local`. */
  readonly sentinelHeadlessHost: string;
  /** ACL users of Redis (the replication, sentinel and monitor users included). */
  readonly users: ReadonlyArray<RedisAclUser>;
  /** ACL users of the sentinels (the sentinel peer user and the clients that ask for the master). */
  readonly sentinelUsers: ReadonlyArray<RedisAclUser>;
  /** User replicas authenticate to the master as. */
  readonly replicationUser: string;
  /** User sentinels authenticate to Redis and to each other as. */
  readonly sentinelUser: string;
  /** User the probes and the metrics exporter use. */
  readonly monitorUser: string;
  /** Folder of the TLS files; plain TCP when absent. */
  readonly tlsDir?: string;
}

/** The environment variable that carries a user's password in the Redis and sentinel containers. */
export function passwordEnv(user: string): string {
  return `REDIS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Problems with the ACL users (empty when valid). */
export function aclProblems(users: ReadonlyArray<RedisAclUser>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const u of users) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(u.name)) problems.push(`ACL user name ${JSON.stringify(u.name)} must be 1-64 of [A-Za-z0-9_-]`);
    if (u.name === "default") problems.push("ACL user 'default' is reserved: it is always switched off");
    if (seen.has(u.name)) problems.push(`ACL user '${u.name}' is declared twice`);
    seen.add(u.name);
    if (/[<>#]|nopass|resetpass/.test(u.rules)) problems.push(`ACL rules of '${u.name}' must not set passwords (got ${JSON.stringify(u.rules)}); passwords come from the Secret`);
    if (/[\n\r"'$`\\]/.test(u.rules)) problems.push(`ACL rules of '${u.name}' contain a quote, newline or shell character (got ${JSON.stringify(u.rules)})`);
  }
  return problems;
}

// printf, not echo: dash's echo would unescape the backslashes of a quoted password
const COMMON = `set -eu
umask 077
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
# a value for a redis config line, double-quoted with backslashes and quotes escaped
quote() { printf '"%s"' "$(printf %s "$1" | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g')"; }
self="\${ANNOUNCE_HOST:-\${HOSTNAME}.\${REDIS_SELF_DOMAIN}}"
`;

function cliTls(s: RedisScriptSettings): string {
  return s.tlsDir ? ` --tls --cacert ${s.tlsDir}/ca.crt` : "";
}

/** Asks the sentinels which host is the master; prints nothing when no sentinel answers. */
function askSentinels(s: RedisScriptSettings): string {
  // a few tries: right after a pod starts its network (or mesh proxy) may not be up yet, and a pod that wrongly
  // starts as master after a failover would accept writes until the sentinels demote it
  return `ask_sentinels() {
  i=0
  while [ "$i" -lt "\${SENTINEL_ATTEMPTS:-5}" ]; do
    out=$(REDISCLI_AUTH="$${passwordEnv(s.sentinelUser)}" timeout 3 redis-cli${cliTls(s)} --user ${s.sentinelUser} -h "\${SENTINEL_HOST:-${s.sentinelHeadlessHost}}" -p "\${SENTINEL_PORT:-${s.sentinelPort}}" --raw sentinel get-master-addr-by-name ${s.masterName} 2>/dev/null | head -n 2 | tr '\\n' ' ' || true)
    # a valid answer is two words, host and numeric port; errors (NOAUTH ...) and empty replies are not
    set -- $out
    if [ "$#" -eq 2 ] && [ "$2" -eq "$2" ] 2>/dev/null; then printf '%s %s' "$1" "$2"; return 0; fi
    i=$((i + 1))
    [ "$i" -lt "\${SENTINEL_ATTEMPTS:-5}" ] && sleep 2
  done
  return 0
}
`;
}

function userLines(users: ReadonlyArray<RedisAclUser>): string {
  return users.map((u) => `  echo "user ${u.name} on #$(hash "$${passwordEnv(u.name)}") ${u.rules}"`).join("\n");
}

/**
 * Start script of a Redis pod: copies `redis.conf`, appends the ACL users (password hashes) and the replication
 * credentials, picks its role (a replica of the master the sentinels name, else of pod 0, unless it is pod 0 on a
 * fresh start) and execs redis-server. `CONF_DIR`, `RUN_DIR`, `SENTINEL_HOST` and `INITIAL_MASTER` override paths
 * and hosts, `ANNOUNCE_HOST` the name it announces, `MASTER_PORT` the master's port, `SENTINEL_PORT` the sentinels'
 * (tests use them; in a pod the defaults apply).
 */
export function redisStartScript(s: RedisScriptSettings): string {
  return `#!/bin/sh
# Generated by Stratum (components/redis): renders the runtime config from the mounted Secret keys and starts Redis.
${COMMON}conf="\${CONF_DIR:-${s.confDir}}"
run="\${RUN_DIR:-${s.runDir}}"
initial="\${INITIAL_MASTER:-\${HOSTNAME%-*}-0.\${REDIS_SELF_DOMAIN}}"
${askSentinels(s)}answer=$(ask_sentinels)
master="\${answer%% *}"
master_port=$(printf %s "$answer" | cut -d' ' -f2)
if [ -z "$answer" ]; then master="$initial"; master_port="\${MASTER_PORT:-${s.redisPort}}"; fi
{
  cat "$conf/redis.conf"
  echo "user default off resetpass -@all"
${userLines(s.users)}
  echo "masteruser ${s.replicationUser}"
  printf '%s\n' "masterauth $(quote "$${passwordEnv(s.replicationUser)}")"
  echo "replica-announce-ip $self"
  if [ "$master" != "$self" ]; then echo "replicaof $master $master_port"; fi
} > "$run/redis.conf"
echo "starting redis as $self; master is $master"
exec redis-server "$run/redis.conf" "$@"
`;
}

/**
 * Start script of a sentinel pod: copies `sentinel.conf`, points the monitor at the master its peers know (if any),
 * appends users and passwords, and execs redis-sentinel.
 */
export function sentinelStartScript(s: RedisScriptSettings): string {
  return `#!/bin/sh
# Generated by Stratum (components/redis): renders the runtime sentinel config from the mounted Secret keys.
${COMMON}conf="\${CONF_DIR:-${s.confDir}}"
run="\${RUN_DIR:-${s.runDir}}"
${askSentinels(s)}answer=$(ask_sentinels)
master="\${answer%% *}"
master_port=$(printf %s "$answer" | cut -d' ' -f2)
if [ -z "$answer" ]; then master="\${INITIAL_MASTER:-}"; master_port="\${MASTER_PORT:-${s.redisPort}}"; fi
{
  if [ -n "$master" ]; then
    sed "s/^sentinel monitor ${s.masterName} [^ ]* [^ ]* /sentinel monitor ${s.masterName} $master $master_port /" "$conf/sentinel.conf"
  else
    cat "$conf/sentinel.conf"
  fi
  echo "user default off resetpass -@all"
${userLines(s.sentinelUsers)}
  echo "sentinel sentinel-user ${s.sentinelUser}"
  printf '%s\n' "sentinel sentinel-pass $(quote "$${passwordEnv(s.sentinelUser)}")"
  printf '%s\n' "sentinel auth-pass ${s.masterName} $(quote "$${passwordEnv(s.sentinelUser)}")"
  echo "sentinel announce-ip $self"
} > "$run/sentinel.conf"
echo "starting sentinel as $self; master is \${master:-the configured one}"
exec redis-sentinel "$run/sentinel.conf" "$@"
`;
}

/**
 * Probe script: `live` pings; `ready` also requires a replica's link to its master to be up, so that a replica still
 * loading or syncing takes no reads.
 */
export function probeScript(s: RedisScriptSettings): string {
  return `#!/bin/sh
# Generated by Stratum (components/redis): liveness (live) and readiness (ready) of a Redis or sentinel container.
set -eu
port="\${1:-${s.redisPort}}"
mode="\${2:-live}"
cli() { REDISCLI_AUTH="$${passwordEnv(s.monitorUser)}" timeout 2 redis-cli${cliTls(s)} --user ${s.monitorUser} -h 127.0.0.1 -p "$port" "$@"; }
[ "$(cli ping)" = "PONG" ] || exit 1
if [ "$mode" = ready ] && [ "$port" = ${s.redisPort} ]; then
  info=$(cli info replication | tr -d '\\r')
  case "$info" in *role:slave*) echo "$info" | grep -q '^master_link_status:up$' || exit 1 ;; esac
fi
exit 0
`;
}
