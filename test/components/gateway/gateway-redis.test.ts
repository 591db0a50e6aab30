import { App, Testing } from "cdk8s";
import { parse } from "yaml";
import { GatewayComponent } from "../../../components/gateway";
import { RedisComponent } from "../../../components/redis";
import { dev } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { findOne } from "../../support/objects";

function build(props: ConstructorParameters<typeof GatewayComponent>[3] = {}, withRedis = true) {
  const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), dev.name, { environment: dev });
  const redis = withRedis ? platform.add((s, c) => new RedisComponent(s, "Redis", c)) : undefined;
  const gateway = platform.add((s, c) => new GatewayComponent(s, "Gateway", c, props));
  platform.addService({ name: "catalog", image: "ghcr.io/acme/catalog:1.0.0", routes: [{ pathPrefix: "/api/catalog", auth: false }] });
  platform.finalize();
  return { platform, gateway, redis };
}

describe("GatewayComponent with Redis", () => {
  it("keeps rate limits in the platform's Redis, through its sentinels, with the password by reference", () => {
    const { platform, gateway, redis } = build();
    const config = parse(gateway.configText);
    expect(config.rate_limiting.redis).toEqual({
      sentinels: [{ host: redis!.endpoint.sentinelHost, port: redis!.endpoint.sentinelPort }],
      master_name: redis!.endpoint.masterName,
      username: redis!.endpoint.username,
      password_env: "REDIS_PASSWORD",
      tls: redis!.endpoint.tls,
      key_prefix: "gateway:rl:",
      on_error: "allow",
    });
    expect(platform.graph.outgoing("gateway").map((e) => e.to)).toEqual(expect.arrayContaining(["redis", "redis-sentinel"]));
    const deploy = findOne(Testing.synth(gateway), "Deployment", "gateway", "gateway");
    const env = deploy.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: any }>;
    const password = env.find((e) => e.name === "REDIS_PASSWORD");
    expect(password?.valueFrom?.secretKeyRef).toBeDefined();
    expect(password?.value).toBeUndefined();
  });

  it("stays per replica when asked, or when there is no Redis", () => {
    expect(parse(build({ distributedRateLimits: false }).gateway.configText).rate_limiting.redis).toBeUndefined();
    expect(parse(build({}, false).gateway.configText).rate_limiting.redis).toBeUndefined();
    expect(() => build({ distributedRateLimits: true }, false)).toThrow("dev/Gateway: distributedRateLimits needs the Redis component, added before the gateway");
  });
});
