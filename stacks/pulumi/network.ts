import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Args of the network. */
export interface NetworkArgs {
  /** CIDR of the VPC (the environment's `network.vpcCidr`, a /16). */
  readonly cidr: string;
  /** Region; the first three zones are used. */
  readonly region: string;
  /** One NAT gateway per zone, or one shared. */
  readonly natPerZone: boolean;
  /** Bucket ARN that receives the VPC flow logs. */
  readonly flowLogBucketArn: pulumi.Input<string>;
  /** Tags of every resource. */
  readonly tags: Record<string, string>;
}

/** Splits a /16 into /20s: public subnets take 0-2, private ones 4-6 (room to grow in between). */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [a, b] = vpcCidr.split("/")[0].split(".").map(Number);
  return `${a}.${b}.${index * 16}.0/20`;
}

/** A VPC across three zones: public subnets for load balancers, private ones for nodes, NAT, flow logs. */
export class Network extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stratum:aws:Network", name, {}, opts);
    if (!/\/16$/.test(args.cidr)) throw new Error(`stratum:aws:Network ${name}: cidr must be a /16 (got ${args.cidr})`);
    const parent = { parent: this };
    const zones = ["a", "b", "c"].map((z) => `${args.region}${z}`);
    const tags = (n: string, extra: Record<string, string> = {}) => ({ ...args.tags, Name: `${name}-${n}`, ...extra });
    this.vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: args.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags("vpc") }, parent);
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: this.vpc.id, tags: tags("igw") }, parent);
    const publicRt = new aws.ec2.RouteTable(`${name}-public`, { vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags("public") }, parent);
    const publicSubnets = zones.map((az, i) =>
      new aws.ec2.Subnet(`${name}-public-${i}`, {
        vpcId: this.vpc.id, availabilityZone: az, cidrBlock: subnetCidr(args.cidr, i), mapPublicIpOnLaunch: false,
        tags: tags(`public-${az}`, { "kubernetes.io/role/elb": "1" }),
      }, parent));
    publicSubnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: s.id, routeTableId: publicRt.id }, parent));
    const natCount = args.natPerZone ? zones.length : 1;
    const nats = Array.from({ length: natCount }, (_, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: tags(`nat-${i}`) }, parent);
      return new aws.ec2.NatGateway(`${name}-nat-${i}`, { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: tags(`nat-${i}`) }, { parent: this, dependsOn: [igw] });
    });
    const privateSubnets = zones.map((az, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, {
        vpcId: this.vpc.id, availabilityZone: az, cidrBlock: subnetCidr(args.cidr, i + 4),
        tags: tags(`private-${az}`, { "kubernetes.io/role/internal-elb": "1" }),
      }, parent);
      const rt = new aws.ec2.RouteTable(`${name}-private-${i}`, { vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[i % natCount].id }], tags: tags(`private-${az}`) }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: rt.id }, parent);
      return subnet;
    });
    new aws.ec2.FlowLog(`${name}-flow-logs`, { vpcId: this.vpc.id, trafficType: "ALL", logDestinationType: "s3", logDestination: args.flowLogBucketArn, maxAggregationInterval: 60, tags: tags("flow-logs") }, parent);
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.registerOutputs({ vpcId: this.vpc.id, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
  }
}
