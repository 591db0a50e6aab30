import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Args of the edge. */
export interface EdgeArgs {
  /** DNS name of the ingress load balancer. */
  readonly originDomain: string;
  /** Requests per 5 minutes per client IP before it is blocked. */
  readonly rateLimit: number;
  /** Subscribe the distribution to AWS Shield Advanced. */
  readonly ddosProtection: boolean;
  readonly tags: Record<string, string>;
}

/** AWS managed rule groups every request passes. */
export const MANAGED_RULE_GROUPS = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"];
/** CloudFront's managed policies: no caching of API responses, forward everything the viewer sent. */
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3";

const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });

/** A CDN in front of the ingress load balancer, behind a WAF (managed rules and a per-IP rate limit), with Shield where asked. */
export class Edge extends pulumi.ComponentResource {
  readonly webAcl: aws.wafv2.WebAcl;
  readonly distribution: aws.cloudfront.Distribution;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stratum:aws:Edge", name, {}, opts);
    // web ACLs of CloudFront live in us-east-1
    const global = new aws.Provider(`${name}-us-east-1`, { region: "us-east-1" }, { parent: this });
    this.webAcl = new aws.wafv2.WebAcl(`${name}-waf`, {
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${name}-waf`),
      rules: [
        ...MANAGED_RULE_GROUPS.map((group, i) => ({
          name: group,
          priority: i + 1,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: "AWS", name: group } },
          visibilityConfig: visibility(group),
        })),
        {
          name: "rate-limit-per-ip",
          priority: MANAGED_RULE_GROUPS.length + 1,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: args.rateLimit, aggregateKeyType: "IP" } },
          visibilityConfig: visibility("rate-limit-per-ip"),
        },
      ],
      tags: args.tags,
    }, { parent: this, provider: global });
    this.distribution = new aws.cloudfront.Distribution(`${name}-cdn`, {
      enabled: true,
      comment: `${name} API edge`,
      httpVersion: "http2and3",
      priceClass: "PriceClass_100",
      webAclId: this.webAcl.arn,
      origins: [{
        originId: "ingress",
        domainName: args.originDomain,
        customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
      }],
      defaultCacheBehavior: {
        targetOriginId: "ingress",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: CACHING_DISABLED,
        originRequestPolicyId: ALL_VIEWER,
        compress: true,
      },
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: { cloudfrontDefaultCertificate: true },
      tags: args.tags,
    }, { parent: this });
    if (args.ddosProtection) {
      new aws.shield.Protection(`${name}-shield`, { name: `${name}-cdn`, resourceArn: this.distribution.arn, tags: args.tags }, { parent: this });
    }
    this.registerOutputs({ distributionDomain: this.distribution.domainName, webAclArn: this.webAcl.arn });
  }
}
