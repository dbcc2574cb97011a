import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { TARGET_HEALTH_CHECK } from "../managed/release-model";
import { AccessLogs } from "./access-logs";

export interface LoadBalancerProps {
  /** `<app>-<env>`, at most 32 characters (the load balancer name). */
  readonly name: string;
  readonly vpcId: string;
  /** Public subnets in at least two zones. */
  readonly subnetIds: readonly string[];
  /** The instances' port, the target group's port. */
  readonly appPort: number;
  readonly healthCheckPath: string;
  /**
   * HTTP codes that count as healthy.
   * @default "200"
   */
  readonly healthCheckMatcher?: string;
  /**
   * Seconds over which a new target's share of requests ramps up (30-900), or 0 for none.
   * @default 0
   */
  readonly slowStartSeconds?: number;
  /** With a certificate: HTTPS on 443 and a redirect on 80; without: plain HTTP on 80. */
  readonly certificateArn?: string;
  /** Refuse deletion through the API (production); also keeps the access-log bucket on destroy. */
  readonly deletionProtection: boolean;
  readonly region: string;
  readonly accountId: string;
  /** Days the access logs are kept. */
  readonly logRetentionDays: number;
}

/** TLS 1.3 and 1.2 only, the current ELB recommendation. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** The public entry: an Application Load Balancer, its security group, listeners, target group and access logs. */
export class LoadBalancer extends Construct {
  public readonly lb: Lb;
  public readonly accessLogs: AccessLogs;
  public readonly securityGroup: SecurityGroup;
  public readonly targetGroup: LbTargetGroup;
  public readonly listeners: LbListener[];

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { name } = props;
    this.securityGroup = new SecurityGroup(this, "sg", {
      namePrefix: `${name}-alb-`,
      description: `Load balancer of ${name}: HTTP(S) from anywhere`,
      vpcId: props.vpcId,
      tags: { Name: `${name}-alb` },
      lifecycle: { createBeforeDestroy: true },
    });
    const ports = props.certificateArn ? [80, 443] : [80];
    for (const port of ports) {
      new VpcSecurityGroupIngressRule(this, `ingress-${port}`, {
        securityGroupId: this.securityGroup.id,
        description:
          port === 443 ? "HTTPS from anywhere" : props.certificateArn ? "HTTP from anywhere, redirected to HTTPS" : "HTTP from anywhere",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      });
    }

    this.accessLogs = new AccessLogs(this, "access-logs", {
      namePrefix: name,
      region: props.region,
      accountId: props.accountId,
      retentionDays: props.logRetentionDays,
      forceDestroy: !props.deletionProtection,
    });
    this.lb = new Lb(this, "alb", {
      name,
      loadBalancerType: "application",
      internal: false,
      securityGroups: [this.securityGroup.id],
      subnets: [...props.subnetIds],
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: props.deletionProtection,
      idleTimeout: 60,
      accessLogs: { bucket: this.accessLogs.bucket.id, enabled: true },
      dependsOn: [this.accessLogs.policy],
      // Deletion protection stops DeleteLoadBalancer; prevent_destroy stops `terraform destroy` at
      // the plan, before it removes anything else of the environment.
      lifecycle: { preventDestroy: props.deletionProtection },
    });

    this.targetGroup = new LbTargetGroup(this, "targets", {
      // name_prefix is limited to 6 characters; a new group is created before the old one goes.
      namePrefix: targetGroupPrefix(name),
      port: props.appPort,
      protocol: "HTTP",
      targetType: "instance",
      vpcId: props.vpcId,
      // Requests in flight get 30 s to finish before a target leaves (ELB User Guide,
      // load-balancer-target-groups.html, "Deregistration delay"); the app finishes them on SIGTERM too.
      deregistrationDelay: "30",
      slowStart: props.slowStartSeconds ?? 0,
      healthCheck: {
        enabled: true,
        path: props.healthCheckPath,
        port: "traffic-port",
        protocol: "HTTP",
        matcher: props.healthCheckMatcher ?? "200",
        interval: TARGET_HEALTH_CHECK.intervalSeconds,
        timeout: 5,
        healthyThreshold: TARGET_HEALTH_CHECK.healthyThreshold,
        unhealthyThreshold: TARGET_HEALTH_CHECK.unhealthyThreshold,
      },
      lifecycle: { createBeforeDestroy: true },
    });

    const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
    if (props.certificateArn) {
      this.listeners = [
        new LbListener(this, "https", {
          loadBalancerArn: this.lb.arn,
          port: 443,
          protocol: "HTTPS",
          sslPolicy: TLS_POLICY,
          certificateArn: props.certificateArn,
          defaultAction: forward,
        }),
        new LbListener(this, "http-redirect", {
          loadBalancerArn: this.lb.arn,
          port: 80,
          protocol: "HTTP",
          defaultAction: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
        }),
      ];
    } else {
      this.listeners = [new LbListener(this, "http", { loadBalancerArn: this.lb.arn, port: 80, protocol: "HTTP", defaultAction: forward })];
    }
  }
}

/** At most 6 characters, from the name, not ending in a hyphen (the provider appends a random suffix). */
export function targetGroupPrefix(name: string): string {
  return name.slice(0, 6).replace(/-+$/, "");
}
