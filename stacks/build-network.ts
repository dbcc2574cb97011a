import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import type { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { EncryptionKey } from "./encryption-key";
import { addFlowLog } from "./flow-log";

/** The build VPC's range: its own VPC, so it never overlaps anything it could be peered with by accident. */
export const BUILD_VPC_CIDR = "10.255.255.0/24";

export interface BuildNetworkProps {
  /** `<app>-bootstrap-build`: the Name tags' and the flow-log role's prefix (no environment is named bootstrap). */
  readonly namePrefix: string;
  /** `/<app>/bootstrap/build-flow-logs`. */
  readonly flowLogGroupName: string;
  /** `alias/<app>-bootstrap-build`. */
  readonly keyAlias: string;
  readonly region: string;
  readonly accountId: string;
  readonly logRetentionDays: number;
  /** IAM path of the flow-log role: the CI path, which no deploy role's `role/<app>-<env>-*` names. */
  readonly rolePath: string;
}

/**
 * Where Packer's build instance runs: a VPC of its own with one public subnet (the instance needs
 * Session Manager's and the package registries' endpoints, and no NAT gateway is billed for a build a
 * day), the VPC's default group emptied, flow logs of all traffic. Every resource carries the bootstrap
 * stack's tags (app=<app>, environment=bootstrap), and the bake role may launch only into a subnet and
 * create groups only in a VPC with exactly those tags (managed/ci-policies.ts): never into another
 * team's network, whose subnets may reach that team's services.
 */
export class BuildNetwork extends Construct {
  public readonly vpc: Vpc;
  public readonly subnet: Subnet;
  public readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: BuildNetworkProps) {
    super(scope, id);
    const name = (suffix: string) => ({ Name: `${props.namePrefix}-${suffix}` });
    this.vpc = new Vpc(this, "vpc", { cidrBlock: BUILD_VPC_CIDR, enableDnsHostnames: true, enableDnsSupport: true, tags: name("vpc") });
    // The provider adopts the default group and empties it: "When the provider first begins managing the
    // default security group, it immediately removes all ingress and egress rules in the Security Group"
    // (the provider's default_security_group docs, as Pulumi's bridge of it reprints them): nothing in
    // this VPC can use it to reach anything.
    new DefaultSecurityGroup(this, "default-group", { vpcId: this.vpc.id, ingress: [], egress: [], tags: name("default-empty") });
    const igw = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: name("igw") });
    const routes = new RouteTable(this, "routes", {
      vpcId: this.vpc.id,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: name("public"),
    });
    // No public address by default: Packer asks for one for its build instance only
    // (associate_public_ip_address in packer/app.pkr.hcl).
    this.subnet = new Subnet(this, "subnet", {
      vpcId: this.vpc.id,
      cidrBlock: BUILD_VPC_CIDR,
      mapPublicIpOnLaunch: false,
      tags: name("subnet"),
    });
    new RouteTableAssociation(this, "subnet-routes", { subnetId: this.subnet.id, routeTableId: routes.id });
    this.flowLog = this.createFlowLog(props);
  }

  /** As stacks/network.ts: a role only this account's flow-log service may assume, to an encrypted group. */
  private createFlowLog(props: BuildNetworkProps): FlowLog {
    const key = new EncryptionKey(this, "key", {
      aliasName: props.keyAlias,
      description: `Flow logs of ${props.namePrefix}`,
      region: props.region,
      logGroups: [props.flowLogGroupName],
    });
    const group = new CloudwatchLogGroup(this, "flow-logs", {
      name: props.flowLogGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: key.key.arn,
      dependsOn: [key.policy],
    });
    return addFlowLog(this, {
      namePrefix: props.namePrefix,
      region: props.region,
      accountId: props.accountId,
      vpcId: this.vpc.id,
      group,
      rolePath: props.rolePath,
    });
  }
}
