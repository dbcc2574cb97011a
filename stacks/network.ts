import { Construct } from "constructs";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { NetworkConfig } from "../managed/config";

export interface NetworkProps {
  /** A new VPC to create, or an existing one to use. */
  readonly network: NetworkConfig;
  /** Prefix of the Name tags, `<app>-<env>`. */
  readonly namePrefix: string;
}

/**
 * The VPC the web tier runs in: public subnets for the load balancer (and NAT), private subnets for
 * the instances, one of each per zone. With an existing VPC nothing is created.
 */
export class Network extends Construct {
  public readonly vpcId: string;
  public readonly publicSubnetIds: string[];
  public readonly privateSubnetIds: string[];
  /** Created only for a new VPC. */
  public readonly vpc?: Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { network, namePrefix } = props;
    if (network.mode === "existing") {
      this.vpcId = network.vpcId;
      this.publicSubnetIds = [...network.publicSubnetIds];
      this.privateSubnetIds = [...network.privateSubnetIds];
      return;
    }

    const name = (suffix: string) => ({ Name: `${namePrefix}-${suffix}` });
    const vpc = new Vpc(this, "vpc", {
      cidrBlock: network.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: name("vpc"),
    });
    // AWS opens the default group to itself; nothing uses it, so it is emptied (CIS 5.4).
    new DefaultSecurityGroup(this, "default-sg", { vpcId: vpc.id, tags: name("default-closed") });
    const igw = new InternetGateway(this, "igw", { vpcId: vpc.id, tags: name("igw") });

    const publicRoutes = new RouteTable(this, "public-routes", {
      vpcId: vpc.id,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: name("public"),
    });
    const publicSubnets = network.availabilityZones.map((zone, i) => {
      const subnet = new Subnet(this, `public-${i}`, {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: network.publicSubnetCidrs[i],
        // The load balancer has public addresses of its own; nothing launched here gets one.
        mapPublicIpOnLaunch: false,
        tags: name(`public-${zone}`),
      });
      new RouteTableAssociation(this, `public-${i}-routes`, { subnetId: subnet.id, routeTableId: publicRoutes.id });
      return subnet;
    });

    const natCount = network.natGateways === "per-az" ? publicSubnets.length : 1;
    const nats = publicSubnets.slice(0, natCount).map((subnet, i) => {
      const eip = new Eip(this, `nat-${i}-ip`, { domain: "vpc", tags: name(`nat-${i}`) });
      return new NatGateway(this, `nat-${i}`, {
        allocationId: eip.allocationId,
        subnetId: subnet.id,
        tags: name(`nat-${i}`),
        dependsOn: [igw],
      });
    });
    const privateSubnets = network.availabilityZones.map((zone, i) => {
      const subnet = new Subnet(this, `private-${i}`, {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: network.privateSubnetCidrs[i],
        tags: name(`private-${zone}`),
      });
      const routes = new RouteTable(this, `private-${i}-routes-table`, {
        vpcId: vpc.id,
        // Outbound only, for SSM, KMS, CloudWatch and the app's own dependencies.
        route: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[i % nats.length].id }],
        tags: name(`private-${zone}`),
      });
      new RouteTableAssociation(this, `private-${i}-routes`, { subnetId: subnet.id, routeTableId: routes.id });
      return subnet;
    });

    this.vpc = vpc;
    this.vpcId = vpc.id;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
  }
}
