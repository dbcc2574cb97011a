import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import type { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { addFlowLog } from "./flow-log";
import type { NatGateways, NetworkConfig } from "../managed/config";

export interface NetworkProps {
  /** A new VPC to create, or an existing one to use. */
  readonly network: NetworkConfig;
  /** Prefix of the Name tags, `<app>-<env>`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  /** One NAT gateway, or one per zone (a new VPC only). */
  readonly natGateways: NatGateways;
  /** Flow logs of a new VPC go to this log group, encrypted with this key. */
  readonly flowLogs: {
    readonly logGroupName: string;
    readonly retentionDays: number;
    readonly keyArn: string;
    /** ARN of the flow-log role's permissions boundary (see InstanceRoleProps.permissionsBoundary). @default none */
    readonly permissionsBoundary?: string;
  };
  /**
   * Created before the log group, so that CloudWatch Logs may use the key ("If you attempt to
   * associate a KMS key with the log group but the KMS key does not exist ... you receive an
   * InvalidParameterException error", CreateLogGroup).
   */
  readonly keyPolicy: ITerraformDependable;
}

/** What the instances' interface endpoints serve, when network.vpcEndpoints is on. */
export const INTERFACE_ENDPOINTS = ["ssm", "ssmmessages", "ec2messages", "kms", "logs"] as const;

/**
 * The VPC the web tier runs in: public subnets for the load balancer (and NAT), private subnets for
 * the instances, one of each per zone; flow logs of all traffic; and, when asked, VPC endpoints for the
 * AWS APIs the instances need. With an existing VPC nothing is created.
 */
export class Network extends Construct {
  public readonly vpcId: string;
  public readonly publicSubnetIds: string[];
  public readonly privateSubnetIds: string[];
  /** Created only for a new VPC. */
  public readonly vpc?: Vpc;
  public readonly natGatewayResources: NatGateway[] = [];
  public readonly endpoints: VpcEndpoint[] = [];
  public readonly flowLog?: FlowLog;
  /**
   * What must exist before an instance can reach AWS's APIs from a private subnet: the NAT gateways,
   * the private routes and the endpoints. Empty for an existing VPC, whose routes are its owner's.
   */
  public readonly egressPath: ITerraformDependable[] = [];

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
    // The VPC's default security group (AWS creates it, untagged, open to its own members) is left
    // alone: nothing here is placed in it, every resource has a group of its own. Emptying it
    // (aws_default_security_group) would give each environment's deploy role the right to tag and
    // revoke rules of untagged security groups account-wide, another app's or environment's included
    // (IAM cannot name a group before it exists); checkov's CKV2_AWS_12 is skipped for it.
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

    const natCount = props.natGateways === "per-az" ? publicSubnets.length : 1;
    const nats = publicSubnets.slice(0, natCount).map((subnet, i) => {
      const eip = new Eip(this, `nat-${i}-ip`, { domain: "vpc", tags: name(`nat-${i}`) });
      return new NatGateway(this, `nat-${i}`, {
        allocationId: eip.allocationId,
        subnetId: subnet.id,
        tags: name(`nat-${i}`),
        dependsOn: [igw],
      });
    });
    this.natGatewayResources.push(...nats);
    const privateRouteTables: RouteTable[] = [];
    const privateSubnets = network.availabilityZones.map((zone, i) => {
      const subnet = new Subnet(this, `private-${i}`, {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: network.privateSubnetCidrs[i],
        tags: name(`private-${zone}`),
      });
      const routes = new RouteTable(this, `private-${i}-routes-table`, {
        vpcId: vpc.id,
        // Outbound only, for SSM, KMS, CloudWatch and the app's own dependencies; per-az keeps each
        // zone on its own NAT gateway, so that one zone's failure leaves the others their route.
        route: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[i % nats.length].id }],
        tags: name(`private-${zone}`),
      });
      privateRouteTables.push(routes);
      this.egressPath.push(new RouteTableAssociation(this, `private-${i}-routes`, { subnetId: subnet.id, routeTableId: routes.id }));
      return subnet;
    });
    this.egressPath.push(...nats, ...privateRouteTables);

    this.vpc = vpc;
    this.vpcId = vpc.id;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.flowLog = this.createFlowLog(props, vpc);
    if (network.vpcEndpoints) this.createEndpoints(props, vpc, privateRouteTables);
  }

  /**
   * Flow logs of all traffic to CloudWatch Logs, through a role that only the flow-log service of this
   * account may assume (VPC User Guide, flow-logs-iam-role.html: trust vpc-flow-logs.amazonaws.com,
   * aws:SourceAccount and aws:SourceArn "to protect yourself against the confused deputy problem").
   */
  private createFlowLog(props: NetworkProps, vpc: Vpc): FlowLog {
    const group = new CloudwatchLogGroup(this, "flow-logs", {
      name: props.flowLogs.logGroupName,
      retentionInDays: props.flowLogs.retentionDays,
      kmsKeyId: props.flowLogs.keyArn,
      dependsOn: [props.keyPolicy],
    });
    return addFlowLog(this, {
      namePrefix: props.namePrefix,
      region: props.region,
      accountId: props.accountId,
      vpcId: vpc.id,
      group,
      permissionsBoundary: props.flowLogs.permissionsBoundary,
    });
  }

  /**
   * The endpoints Systems Manager User Guide, setup-create-vpc.html lists for instances without
   * internet access: ssm, ec2messages and ssmmessages (Session Manager), kms (SecureString
   * parameters) and logs (CloudWatch Logs), interface type with private DNS; and the S3 gateway
   * endpoint, which the SSM agent uses for its updates.
   */
  private createEndpoints(props: NetworkProps, vpc: Vpc, privateRouteTables: RouteTable[]): void {
    const network = props.network as Extract<NetworkConfig, { mode: "new" }>;
    const sg = new SecurityGroup(this, "endpoints-sg", {
      namePrefix: `${props.namePrefix}-endpoints-`,
      description: `VPC endpoints of ${props.namePrefix}: HTTPS from inside the VPC`,
      vpcId: vpc.id,
      tags: { Name: `${props.namePrefix}-endpoints` },
      lifecycle: { createBeforeDestroy: true },
    });
    new VpcSecurityGroupIngressRule(this, "endpoints-https", {
      securityGroupId: sg.id,
      description: "HTTPS from the VPC to the interface endpoints",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: network.cidr,
    });
    for (const service of INTERFACE_ENDPOINTS) {
      this.endpoints.push(
        new VpcEndpoint(this, `endpoint-${service}`, {
          vpcId: vpc.id,
          serviceName: `com.amazonaws.${props.region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: this.privateSubnetIds,
          securityGroupIds: [sg.id],
          tags: { Name: `${props.namePrefix}-${service}` },
        }),
      );
    }
    this.endpoints.push(
      new VpcEndpoint(this, "endpoint-s3", {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${props.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: privateRouteTables.map((t) => t.id),
        tags: { Name: `${props.namePrefix}-s3` },
      }),
    );
    this.egressPath.push(...this.endpoints);
  }
}
